// Mesh at scale: 200 simulated agents in 20 regions, real planner / aggregation / exposition code.
// Prints plan time after a join, region aggregation time per step, /metrics render time and size,
// and the same per-series gauges through prom-client for comparison. No network traffic.
// Run: node --import tsx bench/mesh-scale.ts
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import client from 'prom-client';
import { parseConfig } from '../src/config/loader.ts';
import { LiveMesh } from '../src/plan/live.ts';
import type { AgentInfo } from '../src/plan/agent-info.ts';
import { planFor } from '../src/plan/plan.ts';
import { aggregateRegions } from '../src/plan/region.ts';
import { makeRound, type Round } from '../src/probes/round.ts';
import { ExportState } from '../src/export/state.ts';
import { renderMetrics } from '../src/export/metrics.ts';
import { probedTargets } from '../src/config/tree.ts';

const REGIONS = 20;
const PER_REGION = 10;
const SHARDED = Number(process.argv[2] ?? 2000);

const config = parseConfig(`
general: { step: 60, pings: 20 }
targets:
  server_probes: false
  children:
    Big:
      shard: per_region
      labels: { region: external }
      children:
${SHARDED === 0 ? '        none: { host: 198.19.255.1, agents: none }' : ''}
${Array.from({ length: SHARDED }, (_, i) => `        t${i}: { host: "198.18.${i >> 8}.${i & 255}" }`).join('\n')}
mesh:
  - name: Mesh
    probe: icmp
    include_server: false
`, 'bench.yaml');

const members: AgentInfo[] = [];
for (let r = 0; r < REGIONS; r++) for (let i = 0; i < PER_REGION; i++) {
  members.push({ name: `r${r}-a${i}`, region: `region-${r}`, labels: {}, builtin: false, alive: true, addresses: [], intranet_address: `10.200.${r}.${i + 1}` });
}
const current = [...members];
const live = new LiveMesh(() => current);
live.sync(config);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}
const ms = (x: number) => `${x.toFixed(1)} ms`;
/** CPU ms of this process spent in fn (user + system): less distorted by other load than wall time. */
function cpu(fn: () => void): number {
  const c0 = process.cpuUsage();
  fn();
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1000;
}

// Plan computation after a join: tree rebuild (LiveMesh.sync) + every agent's plan, as the registry's replan does.
const joinTimes: number[] = [];
const treeTimes: number[] = [];
let plans = 0;
let assignments = 0;
for (let k = 0; k < 5; k++) {
  current.push({ name: `joiner-${k}`, region: `region-${k % REGIONS}`, labels: {}, builtin: false, alive: true, addresses: [], intranet_address: `10.201.0.${k + 1}` });
  const t0 = performance.now();
  live.sync(config);
  const t1 = performance.now();
  const peers = live.peers();
  plans = 0;
  assignments = 0;
  for (const p of peers) {
    const plan = planFor(live.tree(config), p, peers);
    plans++;
    assignments += plan.assignments.length;
  }
  const t2 = performance.now();
  treeTimes.push(t1 - t0);
  joinTimes.push(t2 - t0);
}
const one: number[] = [];
for (let k = 0; k < 20; k++) {
  const peers = live.peers();
  const t0 = performance.now();
  planFor(live.tree(config), peers[k]!, peers);
  one.push(performance.now() - t0);
}
const targetsInTree = probedTargets(live.tree(config)).length;

// Rounds: every agent's latest round of each of its mesh targets, plus its shard of Big.
const peers = live.peers();
const regionOfAgent = new Map(peers.map((p) => [p.name, p.region]));
const tregion = new Map(probedTargets(live.tree(config)).map((t) => [t.path, t.labels.region ?? '']));
const state = new ExportState((a) => regionOfAgent.get(a), (t) => tregion.get(t));
const now = Date.now();
let seed = 1;
const rand = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
let roundCount = 0;
for (const p of peers) {
  const plan = planFor(live.tree(config), p, peers);
  const batch: Round[] = [];
  for (const a of plan.assignments) {
    const base = 5 + rand() * 200;
    const rtts = Array.from({ length: 20 }, () => base + rand() * 3).filter(() => rand() > 0.01);
    batch.push(makeRound({ target: a.target, agent: p.name, probe: 'icmp', time: now - 30_000, step: 60 }, { sent: 20, rtts }));
  }
  roundCount += batch.length;
  state.write(batch);
}

