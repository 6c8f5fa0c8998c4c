// ICMP capacity: rounds of N loopback targets (127.x.y.z, all distinct: the whole 127/8
// answers locally) × 20 pings, through the real icmp probe and through ONE bare fping
// process sending the same packets, interleaved (bare, smokemesh, bare, smokemesh…), with
// the ratio of their CPU seconds. Prints the commands, the config and the load average.
//
//   node --import tsx bench/icmp-capacity.ts [N[@interval_ms]…]   (npm run bench:icmp)
//   default: 1000 10000 50000@2500; Node runs as bin/smokemesh.js runs it (tsx's loader)
//   env REPS=2            rounds of each contender per size
//   env BARE=raw,ping     bare fping references: on a raw socket (what `fping` does as root or
//                         with Debian's cap_net_raw) and on a ping socket (`unshare --user`)
//   env SOCKET=auto       the probe's socket choice (auto | raw | ping)
//   env NETNS=1           run inside a private network namespace made here, whose
//                         net.ipv4.ping_group_range allows ping sockets (0 = the host's
//                         namespace as it is configured)
//   env NEIGHBOUR=1       also measure a 1-target round next to a big bare fping
//   env SWEEP=0.25        the planner's sweepFraction (part of the interval one process's sweep may take)
//
// Peak RSS: this Node process plus its live fping children, sampled every 2 s.
// Why a namespace: other processes' ICMP (other test suites on a shared machine) reaches
// every raw socket of the host namespace and would be counted against fping; the namespace
// also lets ping sockets be allowed without touching the host's sysctl. Run as root.
// Traffic goes to 127.0.0.0/8 only.
import { spawn, execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { loadavg, cpus, release } from 'node:os';
import { createIcmpProbe, ICMP_BATCH } from '../src/probes/icmp.ts';
import { DEFAULT_SHARD_LIMITS } from '../src/probes/fping/plan.ts';
import { parseFpingOutput } from '../src/probes/fping/parser.ts';
import { parseSocketChoice } from '../src/probes/fping/socket.ts';
import type { IcmpParams } from '../src/probes/params.ts';
import type { ProbeTarget } from '../src/probes/probe.ts';

const CLK_TCK = 100; // Linux USER_HZ as /proc reports it
const INSIDE = 'SMX_BENCH_NETNS';

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

/** Resident memory of this process plus its live children, kB. */
function treeRssKb(): number {
  let total = rssKb('self');
  for (const tid of readdirSync('/proc/self/task')) {
    let kids = '';
    try { kids = readFileSync(`/proc/self/task/${tid}/children`, 'utf8'); } catch { continue; }
    for (const pid of kids.split(' ').filter(Boolean)) total += rssKb(pid);
  }
  return total;
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

/** One bare fping process over all targets, as a user would run it. */
async function bare(kind: 'raw' | 'ping', hosts: string[], p: IcmpParams): Promise<Result> {
  const args = ['-C', String(p.pings), '-q', '-i', String(p.mininterval), '-p', String(p.interval), '-t', String(p.timeout), '-b', String(p.packet_size)];
  const argv = kind === 'raw' ? ['fping', ...args, ...hosts] : ['unshare', '--user', 'fping', ...args, '-S', '0.0.0.0', '-S', '::', ...hosts];
  globalThis.gc?.();
  const load0 = load();
  const cpu0 = cpuSeconds();
  const t0 = performance.now();
  let stderr = '';
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr.setEncoding('utf8').on('data', (c: string) => { stderr += c; });
  await new Promise((resolve) => child.on('close', resolve));
  const wall = (performance.now() - t0) / 1000;
  const cpu1 = cpuSeconds();
  const out = parseFpingOutput(stderr, p.pings);
  let received = 0;
  for (const r of out.hosts.values()) if ('rtts' in r) received += r.rtts.length;
  return {
    who: `bare fping, ${kind} socket`, processes: 1, wall, fping: cpu1.children - cpu0.children, node: 0,
    lost: hosts.length * p.pings - received, sent: hosts.length * p.pings, rssMb: 0, load0, load1: load(),
    command: shown(argv, hosts.length),
  };
}

/** One round through the icmp probe: the batches the scheduler would start together (offset 0 %). */
async function smokemesh(probe: ReturnType<typeof createIcmpProbe>, runs: string[][], hosts: string[], p: IcmpParams): Promise<Result> {
  const targets: ProbeTarget<IcmpParams>[] = hosts.map((host, i) => ({ path: `/bench/t${i}`, host, params: p }));
  const batches: ProbeTarget<IcmpParams>[][] = [];
  for (let i = 0; i < targets.length; i += ICMP_BATCH) batches.push(targets.slice(i, i + ICMP_BATCH));
  runs.length = 0;
  globalThis.gc?.();
  let peak = treeRssKb();
  const sampler = setInterval(() => { peak = Math.max(peak, treeRssKb()); }, 2000);
  const load0 = load();
  const cpu0 = cpuSeconds();
  const t0 = performance.now();
  const res = (await Promise.all(batches.map((b) => probe.measure(b, new AbortController().signal)))).flat();
  const wall = (performance.now() - t0) / 1000;
  const cpu1 = cpuSeconds();
  clearInterval(sampler);
  const errors = res.filter((m) => m.error);
  if (errors.length) console.log(`  (${errors.length} targets with errors, e.g. ${errors[0]!.error})`);
  const first = runs[0] ?? [];
  const n = first.filter((a) => a.startsWith('127.')).length;
  return {
    who: 'smokemesh icmp probe', processes: runs.length, wall, fping: cpu1.children - cpu0.children, node: cpu1.self - cpu0.self,
    lost: res.reduce((a, m) => a + m.sent - m.rtts.length, 0), sent: res.reduce((a, m) => a + m.sent, 0),
    rssMb: peak / 1024, load0, load1: load(), command: `${runs.length} × ${shown(first, n)}`,
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
  const reps = Number(process.env.REPS ?? 2);
  const bareKinds = (process.env.BARE ?? 'raw,ping').split(',').filter((k): k is 'raw' | 'ping' => k === 'raw' || k === 'ping');
  const socket = parseSocketChoice(process.env.SOCKET) ?? 'auto';
  const runs: string[][] = [];
  const limits = { ...DEFAULT_SHARD_LIMITS, sweepFraction: Number(process.env.SWEEP ?? DEFAULT_SHARD_LIMITS.sweepFraction) };
  const probe = createIcmpProbe({ socket, limits, onRun: (run) => { runs.push(run.argv); } });
  const why = await probe.unavailable!();
  if (why) throw new Error(`icmp probe unavailable: ${why}`);
  const decision = await probe.socket();
  const fpingVersion = execFileSync('fping', ['--version'], { encoding: 'utf8' }).trim();

  console.log(`icmp capacity bench, ${new Date().toISOString()}`);
  console.log(`machine: ${cpus().length} cores (${cpus()[0]?.model}), Linux ${release()}, Node ${process.version}, ${fpingVersion}`);
  console.log(`network namespace: ${process.env[INSIDE] ?? 'the host\'s'}; probe socket: ${decision.kind} (${decision.why})`);
  console.log(`load average at start: ${load()}`);
  const idle = await idleNodeCpu(10);
  console.log(`this Node process idle (tsx's loader thread, timers): ${(idle * 1000).toFixed(1)} ms of CPU per s, counted in its rounds below`);
  console.log('config: pings 20, timeout 1000 ms, packet_size 56, mininterval 0.2 ms (defaults); interval per case; floor = pings × interval');
  console.log(`planner: ${JSON.stringify(limits)}; the probe gets ${ICMP_BATCH.toLocaleString('en')} targets per call, calls started together (offset 0 %)`);
  console.log('CPU = fping children (cutime+cstime) + this Node process (utime+stime, smokemesh only), from /proc/self/stat\n');

  for (const { n, interval } of cases) {
    const p: IcmpParams = { pings: 20, timeout: 1000, step: 60, offset: '0%', packet_size: 56, tos: 0, interval, mininterval: 0.2 };
    const floor = (p.pings * p.interval) / 1000;
    const hosts = addresses(n);
    console.log(`${n.toLocaleString('en')} targets × ${p.pings} pings, interval ${interval} ms (floor ${floor} s):`);
    console.log(`  ${'who'.padEnd(24)} procs      wall  /floor      CPU fping + node = total  ratio                                lost/sent  peak RSS  load avg (1, 5, 15 min) before → after`);
    const all: Result[] = [];
    for (let rep = 0; rep < reps; rep++) {
      const refs = new Map<string, number>();
      for (const kind of bareKinds) {
        const r = await bare(kind, hosts, p);
        refs.set(`bare ${kind}`, r.fping);
        all.push(r);
        console.log(row(r, floor, new Map()));
      }
      const s = await smokemesh(probe, runs, hosts, p);
      all.push(s);
      console.log(row(s, floor, refs));
    }
    for (const r of new Map(all.map((r) => [r.who, r.command])).entries()) console.log(`  command (${r[0]}): ${r[1]}`);
    console.log('');
  }

  if (process.env.NEIGHBOUR !== '0') await neighbour();
}

/** CPU seconds per second this Node process uses while doing nothing, over `seconds`. */
async function idleNodeCpu(seconds: number): Promise<number> {
  globalThis.gc?.();
  const c0 = cpuSeconds();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  return (cpuSeconds().self - c0.self) / seconds;
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
