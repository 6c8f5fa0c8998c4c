// Query latency: a 360-day range of one series, a 3-hour range, top-10 over 10,000 series.
// Usage: node --import tsx bench/store-query.ts [series=10000]
// Data: one series with 360 days at 300 s (20 pings), written through the store with a
// simulated clock; then `series` series with the last hour at 300 s. Default tiers.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../src/store/index.ts';
import { load, rng, syntheticRound } from './store-common.ts';

const seriesCount = Number(process.argv[2] ?? 10_000);
const dir = mkdtempSync(join(tmpdir(), 'smokemesh-bench-query-'));
const DAY = 86_400_000;
const start = Date.UTC(2024, 0, 1);
let now = start;
const store = openStore(dir, {
  raw_days: 14, synchronous: 'normal',
  tiers: [{ bucket: 300, keep_days: 90 }, { bucket: 3600, keep_days: 730 }, { bucket: 86400, keep_days: 3650 }],
}, undefined, { now: () => now, timers: false });
const rand = rng(3);
for (let t = start; t < start + 360 * DAY; t += 288 * 300_000) {
  const batch = [];
  for (let k = 0; k < 288; k++) batch.push(syntheticRound(rand, '/q/long', t + k * 300_000, 300, 20, 30));
  now = t + 288 * 300_000;
  store.write(batch);
  while (store.maintain(1000)) { /* retention as time passes */ }
}
for (let k = 11; k >= 0; k--) {
  const batch = [];
  for (let s = 0; s < seriesCount; s++) batch.push(syntheticRound(rand, `/q/g${s % 100}/t${s}`, now - k * 300_000 - 1000 + s % 1000, 300, 20, 5 + (s % 200)));
  store.write(batch);
}

function time(label: string, fn: () => unknown, runs = 50): void {
  // The first call warms statements and, for windowed top-N, loads the recent index: shown apart.
  const f0 = performance.now();
  fn();
  const first = performance.now() - f0;
  const samples: number[] = [];
  let out: unknown;
  const c0 = process.cpuUsage();
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    out = fn();
    samples.push(performance.now() - t0);
  }
  const c = process.cpuUsage(c0);
  samples.sort((a, b) => a - b);
  const r = out as { points?: unknown[]; tier?: string; length?: number };
  const size = Array.isArray(out) ? `${out.length} rows` : r.points ? `${r.points.length} points, tier ${r.tier}` : '';
  console.log(`  ${label}: median ${samples[runs >> 1]!.toFixed(2)} ms, p90 ${samples[Math.floor(runs * 0.9)]!.toFixed(2)} ms, CPU ${((c.user + c.system) / 1000 / runs).toFixed(2)} ms/run, first call ${first.toFixed(1)} ms (${size})`);
}

console.log(`store queries: 1 series × 360 days + ${seriesCount} series × 1 h, default tiers`);
time('360-day range, points=1000', () => store.series({ target: '/q/long', agent: 'bench', from: now - 360 * DAY, to: now, points: 1000 }));
time('360-day range, points=9000', () => store.series({ target: '/q/long', agent: 'bench', from: now - 360 * DAY, to: now, points: 9000 }));
time('3-hour range (raw)', () => store.series({ target: '/q/long', agent: 'bench', from: now - 3 * 3_600_000, to: now, points: 1000 }));
time(`top-10 by loss, latest round, ${seriesCount} series`, () => store.top('loss', 10));
time(`top-10 by loss, last hour (5m tier), ${seriesCount} series`, () => store.top('loss', 10, { from: now - 3_600_000, to: now }), 20);
time(`top-10 by stddev, last hour, ${seriesCount} series`, () => store.top('stddev', 10, { from: now - 3_600_000, to: now }), 20);
time(`top-10 by loss, last 5 min (raw), ${seriesCount} series`, () => store.top('loss', 10, { from: now - 300_000, to: now }), 20);
console.log(`  loadavg ${load()}`);
store.close();
rmSync(dir, { recursive: true, force: true });
