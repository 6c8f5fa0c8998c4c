import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RegionCell } from '../src/plan/region.ts';
import { freePort, getJson, startAgent, startServer, writeSecret } from './agents-kit.ts';
import { clusterBackends, clusterServerHead } from './cluster-kit.ts';
import { waitFor } from './wait.ts';

const IDS = ['s1', 's2'];
// Region r1's agents talk to s1 only, r2's to s2 only: no server receives a round of the other region's agents.
const AGENTS = [
  { name: 'r1a', region: 'r1', server: 's1' }, { name: 'r1b', region: 'r1', server: 's1' },
  { name: 'r2a', region: 'r2', server: 's2' }, { name: 'r2b', region: 'r2', server: 's2' },
];
const PAIRS = [['r1', 'r1'], ['r1', 'r2'], ['r2', 'r1'], ['r2', 'r2']] as const;
// Waits that include process starts: a cold start takes 10–30 s on the loaded machine.
const START_MS = 180_000;

type Cell = Omit<RegionCell, 'agents'>;
interface Matrix { time: number; probe: string; regions: string[]; cells: Cell[] }
interface Pair { time: number; cell: RegionCell; targets: RegionCell[]; series: { target: string; agent: string }[] }

/** A pair's answer without its time, each agent's targets sorted (rounds are pooled in arrival order, which differs per server). */
function sameOrder(p: Pair): Omit<Pair, 'time'> {
  const cell = (c: RegionCell): RegionCell => ({ ...c, agents: c.agents.map((a) => ({ ...a, targets: [...a.targets].sort() })) });
  return { cell: cell(p.cell), targets: p.targets.map(cell), series: [...p.series].sort((a, b) => `${a.target} ${a.agent}`.localeCompare(`${b.target} ${b.agent}`)) };
}

/**
 * Issue 18 (several servers must show the same thing): two servers on one VictoriaMetrics and
 * one PostgreSQL, agents of region r1 connected to s1 only and agents of r2 to s2 only, one
 * mesh group probing by ICMP (loopback: medians vary round to round) and one by TCP toward a
 * port nobody listens on (every round lost: the same figures at every round). Checked: s1's
 * region matrix shows the cells measured by s2's agents and s2's those of s1's agents, with
 * both regions' agents counted; both servers answer the same matrix and the same pair details
 * (every field for the TCP group, whose figures do not change; for ICMP the cells, their
 * verdicts and agent counts, and the series behind each pair). Before the fix each server
 * showed only the rows of its own agents' region.
 */
