import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { DB_FILE } from '../../src/store/index.ts';
import { freePort, gapsAndDuplicates, getJson, spoolBacklog, startAgent, startServer, writeSecret, type Proc } from '../agents-kit.ts';
import { waitFor } from '../wait.ts';
import { AckProxy } from './ack-proxy.ts';

// A real full disk under a real server with real agent processes: the data dir is a tmpfs this
// test mounts, then shrinks to what it holds (full), then grows again. Agents push through a
// proxy that records every round the server acknowledged; at the end each of them must be in
// the store exactly once. Needs root (mount); skipped otherwise.
const STEP = 2;
const dir = mkdtempSync(join(tmpdir(), 'sm-full-agents-'));
const data = join(dir, 'data');
let mounted = false;
let server: Proc | undefined;
const agents: Record<string, Proc> = {};
let proxy: AckProxy;
let listener: Server;
let port: number;
let cfgFile: string;

function mount(args: string[]): boolean {
  try {
    execFileSync('mount', args, { stdio: 'pipe' });
    return true;
  } catch {
    return false;
  }
}

/** Shrinks the tmpfs to what it holds now: the next write that needs a new page fails (ENOSPC). */
async function fillDisk(): Promise<void> {
  await waitFor('the tmpfs to shrink to its contents', () => {
    const s = statfsSync(data);
    const used = (s.blocks - s.bfree) * s.bsize;
    return mount(['-o', `remount,size=${Math.ceil(used / 4096) * 4 + 4}k`, data]);
  }, 10_000, 10);
}

const base = () => `http://127.0.0.1:${port}`;
const health = () => getJson<{ store: { unavailable: boolean; write_failures: number } }>(`${base()}/api/v1/health`);

before(async () => {
  mkdirSync(data);
  mounted = mount(['-t', 'tmpfs', '-o', 'size=64m', 'tmpfs', data]);
  if (!mounted) return;
  listener = createServer((s) => s.destroy());
  await new Promise<void>((r) => listener.listen(0, '127.0.0.1', r));
  const targetPort = (listener.address() as { port: number }).port;
  port = await freePort();
  const secrets = { a1: writeSecret(dir, 'a1'), a2: writeSecret(dir, 'a2') };
  cfgFile = join(dir, 'smokemesh.yaml');
  writeFileSync(cfgFile, `general:
  step: ${STEP}
  pings: 3
  listen: 127.0.0.1:${port}
  data_dir: ${data}
  agent_name: srv
agents:
  - { name: a1, secret_file: ${secrets.a1}, heartbeat: 1 }
  - { name: a2, secret_file: ${secrets.a2}, heartbeat: 1 }
probes:
  tcpx: { type: tcp, port: ${targetPort}, timeout: 1000 }
targets:
  probe: tcpx
  children:
    t1: { host: 127.0.0.1, server_probes: false }
    t2: { host: 127.0.0.1, server_probes: false }
    b1: { host: 127.0.0.1, agents: none }
`);
  server = await startServer(cfgFile);
  proxy = new AckProxy(port);
  const proxyPort = await proxy.listen();
  for (const [name, secretFile] of Object.entries(secrets)) {
    agents[name] = startAgent({ server: `http://127.0.0.1:${proxyPort}`, name, secretFile, spool: join(dir, `spool-${name}`) });
  }
});

after(async () => {
  for (const a of Object.values(agents)) await a.stop('SIGKILL');
  await server?.stop('SIGKILL');
  proxy?.close();
  listener?.close();
  if (mounted) try { execFileSync('umount', [data]); } catch { /* busy: left for the OS */ }
  rmSync(dir, { recursive: true, force: true });
});

/** Raw rounds per series (agent|target → times) and rollup counts, read from the store file. */
function stored(): { times: Map<string, number[]>; rollup: Map<string, number>; integrity: string } {
  const db = new Database(join(data, DB_FILE), { readonly: true });
  try {
    const times = new Map<string, number[]>();
    for (const r of db.prepare('SELECT s.agent, s.target, r.time FROM raw r JOIN series s ON s.id = r.series ORDER BY r.time').all() as { agent: string; target: string; time: number }[]) {
      const k = `${r.agent}|${r.target}`;
      if (!times.has(k)) times.set(k, []);
      times.get(k)!.push(r.time);
    }
    const rollup = new Map<string, number>();
    for (const r of db.prepare('SELECT s.agent, s.target, sum(b.rounds) AS n FROM rollup_300 b JOIN series s ON s.id = b.series GROUP BY s.id').all() as { agent: string; target: string; n: number }[]) {
      rollup.set(`${r.agent}|${r.target}`, r.n);
    }
    return { times, rollup, integrity: db.pragma('integrity_check', { simple: true }) as string };
  } finally {
    db.close();
  }
}

