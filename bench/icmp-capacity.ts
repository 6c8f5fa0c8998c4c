// ICMP capacity: rounds of N loopback targets (127.x.y.z, all distinct: the whole 127/8
// answers locally) × 20 pings, through the real icmp probe and through ONE bare fping
// process sending the same packets, interleaved (the order alternates every repetition), with
// the ratio of their CPU seconds per repetition and the median ratio with its spread. Prints
// the commands, the config and the load average.
//
//   node --import tsx bench/icmp-capacity.ts [N[@interval_ms]…]   (npm run bench:icmp)
//   default: 1000 10000 50000@2500
//   env REPS=5            repetitions per size (each: every bare reference and smokemesh once)
//   env BARE=raw,ping     bare fping references: on a raw socket (what `fping` does as root or
//                         with Debian's cap_net_raw) and on a ping socket (`unshare --user`)
//   env SOCKET=auto       the probe's socket choice (auto | raw | ping)
//   env NETNS=1           run inside a private network namespace made here, whose
//                         net.ipv4.ping_group_range allows ping sockets (0 = the host's
//                         namespace as it is configured)
//   env NEIGHBOUR=1       also measure a 1-target round next to a big bare fping
//   env SWEEP=0.25        the planner's sweepFraction (part of the interval one process's sweep may take)
//   env NODE_FLAGS=…      V8/Node flags of the probe's process (e.g. the agent's lean flags of
//                         bin/smokemesh.js: --semi-space-growth-factor=1 --optimize-for-size --no-opt)
//
// smokemesh's side runs as production runs it: the probe's code bundled (esbuild, as `npm run
// build` bundles it) into bench/icmp-round-runner.ts, in a plain Node process of its own that
// this one asks for each round over IPC; its CPU (every thread) and its fping children's are
// read by it from /proc/self/stat around the round. The bare fping is a child of this process.
// Peak RSS: the probe's process plus its live fping children, sampled from here every 2 s.
// Why a namespace: other processes' ICMP (other test suites on a shared machine) reaches
// every raw socket of the host namespace and would be counted against fping; the namespace
// also lets ping sockets be allowed without touching the host's sysctl. Run as root.
// Traffic goes to 127.0.0.0/8 only.
import { spawn, execFileSync, fork, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { loadavg, cpus, release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { createIcmpProbe } from '../src/probes/icmp.ts';
import { DEFAULT_SHARD_LIMITS } from '../src/probes/fping/plan.ts';
import { parseFpingOutput } from '../src/probes/fping/parser.ts';
import { parseSocketChoice } from '../src/probes/fping/socket.ts';
import type { IcmpParams } from '../src/probes/params.ts';
import type { RunnerMessage, RunnerRound } from './icmp-round-runner.ts';

const CLK_TCK = 100; // Linux USER_HZ as /proc reports it
const INSIDE = 'SMX_BENCH_NETNS';
/** Where the bare fping's stderr goes (removed at exit). */
const scratch = mkdtempSync(join(tmpdir(), 'smokemesh-icmp-bare-'));
process.on('exit', () => rmSync(scratch, { recursive: true, force: true }));

// ---------------------------------------------------------------- namespace set-up
if (process.env.NETNS !== '0' && !process.env[INSIDE]) {
  const ns = `smx-bench-${process.pid}`;
  const sh = (...argv: string[]): void => {
    console.log(`# ${argv.join(' ')}`);
    execFileSync(argv[0]!, argv.slice(1), { stdio: 'inherit' });
  };
  sh('ip', 'netns', 'add', ns);
  const cleanup = (): void => { try { execFileSync('ip', ['netns', 'del', ns]); } catch { /* gone */ } };
  process.on('SIGINT', () => { cleanup(); process.exit(130); });
  try {
    sh('ip', '-n', ns, 'link', 'set', 'lo', 'up');
    sh('ip', 'netns', 'exec', ns, 'sysctl', '-q', '-w', 'net.ipv4.ping_group_range=0 2147483647');
    // --expose-gc: garbage left by one contender is collected before the next one starts.
    const child = spawn('ip', ['netns', 'exec', ns, process.execPath, '--expose-gc', ...process.execArgv, ...process.argv.slice(1)], {
      stdio: 'inherit', env: { ...process.env, [INSIDE]: ns },
    });
    const code = await new Promise<number>((resolve) => child.on('close', (c) => resolve(c ?? 1)));
    process.exitCode = code;
  } finally {
    cleanup();
  }
} else {
  await main();
}

// ---------------------------------------------------------------- measuring
interface Cpu { self: number; children: number }

/** CPU seconds of this process and of its exited, waited-for children (fping), from /proc/self/stat. */
function cpuSeconds(): Cpu {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ').map(Number);
  // fields after "pid (comm)": state=0 … utime=11 stime=12 cutime=13 cstime=14
  return { self: (f[11]! + f[12]!) / CLK_TCK, children: (f[13]! + f[14]!) / CLK_TCK };
}

function rssKb(pid: string | number): number {
  try {
    const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0; // the child has just exited
  }
}

/** Resident memory of a process plus its live children, kB. */
function treeRssKb(pid: number): number {
  let total = rssKb(pid);
  let tasks: string[] = [];
  try { tasks = readdirSync(`/proc/${pid}/task`); } catch { return total; }
  for (const tid of tasks) {
    let kids = '';
    try { kids = readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8'); } catch { continue; }
    for (const kid of kids.split(' ').filter(Boolean)) total += rssKb(kid);
  }
  return total;
}

/** CPU seconds (utime + stime) of another process, from /proc/<pid>/stat. */
function processCpu(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ').map(Number);
  return (f[11]! + f[12]!) / CLK_TCK;
}

function load(): string {
  return loadavg().map((l) => l.toFixed(2)).join(' ');
}

function addresses(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `127.${10 + Math.floor(i / 62500)}.${Math.floor(i / 250) % 250}.${(i % 250) + 1}`);
}

/** The command line with the addresses left out, for printing. */
function shown(argv: readonly string[], n: number): string {
  return `${argv.slice(0, argv.length - n).join(' ')} <${n} addresses>`;
}

interface Result {
  who: string;
  processes: number;
  wall: number;
  fping: number;
  node: number;
  lost: number;
  sent: number;
  rssMb: number;
  load0: string;
  load1: string;
  command: string;
}

/** One bare fping process over all targets, as a user would run it (`fping … 2> file`). */
async function bare(kind: 'raw' | 'ping', hosts: string[], p: IcmpParams): Promise<Result> {
  const args = ['-C', String(p.pings), '-q', '-i', String(p.mininterval), '-p', String(p.interval), '-t', String(p.timeout), '-b', String(p.packet_size)];
  const argv = kind === 'raw' ? ['fping', ...args, ...hosts] : ['unshare', '--user', 'fping', ...args, '-S', '0.0.0.0', '-S', '::', ...hosts];
  globalThis.gc?.();
  const load0 = load();
  const cpu0 = cpuSeconds();
  const t0 = performance.now();
  // stderr into a file, as the probe's fping writes it (fping/runner.ts).
  const outFile = join(scratch, `bare-${kind}.stderr`);
  const fd = openSync(outFile, 'w', 0o600);
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'ignore', fd] });
  await new Promise((resolve) => child.on('close', resolve));
  const wall = (performance.now() - t0) / 1000;
  const cpu1 = cpuSeconds();
  closeSync(fd);
  const stderr = readFileSync(outFile, 'utf8');
  const out = parseFpingOutput(stderr, p.pings);
  let received = 0;
  for (const r of out.hosts.values()) if ('rtts' in r) received += r.rtts.length;
  return {
    who: `bare fping, ${kind} socket`, processes: 1, wall, fping: cpu1.children - cpu0.children, node: 0,
    lost: hosts.length * p.pings - received, sent: hosts.length * p.pings, rssMb: 0, load0, load1: load(),
    command: `${shown(argv, hosts.length)} 2> <file>`,
  };
}

