// The VictoriaMetrics backend: ingest rounds/s from one server, and graph latency.
// Usage: node --import tsx bench/store-victoria.ts [series=2000] [rounds-per-series=30]
// Starts Debian's victoria-metrics on 127.0.0.1 (as test/victoria.ts: dedup 1 ms, no latency
// offset), a VmStore with its outbox in a temp dir, default tiers.
// Ingest: `series` series × `rounds` rounds of 20 pings, written in batches of 1,000 rounds
// (one agent POST's worth) — acknowledged = committed to the outbox — and sent to VM.
// Graphs: one series with 360 days at 300 s (103,680 rounds), then series() over 360 days.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VmStore } from '../src/store/index.ts';
import { startVictoria } from '../test/victoria.ts';
import { load, rng, syntheticRound } from './store-common.ts';

const seriesCount = Number(process.argv[2] ?? 2000);
const perSeries = Number(process.argv[3] ?? 30);
const DAY = 86_400_000;
const vm = await startVictoria();
const dir = mkdtempSync(join(tmpdir(), 'smokemesh-bench-vm-'));
let now = Date.now();
const cfg = {
  raw_days: 400, synchronous: 'full' as const, max_pending: 10_000_000, backend: 'victoriametrics' as const, url: vm.url,
  tiers: [{ bucket: 300, keep_days: 90 }, { bucket: 3600, keep_days: 730 }, { bucket: 86400, keep_days: 3650 }],
};
const store = new VmStore(dir, cfg, { now: () => now, timers: false });
const rand = rng(5);

console.log(`VictoriaMetrics backend: ${seriesCount} series × ${perSeries} rounds ingest; 360-day graph; load average at start ${load()}`);
{
  const rounds = [];
  for (let k = perSeries; k >= 1; k--) {
    for (let s = 0; s < seriesCount; s++) rounds.push(syntheticRound(rand, `/b/g${s % 100}/t${s}`, now - k * 60_000 + (s % 1000), 60, 20, 5 + (s % 200)));
  }
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < rounds.length; i += 1000) store.write(rounds.slice(i, i + 1000));
  const acked = performance.now() - t0;
  await store.flush();
  const total = performance.now() - t0;
  const c = process.cpuUsage(c0);
  if (store.stats().pending) throw new Error(store.stats().last_error);
  console.log(`  ingest: ${rounds.length} rounds acknowledged (outbox, fsync per 1,000) in ${(acked / 1000).toFixed(2)} s = ${Math.round(rounds.length / (acked / 1000))} rounds/s; `
    + `all in VictoriaMetrics after ${(total / 1000).toFixed(2)} s = ${Math.round(rounds.length / (total / 1000))} rounds/s end to end; `
    + `smokemesh CPU ${((c.user + c.system) / 1e6).toFixed(2)} s; load ${load()}`);
}
{
  const start = now - 360 * DAY;
  const t0 = performance.now();
  for (let t = start; t < now; t += 288 * 300_000) {
    const batch = [];
    for (let k = 0; k < 288 && t + k * 300_000 < now; k++) batch.push(syntheticRound(rand, '/q/long', t + k * 300_000, 300, 20, 30));
    store.write(batch);
    if (store.stats().pending > 50_000) await store.flush();
  }
  await store.flush();
  await vm.forceFlush();
  console.log(`  360 days × 1 series at 300 s written in ${((performance.now() - t0) / 1000).toFixed(1)} s; load ${load()}`);
  for (const [label, q] of [
    ['360-day graph, points=1000 (1d tier)', { from: now - 360 * DAY, to: now, points: 1000 }],
    ['360-day graph, points=9000 (1h tier)', { from: now - 360 * DAY, to: now, points: 9000 }],
    ['30-day graph, points=1000 (1h tier)', { from: now - 30 * DAY, to: now, points: 1000 }],
    ['3-hour graph (raw, /api/v1/export)', { from: now - 3 * 3_600_000, to: now, points: 1000 }],
  ] as const) {
    const samples: number[] = [];
    let n = 0;
    let tier = '';
    for (let i = 0; i < 11; i++) {
      const s0 = performance.now();
      const r = store.series({ target: '/q/long', agent: 'bench', ...q });
      samples.push(performance.now() - s0);
      n = r.points.length;
      tier = r.tier;
    }
    samples.sort((a, b) => a - b);
    console.log(`  ${label}: median ${samples[5]!.toFixed(1)} ms, max ${samples[10]!.toFixed(1)} ms (${n} points, tier ${tier}, nocache=1); load ${load()}`);
  }
  const w0 = performance.now();
  const top = store.top('loss', 10, { from: now - 3_600_000, to: now });
  console.log(`  top-10 by loss over the last hour, ${seriesCount + 1} series: ${(performance.now() - w0).toFixed(1)} ms (${top.length} rows); load ${load()}`);
}
store.close();
await vm.stop();
rmSync(dir, { recursive: true, force: true });
now = 0;
