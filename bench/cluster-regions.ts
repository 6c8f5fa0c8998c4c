// What the cluster-wide region view costs a server (src/plan/latest-rounds.ts, docs/scale.md):
// the heap held for the latest round of every series of the cluster, and the CPU of taking
// other servers' rows from the shared series index (JSON.parse of each row's latest round and
// LatestRounds.add, in pages of 5,000 rows as the index sync merges them), then one region
// aggregation over all of them (what a matrix request recomputes at most once per interval).
// Usage: node --expose-gc --import tsx bench/cluster-regions.ts [series=100000] [pings=20]
import { aggregateRegions } from '../src/plan/region.ts';
import { LatestRounds } from '../src/plan/latest-rounds.ts';
import type { Round } from '../src/probes/round.ts';
import { load, rng, syntheticRound } from './store-common.ts';

const seriesCount = Number(process.argv[2] ?? 100_000);
const pings = Number(process.argv[3] ?? 20);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc');
const AGENTS = 500;
const REGIONS = 20;
const now = Date.now();
const rand = rng(1);
console.log(`load average at start: ${load()}`);

// The shared table's rows as a pull reads them: the latest round of each series as JSON.
const rows: string[] = [];
for (let i = 0; i < seriesCount; i++) {
  const agent = `agent-${i % AGENTS}`;
  const target = `/Mesh/region-${Math.floor(i / AGENTS) % REGIONS}/t${Math.floor(i / AGENTS)}`;
  rows.push(JSON.stringify({ ...syntheticRound(rand, target, now - 10_000, 60, pings, 20), agent }));
}
const agents = new Map(Array.from({ length: AGENTS }, (_, i) => [`agent-${i}`, `region-${i % REGIONS}`]));

gc();
const heap0 = process.memoryUsage().heapUsed;
const latest = new LatestRounds();
const cpu0 = process.cpuUsage();
const t0 = performance.now();
for (let i = 0; i < rows.length; i += 5000) latest.add(rows.slice(i, i + 5000).map((r) => JSON.parse(r) as Round), now);
const wall = performance.now() - t0;
const cpu = process.cpuUsage(cpu0);
gc();
const held = process.memoryUsage().heapUsed - heap0;

const a0 = performance.now();
const snap = aggregateRegions({ rounds: latest.values(), agents, targetRegion: (t) => t.split('/')[2], now, withTargets: () => false });
const agg = performance.now() - a0;

console.log(`${latest.size} series, ${pings} pings a round (JSON row ${Math.round(rows.reduce((n, r) => n + r.length, 0) / rows.length)} chars)`);
console.log(`heap held: ${(held / 2 ** 20).toFixed(1)} MiB, ${Math.round(held / latest.size)} bytes a series`);
console.log(`rows taken (parse + add): ${wall.toFixed(0)} ms wall, ${((cpu.user + cpu.system) / 1000).toFixed(0)} ms CPU, ${((cpu.user + cpu.system) / latest.size).toFixed(2)} µs CPU a row`);
console.log(`one aggregation over them: ${agg.toFixed(0)} ms (${snap.pairs.length} region pairs)`);
console.log(`load average at end: ${load()}`);
