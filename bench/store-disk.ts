// Bytes on disk per target over a simulated 2 years at the shipped store config.
// Usage: npx tsx bench/store-disk.ts [targets=2] [days=730] [step=60] [steps-per-write=1] [retention-minutes=10]
// Config: `store:` exactly as shipped (defaults of src/config/schema.ts, printed below),
// synchronous normal (durability does not change the layout). One round of 20 pings per
// target per step (bench/store-common.ts: base RTT per target, jitter, 1 % lossy), written as
// production does: one write() per step holding every target's round (or, to save time, one
// write() per `steps-per-write` steps, as an agent resending a backlog would). Time is simulated
// through the store's clock; retention (and its incremental vacuum) runs to the end of a
// pass every `retention-minutes` simulated minutes (the server's timer: every real minute).
// Prints, every 30 days (and at day 730): main file bytes per target, free pages, WAL bytes; at the end the
// size per table (dbstat), the final size and the size after a VACUUM.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { parseConfig } from '../src/config/loader.ts';
import { DB_FILE, openStore } from '../src/store/index.ts';
import { load, rng, syntheticRound } from './store-common.ts';

const targets = Number(process.argv[2] ?? 2);
const days = Number(process.argv[3] ?? 730);
const step = Number(process.argv[4] ?? 60);
const perWrite = Number(process.argv[5] ?? 1);
const retentionMin = Number(process.argv[6] ?? 10);
const PINGS = 20;
// The smallest config the loader takes (an empty one is refused): its `store:` is the shipped default.
const cfg = { ...parseConfig('targets:\n  t:\n    host: 127.0.0.1\n', 'shipped.yaml').store, synchronous: 'normal' as const };
const dir = mkdtempSync(join(tmpdir(), 'smokemesh-bench-disk-'));
const file = join(dir, DB_FILE);
const start = Date.UTC(2024, 0, 1);
let now = start;
const store = openStore(dir, cfg, undefined, { now: () => now, timers: false });
const rand = rng(7);
const bases = Array.from({ length: targets }, () => 2 + rand() * 150);
const size = (f: string): number => { try { return statSync(f).size; } catch { return 0; } };
const mb = (n: number): string => (n / 1e6).toFixed(2);
const peek = new Database(file, { readonly: true });
const pragma = (p: string): number => peek.pragma(p, { simple: true }) as number;

console.log(`command: npx tsx bench/store-disk.ts ${targets} ${days} ${step} ${perWrite} ${retentionMin}`);
console.log(`config: step ${step} s, ${PINGS} pings, ${targets} targets; store ${JSON.stringify(cfg)}`);
console.log(`loadavg at start ${load()}`);
console.log('day | MB per target (main file) | free pages | WAL MB');
const t0 = performance.now();
const stepsPerDay = 86400 / step;
let steps = 0;
let batch: ReturnType<typeof syntheticRound>[] = [];
for (let d = 1; d <= days; d++) {
  for (let k = 0; k < stepsPerDay; k++, steps++) {
    const time = start + steps * step * 1000;
    for (let s = 0; s < targets; s++) batch.push(syntheticRound(rand, `/disk/t${s}`, time + s, step, PINGS, bases[s]!));
    now = time + step * 1000;
    if ((steps + 1) % perWrite === 0) { store.write(batch); batch = []; }
    if (steps % Math.max(1, Math.round(retentionMin * 60 / step)) === 0) while (store.maintain(1000)) { /* finish the pass */ }
  }
  // Day 730: 2 years, the figure the goal is about (also when running past it to show the size flat).
  if (d % 30 === 0 || d === days || d === 730) console.log(`${d} | ${mb(size(file) / targets)} | ${pragma('freelist_count')} of ${pragma('page_count')} | ${mb(size(`${file}-wal`))}`);
}
store.write(batch);
const st = store.stats();
if (st.refused || st.rounds_written !== steps * targets) throw new Error(`unexpected stats ${JSON.stringify(st)}`);
const tables = peek.prepare("SELECT name, sum(pgsize) AS bytes, sum(unused) AS unused FROM dbstat GROUP BY name ORDER BY bytes DESC").all() as Array<{ name: string; bytes: number; unused: number }>;
peek.close();
store.close();
const final = size(file);
const db = new Database(file);
db.exec('VACUUM');
db.pragma('wal_checkpoint(TRUNCATE)');
db.close();
const vacuumed = size(file);
console.log(`tables (bytes per target, of which unused in pages): ${tables.map((t) => `${t.name} ${mb(t.bytes / targets)} (${mb(t.unused / targets)})`).join(', ')}`);
console.log(`final: ${mb(final / targets)} MB per target (${final} bytes for ${targets}); after VACUUM ${mb(vacuumed / targets)} MB per target; simulated in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
// The peer: one SmokePing RRD with its default Database section (step 300, 20 pings:
// uptime, loss, median, ping1..ping20; AVERAGE 1×1008, AVERAGE/MIN/MAX 12×4320, AVERAGE/MAX/MIN 144×720),
// made by Debian's rrdtool. Its size is fixed at creation, whatever it holds.
const rrd = join(dir, 'smokeping.rrd');
const ds = ['uptime', 'loss', 'median', ...Array.from({ length: PINGS }, (_, i) => `ping${i + 1}`)]
  .map((n) => `DS:${n}:GAUGE:600:0:${n === 'loss' ? PINGS : 'U'}`);
const rras = ['RRA:AVERAGE:0.5:1:1008', 'RRA:AVERAGE:0.5:12:4320', 'RRA:MIN:0.5:12:4320', 'RRA:MAX:0.5:12:4320', 'RRA:AVERAGE:0.5:144:720', 'RRA:MAX:0.5:144:720', 'RRA:MIN:0.5:144:720'];
const made = spawnSync('rrdtool', ['create', rrd, '--step', '300', ...ds, ...rras], { encoding: 'utf8' });
if (made.status !== 0) throw new Error(`rrdtool create failed: ${made.stderr}`);
const rrdBytes = size(rrd);
console.log(`SmokePing RRD (rrdtool create, step 300, ${PINGS} pings, default RRAs: 3.5 d at 5 min, 180 d at 1 h, 360 d at 12 h): ${rrdBytes} bytes; smokemesh / RRD: ${(final / targets / rrdBytes).toFixed(2)}× as run, ${(vacuumed / targets / rrdBytes).toFixed(2)}× after VACUUM`);
console.log(`loadavg at end ${load()}`);
rmSync(dir, { recursive: true, force: true });