test('cluster regions: every server shows the same region matrix, built from the rounds of every server\'s agents', { timeout: 600_000 }, async (t) => {
  const { dir, vm, pg, procs } = await clusterBackends(t, 'sm-cluster-regions-');
  const secrets = Object.fromEntries(AGENTS.map((a) => [a.name, writeSecret(dir, a.name)]));
  // Nothing listens there: every TCP round is refused at once, on every agent.
  const closed = await freePort();
  const servers = await Promise.all(IDS.map(async (id) => {
    const port = await freePort();
    const dataDir = join(dir, `data-${id}`);
    mkdirSync(dataDir);
    const file = join(dir, `${id}.yaml`);
    writeFileSync(file, `${clusterServerHead({ id, port, dataDir, step: 3, pings: 2, vmUrl: vm.url, pgUrl: pg.url, deadAfterS: 10 })}agents:
${AGENTS.map((a) => `  - { name: ${a.name}, secret_file: ${secrets[a.name]}, heartbeat: 1 }`).join('\n')}
targets:
  server_probes: false
mesh:
  - name: Mesh
    probe: icmp
    address: public
    self_region: true
    include_server: false
  - name: Closed
    probe: tcp
    port: ${closed}
    timeout: 2000
    address: public
    self_region: true
    include_server: false
`);
    return { id, url: `http://127.0.0.1:${port}`, file };
  }));
  for (const s of servers) procs.push(await startServer(s.file, { timeoutMs: START_MS }));
  await waitFor('both servers to see each other', async () => (await Promise.all(servers.map((s) => getJson<{ live: string[] }>(`${s.url}/api/v1/cluster`))))
    .every((x) => x.live.join() === IDS.join()), START_MS);

  for (const [i, a] of AGENTS.entries()) {
    procs.push(startAgent({
      server: servers.find((s) => s.id === a.server)!.url, name: a.name, secretFile: secrets[a.name]!, spool: join(dir, `spool-${a.name}`),
      extra: ['--region', a.region, '--public-address', `127.0.0.${10 + i}`, '--log-level', 'info'],
    }));
  }

  const [s1, s2] = servers as [typeof servers[0], typeof servers[0]];
  const matrix = async (s: typeof s1, probe: string) => getJson<Matrix>(`${s.url}/api/v1/regions/matrix?probe=${probe}`);
  const pair = async (s: typeof s1, probe: string, source: string, target: string) => getJson<Pair>(`${s.url}/api/v1/regions/pair?${new URLSearchParams({ probe, source, target })}`);
  const cellOf = (m: Matrix, source: string, target: string) => m.cells.find((c) => c.source_region === source && c.target_region === target);
  const t0 = Date.now();

  // s1 receives no round of r2's agents, yet shows r2's rows with both r2 agents counted (and s2 r1's rows).
  await waitFor('each server to show the cells measured by the other server\'s agents', async () => {
    for (const [s, other] of [[s1, 'r2'], [s2, 'r1']] as const) {
      for (const probe of ['icmp', 'tcp']) {
        const m = await matrix(s, probe);
        for (const target of ['r1', 'r2']) assert.equal(cellOf(m, other, target)?.agents_total, 2, `${s.id} ${probe} ${other} → ${target}: ${JSON.stringify(m.cells)}`);
      }
    }
    return true;
  }, START_MS, 500);
  const shown = Date.now() - t0;

  // Both servers answer the same: the matrices and each pair in detail.
  await waitFor('both servers to answer the same matrix and pair details', async () => {
    const [tcp1, tcp2] = await Promise.all([matrix(s1, 'tcp'), matrix(s2, 'tcp')]);
    assert.deepEqual(tcp1.cells, tcp2.cells, 'the TCP matrix: every field of every cell');
    assert.deepEqual(tcp1.regions, ['r1', 'r2']);
    for (const [source, target] of PAIRS) {
      const c = cellOf(tcp1, source, target);
      assert.deepEqual([c?.status, c?.agents_total, c?.agents_ok, c?.loss_pct, c?.median], ['down', 2, 0, 100, null], `tcp ${source} → ${target}`);
    }
    const [icmp1, icmp2] = await Promise.all([matrix(s1, 'icmp'), matrix(s2, 'icmp')]);
    const shape = (m: Matrix) => m.cells.map((c) => [c.source_region, c.target_region, c.status, c.agents_total, c.agents_ok, c.loss_pct, c.median === null]);
    assert.deepEqual(shape(icmp1), shape(icmp2), 'the ICMP matrix: the same cells, verdicts, agent counts and loss');
    assert.deepEqual(shape(icmp1), PAIRS.map(([s, d]) => [s, d, 'ok', 2, 2, 0, false]));
    for (const [source, target] of PAIRS) {
      const [p1, p2] = await Promise.all([pair(s1, 'tcp', source, target), pair(s2, 'tcp', source, target)]);
      assert.deepEqual(sameOrder(p1), sameOrder(p2), `tcp pair ${source} → ${target}`);
      const [i1, i2] = await Promise.all([pair(s1, 'icmp', source, target), pair(s2, 'icmp', source, target)]);
      assert.deepEqual(sameOrder(i1).series, sameOrder(i2).series, `icmp pair ${source} → ${target}: the same series`);
      assert.deepEqual(i1.cell.agents.map((a) => a.agent), AGENTS.filter((a) => a.region === source).map((a) => a.name), `icmp pair ${source} → ${target}: both agents of ${source}`);
    }
    return true;
  }, START_MS, 500);
  t.diagnostic(`the other server's agents shown after ${(shown / 1000).toFixed(1)} s (agents' first rounds included); the same answers after ${((Date.now() - t0) / 1000).toFixed(1)} s`);
});
