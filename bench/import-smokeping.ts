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
import { execFileSync, spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { configProblems } from '../src/cli/check-config.ts';
import { importSmokeping } from '../src/import/smokeping/run.ts';
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

/** SmokePing's rrdupdate string for one round (base.pm): sorted RTTs, lost pings as U around them. */
function updateString(rand: () => number, base: number): string {
  const r = rand();
  const lost = r < 0.002 ? PINGS : r < 0.05 ? 1 + Math.floor(rand() * 5) : 0;
  const rtts = Array.from({ length: PINGS - lost }, () => (base + rand() * base * 0.3 + (rand() < 0.05 ? rand() * 50 : 0)) / 1000).sort((a, b) => a - b);
  const median = rtts.length ? rtts[Math.floor(rtts.length / 2)]!.toExponential(10) : 'U';
  const before = Math.floor(lost / 2);
  const pings = [...Array(before).fill('U'), ...rtts.map((v) => v.toExponential(10)), ...Array(lost - before).fill('U')];
  return `U:${lost}:${median}:${pings.join(':')}`;
}

async function fill(file: string, seed: number, end: number): Promise<void> {
  const ds = ['uptime', 'loss', 'median', ...Array.from({ length: PINGS }, (_, i) => `ping${i + 1}`)]
    .map((n) => `DS:${n}:GAUGE:${2 * STEP}:0:${n === 'loss' ? PINGS : 'U'}`);
  const start = end - DAYS * 86400;
  execFileSync('rrdtool', ['create', file, '--start', String(start - 1), '--step', String(STEP), ...ds,
    'RRA:AVERAGE:0.5:1:1008', 'RRA:AVERAGE:0.5:12:4320', 'RRA:MIN:0.5:12:4320', 'RRA:MAX:0.5:12:4320',
    'RRA:AVERAGE:0.5:144:720', 'RRA:MAX:0.5:144:720', 'RRA:MIN:0.5:144:720']);
  const rand = rng(seed);
  const base = 2 + rand() * 150;
  const p = spawn('rrdtool', ['-'], { stdio: ['pipe', 'ignore', 'inherit'] });
  const done = new Promise<void>((resolve, reject) => p.on('close', (c) => (c === 0 ? resolve() : reject(new Error(`rrdtool - exited ${c}`)))));
  let batch: string[] = [];
  // SmokePing updates when a round ends, some seconds into the step.
  for (let t = start + 17; t < end; t += STEP) {
    batch.push(`${t}:${updateString(rand, base)}`);
    if (batch.length === 500) {
      if (!p.stdin.write(`update ${file} ${batch.join(' ')}\n`)) await new Promise((r) => p.stdin.once('drain', r));
      batch = [];
    }
  }
  if (batch.length) p.stdin.write(`update ${file} ${batch.join(' ')}\n`);
  p.stdin.end();
  await done;
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
  chains[k] = (chains[k] ?? Promise.resolve()).then(() => fill(join(data, 'bench', `template${i}.rrd`), 1000 + i, end));
  return chains;
}, []));
for (let i = 0; i < files; i++) copyFileSync(join(data, 'bench', `template${i % templates}.rrd`), join(data, 'bench', `t${i}.rrd`));
const made = (performance.now() - t0) / 1000;
const rrdBytes = statSync(join(data, 'bench', 't0.rrd')).size;

writeFileSync(join(sp, 'config'), `*** General ***
owner = bench
contact = bench@localhost
cgiurl = http://localhost/smokeping.cgi
imgcache = ${sp}
imgurl = img
datadir = ${data}
piddir = ${sp}
smokemail = /etc/smokeping/smokemail
tmail = /etc/smokeping/tmail

*** Database ***
step = ${STEP}
pings = ${PINGS}
AVERAGE  0.5   1  1008
AVERAGE  0.5  12  4320
    MIN  0.5  12  4320
    MAX  0.5  12  4320
AVERAGE  0.5 144   720
    MAX  0.5 144   720
    MIN  0.5 144   720

*** Presentation ***
template = /etc/smokeping/basepage.html

*** Probes ***
+ FPing
binary = /usr/bin/fping

*** Targets ***
probe = FPing
menu = Top
title = bench

+ bench
menu = bench
title = bench
${Array.from({ length: files }, (_, i) => `++ t${i}\nhost = 127.0.${Math.floor(i / 250)}.${(i % 250) + 1}\n`).join('')}`);

const out = join(dir, 'mesh', 'smokemesh.yaml');
const opts = { config: join(sp, 'config'), out, agentName: hostname(), check: configProblems, concurrency };
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