/** The probe in its own process (bench/icmp-round-runner.ts, bundled), asked for one round at a time. */
interface Runner { child: ChildProcess; ask(hosts: string[], p: IcmpParams): Promise<RunnerRound>; close(): void }

async function startRunner(socket: string, limits: typeof DEFAULT_SHARD_LIMITS, flags: string[]): Promise<Runner & { socket: { kind: string; why: string } }> {
  const dir = mkdtempSync(join(tmpdir(), 'smokemesh-icmp-bench-'));
  const file = join(dir, 'runner.mjs');
  await build({
    entryPoints: [fileURLToPath(new URL('./icmp-round-runner.ts', import.meta.url))], outfile: file, bundle: true,
    format: 'esm', platform: 'node', target: 'node20', logLevel: 'warning',
    banner: { js: "import { createRequire as __r } from 'node:module'; const require = __r(import.meta.url);" },
  });
  const child = fork(file, [], { execArgv: ['--expose-gc', ...flags], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const next = (): Promise<RunnerMessage> => new Promise((resolve, reject) => {
    child.once('message', (m) => resolve(m as RunnerMessage));
    child.once('exit', (code) => reject(new Error(`the probe's process exited (${code})`)));
  });
  const close = (): void => { child.disconnect(); rmSync(dir, { recursive: true, force: true }); };
  const ready = next();
  child.send({ setup: { socket, limits } });
  const r = await ready;
  if ('unavailable' in r) { close(); throw new Error(`icmp probe unavailable: ${r.unavailable}`); }
  if (!('ready' in r)) throw new Error('unexpected answer of the probe\'s process');
  return {
    child, close, socket: r.ready,
    async ask(hosts, p) {
      const answer = next();
      child.send({ ask: { hosts, params: p } });
      const m = await answer;
      if (!('round' in m)) throw new Error('unexpected answer of the probe\'s process');
      return m.round;
    },
  };
}

/** One round through the icmp probe in its own process. */
async function smokemesh(runner: Runner, hosts: string[], p: IcmpParams): Promise<Result> {
  globalThis.gc?.();
  const pid = runner.child.pid!;
  let peak = treeRssKb(pid);
  const sampler = setInterval(() => { peak = Math.max(peak, treeRssKb(pid)); }, 2000);
  const load0 = load();
  const r = await runner.ask(hosts, p);
  clearInterval(sampler);
  if (r.errors) console.log(`  (${r.errors} targets with errors, e.g. ${r.firstError})`);
  const first = r.argv[0] ?? [];
  const n = first.filter((a) => a.startsWith('127.')).length;
  return {
    who: 'smokemesh icmp probe', processes: r.argv.length, wall: r.wall, fping: r.fping, node: r.node,
    lost: r.lost, sent: r.sent, rssMb: peak / 1024, load0, load1: load(), command: `${r.argv.length} × ${shown(first, n)}`,
  };
}

function row(r: Result, floor: number, refs: Map<string, number>): string {
  const total = r.fping + r.node;
  const ratios = [...refs].map(([k, v]) => `${(total / v).toFixed(2)}× ${k}`).join(', ');
  return [
    `  ${r.who.padEnd(24)}`, String(r.processes).padStart(3), `${r.wall.toFixed(1)} s`.padStart(9),
    `${(r.wall / floor).toFixed(3)}`.padStart(7),
    `${r.fping.toFixed(2)} + ${r.node.toFixed(2)} = ${total.toFixed(2)} s`.padStart(24),
    (ratios || '-').padEnd(30), `${r.lost}/${r.sent}`.padStart(14), r.rssMb ? `${r.rssMb.toFixed(0)} MB`.padStart(7) : '      -',
    `  ${r.load0} → ${r.load1}`,
  ].join(' ');
}

async function main(): Promise<void> {
  const cases = (process.argv.slice(2).length ? process.argv.slice(2) : ['1000', '10000', '50000@2500']).map((a) => {
    const [n, interval] = a.split('@').map(Number);
    return { n: n!, interval: interval ?? 1000 };
  });
  const reps = Number(process.env.REPS ?? 5);
  const bareKinds = (process.env.BARE ?? 'raw,ping').split(',').filter((k): k is 'raw' | 'ping' => k === 'raw' || k === 'ping');
  const socket = parseSocketChoice(process.env.SOCKET) ?? 'auto';
  const flags = (process.env.NODE_FLAGS ?? '').split(' ').filter(Boolean);
  const limits = { ...DEFAULT_SHARD_LIMITS, sweepFraction: Number(process.env.SWEEP ?? DEFAULT_SHARD_LIMITS.sweepFraction) };
  const runner = await startRunner(socket, limits, flags);
  const fpingVersion = execFileSync('fping', ['--version'], { encoding: 'utf8' }).trim();
  const env = ['REPS', 'BARE', 'SOCKET', 'NETNS', 'NEIGHBOUR', 'SWEEP', 'NODE_FLAGS'].filter((k) => process.env[k] !== undefined).map((k) => `${k}=${JSON.stringify(process.env[k])}`);

  console.log(`icmp capacity bench, ${new Date().toISOString()}`);
  console.log(`command: ${[...env, 'node --import tsx bench/icmp-capacity.ts', ...process.argv.slice(2)].join(' ')}`);
  console.log(`machine: ${cpus().length} cores (${cpus()[0]?.model}), Linux ${release()}, Node ${process.version}, ${fpingVersion}`);
  console.log(`network namespace: ${process.env[INSIDE] ?? 'the host\'s'}; probe socket: ${runner.socket.kind} (${runner.socket.why})`);
  console.log(`load average at start: ${load()}`);
  // Measured after the start-up's garbage has been collected (V8 does it within seconds of going idle).
  await new Promise((r) => setTimeout(r, 5000));
  const idle = await idleCpu(runner.child.pid!, 10);
  console.log(`the probe's process (plain Node${flags.length ? ` ${flags.join(' ')}` : ''}, the bundled probe) idle: ${(idle * 1000).toFixed(1)} ms of CPU per s, counted in its rounds below`);
  console.log('config: pings 20, timeout 1000 ms, packet_size 56, mininterval 0.2 ms (defaults); interval per case; floor = pings × interval');
  console.log(`planner: ${JSON.stringify(limits)}; the probe gets 10,000 targets per call, calls started together (offset 0 %)`);
  console.log('CPU = fping (cutime+cstime of the process that ran it) + the probe\'s Node process (utime+stime, all threads; smokemesh only), from /proc/<pid>/stat');
  console.log(`${reps} repetitions, each: ${bareKinds.map((k) => `bare ${k}`).join(', ')} and smokemesh, in alternating order; ratio = smokemesh total / bare fping of the same repetition\n`);

  for (const { n, interval } of cases) {
    const p: IcmpParams = { pings: 20, timeout: 1000, step: 60, offset: '0%', packet_size: 56, tos: 0, interval, mininterval: 0.2 };
    const floor = (p.pings * p.interval) / 1000;
    const hosts = addresses(n);
    console.log(`${n.toLocaleString('en')} targets × ${p.pings} pings, interval ${interval} ms (floor ${floor} s):`);
    console.log(`  rep ${'who'.padEnd(24)} procs      wall  /floor      CPU fping + node = total  ratio                                lost/sent  peak RSS  load avg (1, 5, 15 min) before → after`);
    const all: Result[] = [];
    const ratios = new Map<string, number[]>(bareKinds.map((k) => [`bare ${k}`, []]));
    const nodeCpu: number[] = [];
    for (let rep = 0; rep < reps; rep++) {
      const refs = new Map<string, number>();
      let s: Result | undefined;
      // Even repetitions: the bare references first; odd ones: smokemesh first.
      const order: Array<'raw' | 'ping' | 'smokemesh'> = rep % 2 ? ['smokemesh', ...bareKinds] : [...bareKinds, 'smokemesh'];
      for (const who of order) {
        const r = who === 'smokemesh' ? (s = await smokemesh(runner, hosts, p)) : await bare(who, hosts, p);
        if (who !== 'smokemesh') refs.set(`bare ${who}`, r.fping);
        all.push(r);
      }
      // In the order they ran.
      for (const who of order) {
        const r = who === 'smokemesh' ? s! : all.at(-1 - [...order].reverse().indexOf(who))!;
        console.log(`  ${String(rep + 1).padStart(3)} ${row(r, floor, who === 'smokemesh' ? refs : new Map()).trimStart()}`);
      }
      for (const [k, v] of refs) ratios.get(k)!.push((s!.fping + s!.node) / v);
      nodeCpu.push(s!.node);
    }
    for (const r of new Map(all.map((r) => [r.who, r.command])).entries()) console.log(`  command (${r[0]}): ${r[1]}`);
    for (const [k, v] of ratios) {
      console.log(`  ratio to ${k}: median ${median(v).toFixed(2)}× (min ${Math.min(...v).toFixed(2)}, max ${Math.max(...v).toFixed(2)}; ${v.map((x) => x.toFixed(2)).join(' ')}); goal ≤ 1.2×`);
    }
    console.log(`  the probe's Node process: median ${median(nodeCpu).toFixed(3)} CPU-s a round (${nodeCpu.map((x) => x.toFixed(2)).join(' ')})`);
    console.log('');
  }
  runner.close();
  console.log(`load average at end: ${load()}`);

  if (process.env.NEIGHBOUR !== '0') await neighbour();
}

function median(a: number[]): number {
  const s = [...a].sort((x, y) => x - y);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

/** CPU seconds per second a process uses while doing nothing, over `seconds`. */
async function idleCpu(pid: number, seconds: number): Promise<number> {
  const c0 = processCpu(pid);
  await new Promise((r) => setTimeout(r, seconds * 1000));
  return (processCpu(pid) - c0) / seconds;
}

/** CPU of a 1-target round while one big bare fping (10,000 targets, raw) runs beside it. */
async function neighbour(): Promise<void> {
  const p: IcmpParams = { pings: 20, timeout: 1000, step: 60, offset: '0%', packet_size: 56, tos: 0, interval: 1000, mininterval: 0.2 };
  console.log('1 target × 20 pings next to a bare `fping -C 20 -q -i 0.2 -p 1000` over 10,000 targets (raw socket):');
  for (const socket of ['raw', 'ping'] as const) {
    const probe = createIcmpProbe({ socket });
    const big = spawn('fping', ['-C', '20', '-q', '-i', '0.2', '-p', '1000', '-t', '1000', ...addresses(10000)], { stdio: 'ignore' });
    const bigDone = new Promise((resolve) => big.on('close', resolve));
    await new Promise((r) => setTimeout(r, 2000)); // let it reach its pace
    const load0 = load();
    const cpu0 = cpuSeconds();
    const t0 = performance.now();
    const [m] = await probe.measure([{ path: '/one', host: '127.0.0.1', params: p }], new AbortController().signal);
    const wall = (performance.now() - t0) / 1000;
    const cpu1 = cpuSeconds(); // the big fping is still running: not in cutime yet
    console.log(`  probe on ${socket} sockets: ${wall.toFixed(1)} s, fping CPU ${(cpu1.children - cpu0.children).toFixed(2)} s, ` +
      `lost ${m!.sent - m!.rtts.length}/${m!.sent}, big fping still running: ${big.exitCode === null}, load ${load0} → ${load()}`);
    await bigDone;
  }
}
