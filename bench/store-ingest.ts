// Ingest throughput with every default rollup tier on: rounds of 20 pings, 10,000 series,
// batches of 1,000 rounds (what the ingest layer hands over), synchronous=FULL (SYNC=normal).
// Usage: node --import tsx bench/store-ingest.ts [rounds=400000] [series=10000] [batch=1000]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../src/store/index.ts';
import { load, rng, syntheticRound } from './store-common.ts';

const total = Number(process.argv[2] ?? 400_000);
const seriesCount = Number(process.argv[3] ?? 10_000);
const batchSize = Number(process.argv[4] ?? 1_000);
const sync = (process.env.SYNC ?? 'full') as 'full' | 'normal';
const dir = mkdtempSync(join(tmpdir(), 'smokemesh-bench-ingest-'));
const step = 60;
// The rounds end about now, so that the recent index (below) takes them in as it would live.
const start = Date.now() - Math.ceil(total / seriesCount) * step * 1000;
const store = openStore(dir, {
  raw_days: 14, synchronous: sync,
  tiers: [{ bucket: 300, keep_days: 90 }, { bucket: 3600, keep_days: 730 }, { bucket: 86400, keep_days: 3650 }],
}, undefined, { timers: false });
// The UI's windowed top-N loads the store's recent index, which every write then keeps current:
// load it first so that its cost is counted (RECENT=0 measures without it).
const recent = process.env.RECENT !== '0';
if (recent) store.top('loss', 10, { from: Date.now() - 3_600_000, to: Date.now() });
const rand = rng(42);
const bases = Array.from({ length: seriesCount }, () => 2 + rand() * 150);
let written = 0;
let busy = 0;
let cpu = 0;
let i = 0;
while (written < total) {
  // Rounds arrive as probing makes them: one per series per step, series after series.
  const batch = [];
  for (let k = 0; k < batchSize; k++, i++) {
    const s = i % seriesCount;
    const time = start + Math.floor(i / seriesCount) * step * 1000 + s;
    batch.push(syntheticRound(rand, `/bench/g${s % 100}/t${s}`, time, step, 20, bases[s]!));
  }
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  store.write(batch);
  busy += performance.now() - t0;
  const c = process.cpuUsage(c0);
  cpu += (c.user + c.system) / 1000;
  written += batch.length;
}
const st = store.stats();
store.close();
rmSync(dir, { recursive: true, force: true });
if (st.rounds_written !== total || st.refused !== 0) throw new Error(`unexpected stats ${JSON.stringify(st)}`);
const rps = total / (busy / 1000);
console.log(`store ingest: ${total} rounds × 20 pings, ${seriesCount} series, batches of ${batchSize}, tiers 5m/1h/1d, synchronous=${sync}, recent index ${recent ? 'on' : 'off'}`);
console.log(`  ${rps.toFixed(0)} rounds/s, ${(rps * 20).toFixed(0)} samples/s (time inside write(): ${(busy / 1000).toFixed(1)} s)`);
console.log(`  per CPU second inside write(): ${(total / (cpu / 1000)).toFixed(0)} rounds/s (CPU ${(cpu / 1000).toFixed(1)} s; tells what an unshared core does)`);
console.log(`  loadavg ${load()}`);
