// ICMP capacity: one round of N loopback targets (127.x.y.z) × 20 pings through the real
// icmp probe (sharded fping). Prints wall time, CPU seconds of this process and of its fping
// children, average cores used, peak memory (this process + children), loss seen and the
// load average. Run: npx tsx bench/icmp-capacity.ts [N…]   (default 1000 5000 10000)
// Traffic goes to 127.0.0.0/8 only.
import { readFileSync, readdirSync } from 'node:fs';
import { loadavg } from 'node:os';
import { createIcmpProbe } from '../src/probes/icmp.ts';
import type { IcmpParams } from '../src/probes/params.ts';
import type { ProbeTarget } from '../src/probes/probe.ts';

const CLK_TCK = 100; // Linux USER_HZ as /proc reports it

/** CPU seconds of this process and of its exited, waited-for children (fping), from /proc/self/stat. */
function cpuSeconds(): { self: number; children: number } {
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

function loopbackTargets(n: number, params: IcmpParams): ProbeTarget<IcmpParams>[] {
  return Array.from({ length: n }, (_, i) => {
    const host = `127.${10 + Math.floor(i / 62500)}.${Math.floor(i / 250) % 250}.${(i % 250) + 1}`;
    return { path: `/bench/t${i}`, host, params };
  });
}

const params: IcmpParams = {
  pings: 20, timeout: 1000, step: 60, offset: 'random',
  packet_size: 56, tos: 0, interval: 1000, mininterval: 0.5, // the schema's defaults
};

const sizes = process.argv.slice(2).map(Number).filter((n) => n > 0);
let shards = 0;
const probe = createIcmpProbe({ onRun: () => { shards++; } });
const why = await probe.unavailable!();
if (why) {
  console.error(`icmp probe unavailable: ${why}`);
  process.exit(1);
}

console.log('targets  pings  shards  wall_s  cpu_node_s  cpu_fping_s  cores  peak_rss_MB  lost/sent  loadavg(1,5,15)');
for (const n of sizes.length ? sizes : [1000, 5000, 10000]) {
  const targets = loopbackTargets(n, params);
  shards = 0;
  let peak = treeRssKb();
  const sampler = setInterval(() => { peak = Math.max(peak, treeRssKb()); }, 250);
  const cpu0 = cpuSeconds();
  const t0 = performance.now();
  const res = await probe.measure(targets, new AbortController().signal);
  const wall = (performance.now() - t0) / 1000;
  const cpu1 = cpuSeconds();
  clearInterval(sampler);
  const errors = res.filter((m) => m.error).length;
  const sent = res.reduce((a, m) => a + m.sent, 0);
  const lost = res.reduce((a, m) => a + m.sent - m.rtts.length, 0);
  const node = cpu1.self - cpu0.self;
  const fping = cpu1.children - cpu0.children;
  console.log([
    String(n).padStart(7), String(params.pings).padStart(6), String(shards).padStart(7),
    wall.toFixed(1).padStart(7), node.toFixed(2).padStart(11), fping.toFixed(2).padStart(12),
    ((node + fping) / wall).toFixed(2).padStart(6), (peak / 1024).toFixed(0).padStart(12),
    `${lost}/${sent}`.padStart(10), ' ' + loadavg().map((l) => l.toFixed(2)).join(' '),
  ].join(' ') + (errors ? `  (${errors} targets with errors)` : ''));
}
