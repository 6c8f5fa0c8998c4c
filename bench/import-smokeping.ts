// `smokemesh import-smokeping` of N RRDs of SmokePing's default size: step 300, 20 pings, the
// RRAs of its docs (AVERAGE 1×1008; AVERAGE/MIN/MAX 12×4320; AVERAGE/MAX/MIN 144×720), i.e.
// 2,986,808 bytes each, full (360 days of rounds).
// Usage: node --import tsx bench/import-smokeping.ts [files=1000] [templates=10] [concurrency=2]
// The RRDs are made with `rrdtool create` and filled with `rrdtool update` (fed through
// `rrdtool -`) from synthetic rounds in SmokePing's update format (sorted RTTs, lost pings as U,
// half before and half after; 5 % of rounds with loss, 0.2 % with all lost); `templates`
// distinct files are filled and copied to make `files` (filling 1,000 would take hours and
// import cost does not depend on the values). Then one import of a SmokePing config with those
// targets into an empty data dir is timed (wall, CPU of Node and of its rrdtool children, peak
// RSS), the store's size measured (after a WAL checkpoint), and a second import run to show it
// writes nothing (and, since every RRD is full, that it fetches nothing either).
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateConfig } from '../src/server/config-sections.ts';
import { importSmokeping } from '../src/import/smokeping/run.ts';
import { makeSmokepingRrd, smokepingConfig } from '../src/import/smokeping/testkit.ts';
import { load, rng } from './store-common.ts';

const files = Number(process.argv[2] ?? 1000);
const templates = Math.min(files, Number(process.argv[3] ?? 10));
const concurrency = Number(process.argv[4] ?? 2);
const STEP = 300;
const PINGS = 20;
const DAYS = 361;
const dir = mkdtempSync(join(tmpdir(), 'smokemesh-bench-import-'));
const sp = join(dir, 'smokeping');
const data = join(sp, 'data');
mkdirSync(join(data, 'bench'), { recursive: true });

/** Synthetic rounds: 5 % with 1–5 pings lost, 0.2 % with all lost, occasional slow replies. */
function rounds(seed: number): (t: number) => number[] {
  const rand = rng(seed);
  const base = 2 + rand() * 150;
  return () => {
    const r = rand();
    const lost = r < 0.002 ? PINGS : r < 0.05 ? 1 + Math.floor(rand() * 5) : 0;
    return Array.from({ length: PINGS - lost }, () => base + rand() * base * 0.3 + (rand() < 0.05 ? rand() * 50 : 0));
  };
}

function cpuOfChildren(): number {
  // cutime + cstime of /proc/self/stat: CPU of waited-for children (the rrdtool processes), in ticks.
  const f = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]!.split(' ');
  return (Number(f[13]) + Number(f[14])) / 100;
}

const end = Math.floor(Date.now() / 1000);
const t0 = performance.now();
await Promise.all(Array.from({ length: templates }, (_, i) => i).reduce<Promise<void>[]>((chains, i) => {
  // Two rrdtool processes at a time.
  const k = i % 2;
  chains[k] = (chains[k] ?? Promise.resolve()).then(() => makeSmokepingRrd(join(data, 'bench', `template${i}.rrd`), { end, days: DAYS, step: STEP, pings: PINGS, round: rounds(1000 + i) }));
  return chains;
}, []));
for (let i = 0; i < files; i++) copyFileSync(join(data, 'bench', `template${i % templates}.rrd`), join(data, 'bench', `t${i}.rrd`));
const made = (performance.now() - t0) / 1000;
const rrdBytes = statSync(join(data, 'bench', 't0.rrd')).size;

writeFileSync(join(sp, 'config'), smokepingConfig({
  dir: sp, step: STEP, pings: PINGS,
  targets: `menu = Top\ntitle = bench\n\n+ bench\nmenu = bench\ntitle = bench\n${Array.from({ length: files }, (_, i) => `++ t${i}\nhost = 127.0.${Math.floor(i / 250)}.${(i % 250) + 1}\n`).join('')}`,
}));

const out = join(dir, 'mesh', 'smokemesh.yaml');
const opts = { config: join(sp, 'config'), out, agentName: hostname(), check: validateConfig, concurrency };
let peak = 0;
const sampler = setInterval(() => { peak = Math.max(peak, process.memoryUsage().rss); }, 250);
const cpu0 = process.cpuUsage();
const child0 = cpuOfChildren();
const w0 = performance.now();
const first = await importSmokeping(opts);
const wall = (performance.now() - w0) / 1000;
const cpu = process.cpuUsage(cpu0);
// The rrdtool processes count once they have exited and been reaped.
await new Promise((r) => setTimeout(r, 1000));
const childCpu = cpuOfChildren() - child0;
clearInterval(sampler);
const db = join(first.dataDir, 'smokemesh.db');
execFileSync('sqlite3', [db, 'PRAGMA wal_checkpoint(TRUNCATE);'], { stdio: 'ignore' });
const dbBytes = statSync(db).size;
const w1 = performance.now();
const second = await importSmokeping(opts);
const wall2 = (performance.now() - w1) / 1000;
if (first.files.read !== files || second.raw !== 0 || Object.values(second.buckets).some((n) => n !== 0)) {
  throw new Error(`unexpected: ${JSON.stringify({ first: first.files, second: { raw: second.raw, buckets: second.buckets } })}`);
}

console.log(`import-smokeping: ${files} RRDs (${templates} filled with rrdtool update over ${DAYS} days, copied), step ${STEP} s, ${PINGS} pings, SmokePing's default RRAs; concurrency ${concurrency}`);
console.log(`  RRDs made in ${made.toFixed(0)} s; ${rrdBytes} bytes each, ${(rrdBytes * files / 1048576).toFixed(0)} MiB in all`);
console.log(`  first import: ${wall.toFixed(1)} s wall (${(files / wall).toFixed(1)} RRDs/s); CPU: Node ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s, rrdtool ${childCpu.toFixed(1)} s; peak RSS ${(peak / 1048576).toFixed(0)} MiB`);
console.log(`  written: ${first.raw} raw rounds, buckets ${Object.entries(first.buckets).map(([t, n]) => `${t} ${n}`).join(', ')}`);
console.log(`  store: ${(dbBytes / 1048576).toFixed(1)} MiB (${(dbBytes / files / 1024).toFixed(0)} KiB per series; the RRDs: ${(rrdBytes / 1024).toFixed(0)} KiB each)`);
console.log(`  second import: ${wall2.toFixed(1)} s, nothing written (${second.unchanged} series already complete)`);
console.log(`  loadavg ${load()}`);
if (!process.env.KEEP) rmSync(dir, { recursive: true, force: true });
else console.log(`  kept ${dir}`);
if (existsSync(dir) && !process.env.KEEP) throw new Error('cleanup failed');