test('disk full, kill -9 of the server during it, restart, space back: every acknowledged round is stored exactly once', { timeout: 300_000 }, async (t) => {
  if (!mounted) return t.skip('cannot mount a tmpfs here (needs root)');
  await waitFor('rounds of both agents acknowledged', () => ['a1', 'a2'].every((a) => [...proxy.acknowledged].some((k) => k.startsWith(`${a}|`))), 60_000);

  await fillDisk();
  await waitFor('the store to report it cannot commit', async () => (await health()).store.unavailable, 60_000);
  await waitFor('an agent push answered 503', () => proxy.pushStatuses.includes(503), 60_000);
  const ackedAtFault = proxy.acknowledged.size;
  await waitFor('rounds waiting in both spools', () => spoolBacklog(join(dir, 'spool-a1')) >= 3 && spoolBacklog(join(dir, 'spool-a2')) >= 3, 60_000);

  await server!.stop('SIGKILL');
  server = await startServer(cfgFile);
  const restartedFull = (await health()).store;
  await waitFor('503 again after the restart', async () => proxy.pushStatuses.lastIndexOf(503) > proxy.pushStatuses.lastIndexOf(502), 60_000);

  assert.ok(mount(['-o', 'remount,size=64m', data]), 'space comes back');
  const backAt = Date.now();
  for (const name of ['a1', 'a2']) {
    await waitFor(`${name}: its spool drained and fresh rounds acknowledged`, () =>
      spoolBacklog(join(dir, `spool-${name}`)) <= 2 && [...proxy.acknowledged].some((k) => k.startsWith(`${name}|`) && Number(k.split('|')[2]) > backAt + STEP * 1000), 120_000);
  }
  // Let the pushes in flight finish, then compare what the agents were told with what the file holds.
  for (const a of Object.values(agents)) await a.stop('SIGTERM');
  const { times, rollup, integrity } = stored();
  assert.equal(integrity, 'ok');
  const missing = [...proxy.acknowledged].filter((k) => {
    const [agent, target, time] = k.split('|');
    return !times.get(`${agent}|${target}`)?.includes(Number(time));
  });
  console.log(`acknowledged ${proxy.acknowledged.size} rounds (${ackedAtFault} before the disk filled); missing ${missing.length}; store on restart during the fault: ${JSON.stringify(restartedFull)}; push statuses: ${JSON.stringify(countOf(proxy.pushStatuses))}`);
  assert.deepEqual(missing, [], 'acknowledged rounds missing from the store');
  for (const [series, ts] of times) {
    assert.equal(new Set(ts).size, ts.length, `${series}: a round stored twice`);
    assert.equal(rollup.get(series), ts.length, `${series}: the rollup counts ${rollup.get(series)} rounds, raw holds ${ts.length}`);
    if (series.startsWith('a')) {
      const { duplicates, gaps } = gapsAndDuplicates(ts, STEP * 1000);
      assert.equal(duplicates, 0);
      assert.deepEqual(gaps, [], `${series}: rounds missing after ${gaps.map((g) => new Date(g).toISOString())}`);
    }
  }
  assert.ok(times.get('srv|/b1')?.length, 'the built-in agent stored rounds');
  for (const name of ['a1', 'a2']) {
    // Once per outage, not per push: the 503s before the kill, and again after the restart (the 502s between are another failure).
    const logged = agents[name]!.lines().filter((l) => /the server cannot store rounds right now \(SMOKEMESH_E_UNAVAILABLE\)/.test(String(l.msg))).length;
    assert.ok(logged >= 1 && logged <= 2, `${name} logged the 503 ${logged} times`);
  }
  assert.ok(server!.lines().some((l) => /SMOKEMESH_E_UNAVAILABLE: .*smokemesh\.db: cannot commit/.test(String(l.msg))), 'the server logged why');
});

