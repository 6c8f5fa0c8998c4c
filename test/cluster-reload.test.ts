import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { seriesKey, seriesOwner } from '../src/cluster/hrw.ts';
import { freePort, getJson, startServer, type Proc } from './agents-kit.ts';
import { clusterBackends, clusterServerHead } from './cluster-kit.ts';
import { waitFor } from './wait.ts';

const IDS = ['s1', 's2'];
const START_MS = 120_000;

interface ClusterStatus { server_id: string; live: string[]; rounds: { evaluated: number }; held_keys?: { target: string; agent: string }[] }

/**
 * A config reload on the servers of a cluster (SIGHUP on one, the reload API on the other)
 * keeps their membership (no server leaves or re-joins the live set) and their ownership
 * consistent: after a reload that adds a target and turns another's alert into a quorum alert
 * (its agents' series then count as one key), every key is held by exactly one server, its
 * owner by the live set; a changed cluster section is logged and waits for a restart.
 */
test('cluster reload: membership stays, every series (re-keyed by the new alerts) has one evaluator, its owner', { timeout: 600_000 }, async (t) => {
  const { dir, vm, pg, procs } = await clusterBackends(t, 'sm-cluster-reload-');
  const ok: Server = createServer((s) => s.destroy());
  await new Promise<void>((r) => ok.listen(0, '127.0.0.1', r));
  t.after(() => ok.close());
  const okPort = (ok.address() as { port: number }).port;
  // dead_after_s long: on a loaded machine a heartbeat can be late by seconds; here only the reload is judged.
  const yaml = (id: string, port: number, dataDir: string, o: { extra?: boolean; heartbeat?: number } = {}) => `${clusterServerHead({ id, port, dataDir, step: 2, pings: 2, vmUrl: vm.url, pgUrl: pg.url, heartbeatS: o.heartbeat ?? 1, deadAfterS: 60 })}alerts:
  lossy:
    type: loss
    pattern: ">50%,>50%"
    edgetrigger: yes
  most:
    type: loss
    pattern: ">50%"
    quorum: { agents: 2 }
probes:
  tcpx: { type: tcp, port: ${okPort}, timeout: 500 }
targets:
  probe: tcpx
  children:
    a: { host: 127.0.0.1, alerts: [lossy] }
    b: { host: 127.0.0.1, alerts: [${o.extra ? 'most' : 'lossy'}] }
${o.extra ? '    c: { host: 127.0.0.1, alerts: [lossy] }\n' : ''}`;
  const servers = await Promise.all(IDS.map(async (id) => {
    const port = await freePort();
    const dataDir = join(dir, `data-${id}`);
    mkdirSync(dataDir);
    const file = join(dir, `${id}.yaml`);
    writeFileSync(file, yaml(id, port, dataDir));
    return { id, port, dataDir, file, url: `http://127.0.0.1:${port}`, proc: undefined as Proc | undefined };
  }));
  for (const s of servers) {
    s.proc = await startServer(s.file, { timeoutMs: START_MS });
    procs.push(s.proc);
  }
  const status = () => Promise.all(servers.map((s) => getJson<ClusterStatus>(`${s.url}/api/v1/cluster?keys=1000`)));
  /** Keys held per server, and whether every expected key is held once, by its owner. */
  const consistent = async (expected: string[]) => {
    const st = await status();
    if (!st.every((x) => x.live.join() === IDS.join())) return false;
    const holders = new Map<string, string[]>();
    for (const x of st) for (const k of x.held_keys!) holders.set(`${k.target}|${k.agent}`, [...(holders.get(`${k.target}|${k.agent}`) ?? []), x.server_id]);
    return [...holders.keys()].sort().join() === [...expected].sort().join()
      && expected.every((k) => {
        const [target, agent] = k.split('|') as [string, string];
        return holders.get(k)!.join() === seriesOwner(seriesKey(target, agent), IDS);
      });
  };
  const agents = IDS.map((id) => `srv-${id}`);
  const before = ['/a', '/b'].flatMap((target) => agents.map((a) => `${target}|${a}`));
  await waitFor('both servers live, each series held once, by its owner', () => consistent(before), START_MS);
  // Log lines from here on: what the reload did.
  const seen = servers.map((s) => s.proc!.lines().length);
  const since = (i: number) => servers[i]!.proc!.lines().slice(seen[i]);

  // New alerts in both files; s1's file also changes its cluster section (waits for a restart).
  writeFileSync(servers[0]!.file, yaml('s1', servers[0]!.port, servers[0]!.dataDir, { extra: true, heartbeat: 3 }));
  writeFileSync(servers[1]!.file, yaml('s2', servers[1]!.port, servers[1]!.dataDir, { extra: true }));
  servers[0]!.proc!.child.kill('SIGHUP');
  const token = readFileSync(join(servers[1]!.dataDir, 'admin.token'), 'utf8').trim();
  const res = await fetch(`${servers[1]!.url}/api/v1/reload`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
  assert.equal(res.status, 200, await res.text());
  await waitFor('s1 reloaded', () => servers[0]!.proc!.lines().some((l) => l.msg === 'config reloaded'), 60_000);

  // /b is one key now (agent "*"), /c's series are new keys.
  const after = ['/a|srv-s1', '/a|srv-s2', '/b|*', '/c|srv-s1', '/c|srv-s2'];
  await waitFor('after the reloads: each key held once, by its owner', () => consistent(after), 60_000)
    .catch(async () => assert.fail(`held: ${JSON.stringify((await status()).map((x) => [x.server_id, x.live, x.held_keys]))}`));
  const evaluated = (await status()).map((x) => x.rounds.evaluated);
  await waitFor('rounds still evaluated on both', async () => (await status()).every((x, i) => x.rounds.evaluated > evaluated[i]!), 60_000);
  assert.ok(await consistent(after), 'still consistent a few rounds later');
  // Nobody left or re-joined the live set, and the changed section was reported, not applied.
  const msgs = (i: number) => since(i).map((l) => String(l.msg));
  for (const i of [0, 1]) {
    assert.deepEqual(msgs(i).filter((m) => m.startsWith('cluster: joined') || m === 'cluster membership changed'), [], `${IDS[i]}: nobody left or joined the live set`);
    assert.ok(msgs(i).includes('cluster membership checked after a reload'), `${IDS[i]}: ownership checked again`);
  }
  const differs = (i: number) => msgs(i).some((m) => m.startsWith('cluster: the cluster section of the reloaded file differs'));
  assert.ok(differs(0), 's1 reports its changed section');
  assert.ok(!differs(1), 's2\'s section did not change');
  const st = await getJson<{ live: string[] }>(`${servers[0]!.url}/api/v1/cluster`);
  assert.deepEqual(st.live, IDS);

  // Every server lists every series (the shared series index, docs/scale.md): each stored only
  // its own built-in agent's rounds, yet both list both agents' latest rounds, with the values
  // the receiving server stored.
  type Latest = { rounds: { target: string; agent: string; time: number; median: number | null; sent: number; loss: number }[] };
  const latest = await waitFor('each server lists both agents\' latest rounds', async () => {
    const all = await Promise.all(servers.map((s) => getJson<Latest>(`${s.url}/api/v1/latest?prefix=/a`)));
    return all.every((l) => agents.every((a) => l.rounds.some((r) => r.agent === a))) ? all : undefined;
  }, 60_000);
  for (const [i, s] of servers.entries()) {
    const other = agents[1 - i]!;
    const r = latest[i]!.rounds.find((x) => x.agent === other)!;
    // The receiver acknowledged the round into its outbox; VictoriaMetrics shows it once sent and flushed (about a second).
    const p = await waitFor(`${s.id}: the round of ${other} it lists is one its receiver stored`, async () => {
      const own = await getJson<{ series: { points: { time: number; median: number | null; sent: number; lost: number }[] }[] }>(
        `${servers[1 - i]!.url}/api/v1/series?target=/a&agent=${other}&from=${r.time}&to=${r.time + 1}`);
      return own.series[0]?.points.find((x) => x.time === r.time);
    }, 30_000);
    assert.deepEqual([p.median, p.sent, p.lost], [r.median, r.sent, r.loss], `${s.id}: same median and loss as the receiving server`);
  }
});
