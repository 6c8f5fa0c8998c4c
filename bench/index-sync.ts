// The shared series index of a cluster (src/cluster/index-sync.ts) and its rebuild from VM.
// Usage: node --import tsx bench/index-sync.ts [series=30000] [rounds-per-series=3] [changed-per-sync=1000]
// Starts Debian's victoria-metrics and a private PostgreSQL on 127.0.0.1, two VM stores A and B
// (each its own data dir, as two servers) with an IndexSync each on that PostgreSQL.
// A receives `rounds` rounds of every series (150 agents × series/150 targets, 20 pings);
// then: A's first sync (its whole index shared), B's first sync (all of it read), then five
// steady syncs where A received one round of `changed` series before each (30,000 series at a
// 60 s step are 1,000 changed series per 2 s heartbeat), and finally a third store on an empty
// data dir rebuilding the index from VictoriaMetrics. Prints wall time and this process' CPU.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import pino from 'pino';
import { IndexSync } from '../src/cluster/index-sync.ts';
import { ClusterDb } from '../src/cluster/postgres.ts';
import { VmStore } from '../src/store/index.ts';
import { startPostgres } from '../test/postgres.ts';
import { startVictoria } from '../test/victoria.ts';
import { load, rng, syntheticRound } from './store-common.ts';

const seriesCount = Number(process.argv[2] ?? 30_000);
const perSeries = Number(process.argv[3] ?? 3);
const changed = Number(process.argv[4] ?? 1000);
const AGENTS = 150;
const [vm, pgs] = await Promise.all([startVictoria(), startPostgres()]);
const dirs: string[] = [];
const now = Date.now();
const cfg = {
  raw_days: 14, synchronous: 'full' as const, max_pending: 10_000_000, backend: 'victoriametrics' as const, url: vm.url,
  tiers: [{ bucket: 300, keep_days: 90 }, { bucket: 3600, keep_days: 730 }, { bucket: 86400, keep_days: 3650 }],
};
const open = () => {
  const d = mkdtempSync(join(tmpdir(), 'smokemesh-bench-index-'));
  dirs.push(d);
  return new VmStore(d, cfg, { timers: false, now: () => now, log: { info: (m) => console.log(`  log: ${m}`), warn: console.warn, error: console.error } });
};
const log = pino({ level: 'warn' });
const rand = rng(9);
const a = open();
const b = open();
const dbA = new ClusterDb(pgs.url);
const dbB = new ClusterDb(pgs.url);
await dbA.init();
const syncA = new IndexSync({ db: dbA, store: a, server: 'a', intervalMs: 2000, log });
const syncB = new IndexSync({ db: dbB, store: b, server: 'b', intervalMs: 2000, log });
const series = Array.from({ length: seriesCount }, (_, s) => ({ target: `/b/g${Math.floor(s / AGENTS) % 100}/t${Math.floor(s / AGENTS)}`, agent: `agent${s % AGENTS}` }));
const roundOf = (s: { target: string; agent: string }, time: number) => ({ ...syntheticRound(rand, s.target, time, 60, 20, 5 + (time % 200)), agent: s.agent });

/** Wall ms and this process' CPU ms of `fn`. */
async function measure(fn: () => unknown): Promise<{ ms: number; cpu: number }> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await fn();
  const c = process.cpuUsage(c0);
  return { ms: Math.round(performance.now() - t0), cpu: Math.round((c.user + c.system) / 1000) };
}
const fmt = (x: { ms: number; cpu: number }) => `${x.ms} ms wall, ${x.cpu} ms CPU (this process)`;

console.log(`series index sync: ${seriesCount} series (${AGENTS} agents), ${perSeries} rounds each in VM, ${changed} changed per steady sync; load average at start ${load()}`);
const ingest = await measure(async () => {
  for (let k = perSeries; k >= 1; k--) {
    const rounds = series.map((s, i) => roundOf(s, now - k * 60_000 - 30_000 + (i % 1000)));
    for (let i = 0; i < rounds.length; i += 1000) a.write(rounds.slice(i, i + 1000));
  }
  await a.flush();
  await vm.forceFlush();
});
console.log(`A: ${seriesCount * perSeries} rounds written and sent to VM: ${fmt(ingest)}`);
const firstPush = await measure(() => syncA.sync());
console.log(`A's first sync (whole index shared, ${syncA.stats.pushed} rows): ${fmt(firstPush)}`);
const firstPull = await measure(() => syncB.sync());
console.log(`B's first sync (whole index read, ${syncB.stats.pulled} rows): ${fmt(firstPull)}; B lists ${b.list().length} series`);
const pushes: { ms: number; cpu: number }[] = [];
const pulls: { ms: number; cpu: number }[] = [];
for (let k = 0; k < 5; k++) {
  const start = (k * changed) % seriesCount;
  a.write(series.slice(start, start + changed).map((s) => roundOf(s, now - 10_000 + k)));
  pushes.push(await measure(() => syncA.sync()));
  pulls.push(await measure(() => syncB.sync()));
}
const median = (xs: { ms: number; cpu: number }[]) => [...xs].sort((x, y) => x.ms - y.ms)[Math.floor(xs.length / 2)]!;
console.log(`steady sync, ${changed} changed series: A push median ${fmt(median(pushes))}; B pull median ${fmt(median(pulls))} (all: ${pushes.map((x) => x.ms).join('/')} ms, ${pulls.map((x) => x.ms).join('/')} ms)`);
const same = JSON.stringify(a.list()) === JSON.stringify(b.list());
console.log(`B lists the same series as A: ${same}`);
const q = new pg.Client({ connectionString: pgs.url });
await q.connect();
const size = (await q.query("SELECT pg_total_relation_size('smokemesh_series') AS n")).rows[0] as { n: string };
await q.end();
console.log(`shared table: ${(Number(size.n) / 1048576).toFixed(1)} MiB for ${seriesCount} series`);
const c = open();
let n = 0;
const rebuild = await measure(async () => { n = await c.rebuildIndex(); });
console.log(`a third store on an empty data dir rebuilt ${n} series from VictoriaMetrics: ${fmt(rebuild)}`);
console.log(`RSS ${Math.round(process.memoryUsage().rss / 1048576)} MiB; load average at end ${load()}`);
for (const s of [a, b, c]) s.close();
await Promise.all([dbA.close(), dbB.close()]);
await Promise.all([vm.stop(), pgs.stop()]);
for (const d of dirs) rmSync(d, { recursive: true, force: true });