/** The built-in agent's outbox backlog as /metrics shows it (disk and memory). */
async function builtinBacklog(): Promise<number> {
  const text = await (await fetch(`${base()}/metrics`)).text();
  return Number(/^smokemesh_agent_spool_backlog_rounds\{agent="srv"\} (\d+)$/m.exec(text)?.[1] ?? NaN);
}

/** No round of the built-in agent's series missing or doubled in [from, to]. */
function assertNoGap(from: number, to = Infinity): void {
  const ts = (stored().times.get('srv|/b1') ?? []).filter((x) => x >= from && x <= to);
  const { duplicates, gaps } = gapsAndDuplicates(ts, STEP * 1000);
  assert.equal(duplicates, 0);
  assert.deepEqual(gaps, [], `built-in agent: rounds missing after ${gaps.map((g) => new Date(g).toISOString())}`);
}

test('disk full: the built-in agent holds its rounds (its outbox is on the full disk too) and stores them once space is back', { timeout: 300_000 }, async (t) => {
  if (!mounted) return t.skip('cannot mount a tmpfs here (needs root)');
  const from = Date.now();
  const linesBefore = server!.lines().length;
  await fillDisk();
  await waitFor('the store to report it cannot commit', async () => (await health()).store.unavailable, 60_000);
  await waitFor('rounds of the built-in agent waiting (/metrics)', async () => (await builtinBacklog()) >= 3, 60_000);
  assert.ok(mount(['-o', 'remount,size=64m', data]), 'space comes back');
  const backAt = Date.now();
  await waitFor('the built-in agent to catch up', async () => (await builtinBacklog()) === 0 && (stored().times.get('srv|/b1') ?? []).some((x) => x > backAt + STEP * 1000), 120_000);
  assertNoGap(from);
  const lines = server!.lines().slice(linesBefore);
  // Where the waiting rounds sat depends on whether SQLite found room in the outbox's WAL it had
  // already grown (then on disk) or not (then in memory, said once); either way none is lost.
  const inMemory = lines.some((l) => /outbox: cannot write the spool/.test(String(l.msg)));
  t.diagnostic(`the built-in agent's rounds waited ${inMemory ? 'in memory (the outbox could not write its spool)' : 'in its outbox file (room left in its WAL)'}`);
  assert.ok(lines.some((l) => /the store cannot commit: SMOKEMESH_E_UNAVAILABLE/.test(String(l.msg))), 'the built-in agent said why its rounds wait');
});

test('a locked store, kill -9, restart: the built-in agent\'s rounds wait in its durable outbox and are stored after the restart', { timeout: 300_000 }, async (t) => {
  if (!mounted) return t.skip('cannot mount a tmpfs here (needs root)');
  const from = Date.now();
  const lock = new Database(join(data, DB_FILE));
  lock.exec('BEGIN EXCLUSIVE');
  const outboxTimes = () => {
    const db = new Database(join(data, 'outbox', 'outbox.sqlite'), { readonly: true, fileMustExist: true });
    try { return (db.prepare('SELECT time FROM outbox').all() as { time: number }[]).map((r) => r.time); } finally { db.close(); }
  };
  const outbox = () => outboxTimes().length;
  let killedAt = 0;
  try {
    await waitFor('the store to report it cannot commit', async () => (await health()).store.unavailable, 60_000);
    await waitFor('rounds in the built-in agent\'s outbox file', () => outbox() >= 3, 60_000);
    await server!.stop('SIGKILL');
    killedAt = Date.now();
  } finally {
    lock.exec('COMMIT');
    lock.close();
  }
  const waiting = outboxTimes();
  const inOutbox = waiting.length;
  server = await startServer(cfgFile);
  assert.ok(server.lines().some((l) => l.msg === 'outbox has rounds from before; they will be stored' && Number(l.backlog) >= inOutbox));
  await waitFor('the outbox to drain after the restart', async () => outbox() === 0 && (await builtinBacklog()) === 0, 120_000);
  const after = stored().times.get('srv|/b1') ?? [];
  assert.deepEqual(waiting.filter((x) => !after.includes(x)), [], 'rounds of the outbox missing from the store after the restart');
  // Nothing is missing while the store was locked (the server was down from the kill to the restart: no rounds then).
  assertNoGap(from, killedAt - STEP * 1000);
});

function countOf(xs: number[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const x of xs) out[x] = (out[x] ?? 0) + 1;
  return out;
}
