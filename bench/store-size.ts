// Bytes on disk per series after a simulated 400 days at a 300 s step with 20 pings.
// Usage: node --import tsx bench/store-size.ts [smokeping|default] [series=10]
// smokeping: raw 3.5 days, 1 h buckets for 180 days, 12 h for 360 days (SmokePing's RRAs);
// default: our defaults (raw 14 days, 5 min/90 d, 1 h/730 d, 1 d/3650 d).
// Time is simulated through the store's clock; retention runs once per simulated day; the
// file is VACUUMed after closing, and its size divided by the number of series.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { StoreConfig } from '../src/config/schema.ts';
import { DB_FILE, openStore } from '../src/store/index.ts';
import { load, rng, syntheticRound } from './store-common.ts';

const which = process.argv[2] ?? 'smokeping';
const seriesCount = Number(process.argv[3] ?? 10);
const days = 400;
const step = 300;
const cfg: StoreConfig = which === 'smokeping'
  ? { raw_days: 3.5, tiers: [{ bucket: 3600, keep_days: 180 }, { bucket: 43200, keep_days: 360 }], synchronous: 'normal' }
  : { raw_days: 14, tiers: [{ bucket: 300, keep_days: 90 }, { bucket: 3600, keep_days: 730 }, { bucket: 86400, keep_days: 3650 }], synchronous: 'normal' };
const dir = mkdtempSync(join(tmpdir(), 'smokemesh-bench-size-'));
const start = Date.UTC(2024, 0, 1);
let now = start;
const store = openStore(dir, cfg, undefined, { now: () => now, timers: false });
const rand = rng(7);
const bases = Array.from({ length: seriesCount }, () => 2 + rand() * 150);
const stepsPerDay = 86400 / step;
const t0 = performance.now();
for (let d = 0; d < days; d++) {
  for (let k = 0; k < stepsPerDay; k += 48) {
    const batch = [];
    for (let j = k; j < Math.min(stepsPerDay, k + 48); j++) {
      const time = start + (d * stepsPerDay + j) * step * 1000;
      for (let s = 0; s < seriesCount; s++) batch.push(syntheticRound(rand, `/size/t${s}`, time + s, step, 20, bases[s]!));
    }
    now = batch[batch.length - 1]!.time + step * 1000;
    store.write(batch);
  }
  while (store.maintain(1000)) { /* finish the retention pass */ }
}
const st = store.stats();
const rows = store.tableRows();
store.close();
if (st.refused || st.write_failures || st.rounds_written !== days * stepsPerDay * seriesCount) throw new Error(`unexpected stats ${JSON.stringify(st)}`);
const file = join(dir, DB_FILE);
const db = new Database(file);
db.exec('VACUUM');
db.pragma('wal_checkpoint(TRUNCATE)');
db.close();
const bytes = statSync(file).size;
rmSync(dir, { recursive: true, force: true });
console.log(`store size (${which}): ${seriesCount} series × ${days} days at ${step} s, 20 pings; raw ${cfg.raw_days} d, tiers ${cfg.tiers.map((t) => `${t.bucket}s/${t.keep_days}d`).join(', ')}`);
console.log(`  rows: ${Object.entries(rows).map(([t, n]) => `${t} ${(n / seriesCount).toFixed(0)}/series`).join(', ')}`);
console.log(`  ${(bytes / seriesCount / 1048576).toFixed(3)} MiB per series (${bytes} bytes after VACUUM; simulated in ${((performance.now() - t0) / 1000).toFixed(0)} s)`);
console.log(`  loadavg ${load()}`);
