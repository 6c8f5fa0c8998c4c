import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { DB_FILE } from '../src/store/index.ts';
import { freePort, gapsAndDuplicates, loopbackConfig, spoolBacklog, startAgent, startServer, writeSecret, type Proc } from './agents-kit.ts';
import { waitFor } from './wait.ts';

const STEP_MS = 2000;

/** Round times of one series in a server's SQLite file (the server may be dead or running). */
function roundTimes(dataDir: string, target: string, agent: string): number[] {
  const db = new Database(join(dataDir, DB_FILE), { readonly: true, fileMustExist: true });
  try {
    return (db.prepare('SELECT r.time AS t FROM raw r JOIN series s ON s.id = r.series WHERE s.target = ? AND s.agent = ?').all(target, agent) as { t: number }[]).map((r) => r.t);
  } finally {
    db.close();
  }
}

/**
 * Two real servers (the same config, each its own data dir) and one real agent given both URLs.
 * The server the agent talks to is killed with SIGKILL: the agent moves to the other one and
 * sends its spool there. Every round the agent measured is in one of the two stores (no gap
 * across the kill: nothing acknowledged by the dead server was lost, nothing waiting was
 * dropped), and the spool drains.
 */
test('an agent given two servers moves to the second when the first is killed -9, and no round is lost', { timeout: 300_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sm-failover-'));
  const procs: Proc[] = [];
  const listener = createServer((s) => s.destroy());
  await new Promise<void>((r) => listener.listen(0, '127.0.0.1', r));
  t.after(async () => {
    for (const p of procs) await p.stop('SIGKILL');
    listener.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const targetPort = (listener.address() as { port: number }).port;
  const secretFile = writeSecret(dir, 'a1');
  const servers = await Promise.all([0, 1].map(async (i) => {
    const port = await freePort();
    const dataDir = join(dir, `data${i}`);
    mkdirSync(dataDir);
    const file = join(dir, `server${i}.yaml`);
    writeFileSync(file, loopbackConfig({ port, dataDir, targetPort, agents: [{ name: 'a1', secretFile }], serverProbes: false }));
    return { url: `http://127.0.0.1:${port}`, dataDir, file };
  }));
  const [first, second] = [await startServer(servers[0]!.file), await startServer(servers[1]!.file)];
  procs.push(first, second);
  const spool = join(dir, 'spool');
  const agent = startAgent({ server: `${servers[0]!.url},${servers[1]!.url}`, name: 'a1', secretFile, spool });
  procs.push(agent);

  // The first server of the list takes the rounds while it lives.
  await waitFor('rounds stored by the first server', () => roundTimes(servers[0]!.dataDir, '/t1', 'a1').length >= 5, 120_000);
  assert.equal(roundTimes(servers[1]!.dataDir, '/t1', 'a1').length, 0, 'nothing went to the second server yet');

  await first.stop('SIGKILL');
  const killedAt = Date.now();
  await waitFor('the agent to move to the second server', () => agent.lines().some((l) => typeof l.msg === 'string' && l.msg.startsWith(`moved to server ${servers[1]!.url}`)), 60_000);
  await waitFor('rounds after the kill stored by the second server', () => roundTimes(servers[1]!.dataDir, '/t1', 'a1').some((x) => x > killedAt + 3 * STEP_MS), 60_000);
  await waitFor('the spool to drain', () => spoolBacklog(spool) === 0, 60_000);

  const before = roundTimes(servers[0]!.dataDir, '/t1', 'a1');
  const after = roundTimes(servers[1]!.dataDir, '/t1', 'a1');
  const { gaps } = gapsAndDuplicates([...new Set([...before, ...after])], STEP_MS);
  assert.deepEqual(gaps, [], `every round measured is stored by one of the servers (first: ${before.length}, second: ${after.length})`);
  assert.ok(Math.max(...before) < Math.min(...after) + STEP_MS * 10, 'the second server continues where the first stopped');
});