// As the server does per step: region pairs, per-target cells only for HTTP/DNS.
const step = () => aggregateRegions({ rounds: state.latest(), agents: regionOfAgent, targetRegion: (t) => tregion.get(t), now, withTargets: (p) => p === 'http' || p === 'dns' });
const aggTimes: number[] = [];
let snapshot = step();
for (let k = 0; k < 5; k++) {
  const t0 = performance.now();
  snapshot = step();
  aggTimes.push(performance.now() - t0);
}
// Every per-target cell too (what the pair API would need for all pairs at once).
const fullTimes: number[] = [];
let full = snapshot;
for (let k = 0; k < 3; k++) {
  const t0 = performance.now();
  full = aggregateRegions({ rounds: state.latest(), agents: regionOfAgent, targetRegion: (t) => tregion.get(t), now });
  fullTimes.push(performance.now() - t0);
}
// One pair in detail, as GET /api/v1/regions/pair computes it.
const pairTimes: number[] = [];
for (let k = 0; k < 5; k++) {
  const t0 = performance.now();
  const rounds = [...state.latest()].filter((r) => regionOfAgent.get(r.agent) === 'region-1' && tregion.get(r.target) === 'region-2');
  aggregateRegions({ rounds, agents: regionOfAgent, targetRegion: (t) => tregion.get(t), now });
  pairTimes.push(performance.now() - t0);
}

const render = (seriesHistograms: boolean) => renderMetrics({
  state, snapshot, seriesHistograms, probeSelf: false, tasksEnabled: false, hostOf: () => '10.0.0.1',
  agents: peers.map((p) => ({ name: p.name, region: p.region, alive: true, builtin: false, ip: '10.0.0.1', version: '0.1.0', spool_backlog: 0, spool_dropped: 0 })),
  health: { rounds_by_agent: {}, sink_errors: {}, store: { rounds_written: 0, refused: 0, write_failures: 0, unavailable: false, series: 0, file_bytes: 0 } },
});
const scrape = (h: boolean) => {
  const times: number[] = [];
  let bytes = 0;
  for (let k = 0; k < 5; k++) {
    const t0 = performance.now();
    bytes = Buffer.byteLength(render(h));
    times.push(performance.now() - t0);
  }
  return { time: median(times), bytes };
};
const withHist = scrape(true);
const noHist = scrape(false);
const cpuStep = median([0, 1, 2].map(() => cpu(() => { step(); })));
const cpuJoin = median([0, 1, 2].map((k) => cpu(() => {
  current.push({ name: `late-${k}`, region: 'region-3', labels: {}, builtin: false, alive: true, addresses: [], intranet_address: `10.202.0.${k + 1}` });
  live.sync(config);
  const ps = live.peers();
  for (const p of ps) planFor(live.tree(config), p, ps);
})));
const cpuScrape = median([0, 1, 2].map(() => cpu(() => { render(false); })));
const cpuScrapeH = median([0, 1].map(() => cpu(() => { render(true); })));

// prom-client: the same four per-series gauges, set from the same rounds, then rendered.
const registry = new client.Registry();
const names = ['loss_ratio', 'rtt_median_seconds', 'rtt_stddev_seconds', 'last_round_timestamp_seconds'];
const gauges = names.map((n) => new client.Gauge({ name: `pc_series_${n}`, help: n, labelNames: ['target', 'agent', 'probe'], registers: [registry] }));
const pcTimes: number[] = [];
for (let k = 0; k < 3; k++) {
  const t0 = performance.now();
  for (const s of state.series.values()) {
    const l = { target: s.round.target, agent: s.round.agent, probe: s.round.probe };
    gauges[0]!.set(l, s.round.loss / s.round.sent);
    gauges[1]!.set(l, (s.round.median ?? 0) / 1000);
    gauges[2]!.set(l, (s.round.stddev ?? 0) / 1000);
    gauges[3]!.set(l, s.round.time / 1000);
  }
  await registry.metrics();
  pcTimes.push(performance.now() - t0);
}
const directGaugesOnly = (() => {
  const times: number[] = [];
  for (let k = 0; k < 3; k++) {
    const t0 = performance.now();
    render(false);
    times.push(performance.now() - t0);
  }
  return median(times);
})();

console.log(`mesh scale: ${peers.length} agents in ${REGIONS} regions, ${targetsInTree} targets in the tree (${SHARDED} sharded per region), load ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
console.log(`plan after a join: tree rebuild ${ms(median(treeTimes))}, tree + all ${plans} plans ${ms(median(joinTimes))} (${assignments} assignments), one agent's plan ${ms(median(one))}`);
console.log(`region aggregation per step: ${ms(median(aggTimes))} over ${state.series.size} series (${roundCount} rounds) → ${snapshot.pairs.length} region pairs; with all ${full.targets.length} per-target cells ${ms(median(fullTimes))}; one pair in detail ${ms(median(pairTimes))}`);
console.log(`/metrics render: ${ms(withHist.time)} for ${(withHist.bytes / 1e6).toFixed(1)} MB with per-series histograms; ${ms(noHist.time)} for ${(noHist.bytes / 1e6).toFixed(1)} MB without`);
console.log(`CPU time (less sensitive to the shared load): join + all plans ${ms(cpuJoin)}, aggregation step ${ms(cpuStep)}, /metrics ${ms(cpuScrape)} without / ${ms(cpuScrapeH)} with per-series histograms`);
console.log(`per-series gauges, whole page without histograms (direct) ${ms(directGaugesOnly)} vs the four per-series gauges alone through prom-client ${ms(median(pcTimes))}`);
