// RSS of the built server probing 1,000 loopback targets itself (its built-in agent).
// Usage: npx tsx bench/server-memory.ts [targets=1000] [rounds=4] [step=30]
// Config: `targets` targets under two groups: 80 % ICMP (fping) to 127.0.x.y (every address
// its own target), 20 % TCP connects to a local listener on 127.0.0.1; step `step` s, 20 pings
// for ICMP, 5 for TCP; store and everything else as shipped. Runs the release as installed by
// its install.sh (the Fleet issue's build, as bench/fleet-memory.ts does). Prints RSS (VmRSS,
// and the peak VmHWM) once `rounds` rounds of every target are stored, then again after one
// more step while the overview of the ICMP group (200 targets, 10 h) is asked 5 times.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildRelease } from '../src/release/build.ts';
import { freePort } from '../test/agents-kit.ts';
import { waitFor } from '../test/wait.ts';

const N = Number(process.argv[2] ?? 1000);
const ROUNDS = Number(process.argv[3] ?? 4);
const STEP = Number(process.argv[4] ?? 30);
const load = () => loadavg().map((x) => x.toFixed(2)).join(' ');
const root = fileURLToPath(new URL('..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'sm-server-mem-'));
const children: ChildProcess[] = [];
process.on('exit', () => { children.forEach((c) => c.kill('SIGKILL')); rmSync(dir, { recursive: true, force: true }); });
console.log(`command: npx tsx bench/server-memory.ts ${N} ${ROUNDS} ${STEP}`);
console.log(`config: ${N} targets (${Math.round(N * 0.8)} ICMP to 127.0.x.y, 20 pings; ${N - Math.round(N * 0.8)} TCP to 127.0.0.1, 5 pings), step ${STEP} s, built-in agent, store as shipped; loadavg at start ${load()}`);

function status(pid: number): { rss: number; hwm: number } {
  const s = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+) kB`).exec(s)?.[1] ?? NaN) / 1024;
  return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
}

/** CPU seconds the process itself used so far (user + system, every thread; not its children such as fping). */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / 100; // utime, stime in clock ticks (USER_HZ 100)
}

const listener = createServer((s) => s.destroy());
await new Promise<void>((r) => listener.listen(0, '127.0.0.1', r));
const tcpPort = (listener.address() as { port: number }).port;
const port = await freePort();
const icmp = Math.round(N * 0.8);
const lines = [
  'general:', `  step: ${STEP}`, '  pings: 20', `  listen: 127.0.0.1:${port}`, `  data_dir: ${join(dir, 'data')}`,
  'probes:', `  tcpx: { type: tcp, port: ${tcpPort}, timeout: 1000, pings: 5 }`,
  'targets:', '  children:', '    Icmp:', '      children:',
];
for (let i = 0; i < icmp; i++) lines.push(`        i${i}: { host: 127.0.${1 + (i >> 8)}.${(i & 255) + 1} }`);
lines.push('    Tcp:', '      probe: tcpx', '      children:');
for (let i = 0; i < N - icmp; i++) lines.push(`        t${i}: { host: 127.0.0.1 }`);
const cfg = join(dir, 'smokemesh.yaml');
writeFileSync(cfg, lines.join('\n') + '\n');

const built = await buildRelease({ root, outDir: join(dir, 'out'), version: '0.0.1' });
mkdirSync(join(dir, 'unpack'));
execFileSync('tar', ['-xzf', built.file, '-C', join(dir, 'unpack')]);
const prefix = join(dir, 'opt');
execFileSync(join(dir, 'unpack', 'smokemesh-0.0.1', 'install.sh'), ['--prefix', prefix, '--bin-dir', join(dir, 'bin'), '--config-dir', join(dir, 'etc'), '--no-user', '--no-systemd'], { stdio: 'ignore' });

// SERVER_NODE_FLAGS: extra node flags for the server (e.g. --heapsnapshot-signal=SIGUSR2 to look into it).
const flags = (process.env.SERVER_NODE_FLAGS ?? '').split(' ').filter(Boolean);
const server = spawn(process.execPath, [...flags, join(prefix, 'current', 'bin', 'smokemesh.js'), 'server', '--config', cfg], { stdio: ['ignore', 'pipe', 'pipe'], cwd: dir });
children.push(server);
let out = '';
server.stdout!.on('data', (d) => (out += d));
server.stderr!.on('data', (d) => (out += d));
// RSS sampled every 250 ms from the spawn on: where the peak (VmHWM) comes from, by phase.
const spawnedAt = performance.now();
let phase = 'start-up';
const peaks = new Map<string, { rss: number; at: number }>();
// RSS_TRACE=<file>: every sample (seconds since the spawn, phase, RSS MiB) and the server's log, written at the end.
const trace: string[] = [];
const sampler = setInterval(() => {
  try {
    const { rss } = status(server.pid!);
    if (process.env.RSS_TRACE) trace.push(`${((performance.now() - spawnedAt) / 1000).toFixed(2)} ${phase} ${rss.toFixed(1)}`);
    const p = peaks.get(phase);
    if (!p || rss > p.rss) peaks.set(phase, { rss, at: (performance.now() - spawnedAt) / 1000 });
  } catch { /* the server has ended */ }
}, 250);
await waitFor('the server', () => /listening/.test(out), 120_000);
phase = 'rounds';
const started = performance.now();
const written = async () => ((await (await fetch(`http://127.0.0.1:${port}/api/v1/health`)).json()) as { store: { rounds_written: number; series: number } }).store;
await waitFor(`${ROUNDS} rounds of ${N} targets`, async () => (await written()).rounds_written >= ROUNDS * N, (ROUNDS + 3) * STEP * 1000, 500);
const w = await written();
const a = status(server.pid!);
const cpuRounds = cpuSeconds(server.pid!);
console.log(`server pid ${server.pid}`);
console.log(`after ${((performance.now() - started) / 1000).toFixed(0)} s: ${w.rounds_written} rounds stored for ${w.series} series; server RSS ${a.rss.toFixed(1)} MiB (peak ${a.hwm.toFixed(1)} MiB); goal ≤ 150 MB (143.1 MiB); server CPU so far ${cpuRounds.toFixed(2)} s (start-up included)`);
// SERVER_SNAPSHOT=<file>: a heap snapshot of the server at this point (needs SERVER_NODE_FLAGS=--heapsnapshot-signal=SIGUSR2).
if (process.env.SERVER_SNAPSHOT) {
  server.kill('SIGUSR2');
  let snap: string | undefined;
  await waitFor('the heap snapshot', () => {
    snap = readdirSync(dir).find((f) => f.endsWith('.heapsnapshot'));
    return snap !== undefined && statSync(join(dir, snap)).size > 0 && !/Heap\.\d/.test(out + 'x');
  }, 120_000, 1000);
  await new Promise((r) => setTimeout(r, 5000));
  copyFileSync(join(dir, snap!), process.env.SERVER_SNAPSHOT);
  console.log(`heap snapshot: ${process.env.SERVER_SNAPSHOT}`);
}
phase = 'overview';
const end = performance.now() + STEP * 1000;
const now = Date.now();
let asked = 0;
while (performance.now() < end || asked < 5) {
  const r = await fetch(`http://127.0.0.1:${port}/api/v1/overview?path=/Icmp&from=${now - 36_000_000}&to=${now}`, { headers: { 'accept-encoding': 'br' } });
  if (r.status !== 200) throw new Error(`overview: HTTP ${r.status}`);
  await r.arrayBuffer();
  asked++;
  await new Promise((r) => setTimeout(r, (STEP * 1000) / 6));
}
const b = status(server.pid!);
const w2 = await written();
console.log(`one step later, overview asked ${asked} times: ${w2.rounds_written} rounds stored; server RSS ${b.rss.toFixed(1)} MiB (peak ${b.hwm.toFixed(1)} MiB); server CPU in this step ${(cpuSeconds(server.pid!) - cpuRounds).toFixed(2)} s`);
clearInterval(sampler);
if (process.env.RSS_TRACE) writeFileSync(process.env.RSS_TRACE, `${trace.join('\n')}\n--- server log (spawned at ${new Date(Date.now() - (performance.now() - spawnedAt)).toISOString()})\n${out}`);
console.log(`highest sampled RSS by phase (every 250 ms): ${[...peaks].map(([k, v]) => `${k} ${v.rss.toFixed(1)} MiB at ${v.at.toFixed(1)} s`).join('; ')}`);
listener.close();
const warnings = out.split('\n').filter((l) => /Warning|"level":(40|50)/.test(l));
console.log(`warnings and errors the server printed: ${warnings.length ? `\n  ${warnings.slice(0, 10).join('\n  ')}` : 'none'}`);
console.log(`node ${process.version}; loadavg at end ${load()}`);
process.exit(0);
