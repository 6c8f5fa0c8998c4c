// Localization at scale: one step of the pure engine over ~100,000 series (31 provinces × 3 ISPs
// × 4 agents = 372 agents, each probing 10 IDCs × 27 VIPs = 270 VIPs), clean and with an IDC
// down plus a broken agent. Before each step (untimed) the step window's rounds are generated
// one at a time and handed to the holder the server keeps them in (src/localize/latest.ts: one
// small record per series, updated in place), and the step is given those records labelled for
// the scope, as LocalizeService does. Prints the time of each step, and memory split into what
// the process starts with, what the synthetic world (the generator's data) takes, and what the
// localization keeps (latest rounds + engine state + last result): live heap after GC, typed
// arrays, and the process's RSS after every step (no forced GC in between).
// Run: node --import tsx --expose-gc [--max-old-space-size=200] bench/localize-scale.ts [agentsPerCell=4] [idcs=10] [vipsPerIdc=27] [steps=12] [generator-only]
// `generator-only` generates the same rounds and drops them (no holder, no engine): the RSS the
// bench itself makes, to subtract. tsx alone adds ~60 MiB of RSS; for the server's figure run the
// built JavaScript, as production does:
//   npx esbuild bench/localize-scale.ts --bundle --platform=node --format=esm --outfile=/tmp/ls.mjs
//   node --expose-gc --max-old-space-size=200 /tmp/ls.mjs
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';
import { LatestRounds, labelled } from '../src/localize/latest.ts';
import { cdnWorld, roundsOf, scopeOf, type Fault } from '../src/localize/testkit.ts';
import { step } from '../src/localize/step.ts';
import type { LocalizeState, SeriesInput, StepResult } from '../src/localize/types.ts';

const perCell = Number(process.argv[2] ?? 4);
const idcs = Number(process.argv[3] ?? 10);
const vips = Number(process.argv[4] ?? 27);
const STEPS = Number(process.argv[5] ?? 12);
const generatorOnly = process.argv[6] === 'generator-only';
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc: the memory figures need a GC before each reading');
const MiB = (b: number) => `${(b / 1048576).toFixed(1)} MiB`;
/** Live memory after a full GC: heap used, and typed arrays' buffers (outside the heap). */
const live = () => {
  gc();
  const m = process.memoryUsage();
  return { heap: m.heapUsed, buffers: m.arrayBuffers, rss: m.rss };
};

const atStart = live();
const world = cdnWorld({ agentsPerCell: perCell, idcs, vipsPerIdc: vips });
const scope = scopeOf();
const T = Math.floor(Date.now() / 60000) * 60000 - 3600_000;
const stepMs = world.step * 1000;
const faults: Fault[] = [
  { name: 'idc down', from: T + 4 * stepMs, to: Infinity, match: (_a, t) => t.labels.idc === 'idc2', loss: 100 },
  { name: 'agent broken', from: T + 4 * stepMs, to: Infinity, match: (a) => a.name === 'mobile-sichuan-1', loss: 100 },
];
// The server's view of targets and agents (its tree and agent list), looked up per series as LocalizeService.inputs does.
const targetLabels = new Map(world.targets.map((t) => [t.path, t.labels]));
const agents = new Map(world.agents.map((a) => [a.name, a]));
const withWorld = live();

let latest: LatestRounds | undefined = new LatestRounds();
let generated = 0;
const feed = (i: number) => {
  for (const r of roundsOf(world, T + i * stepMs, i >= 6 ? faults : [])) {
    if (generatorOnly) generated += r.sent;
    else latest!.write(r);
  }
};
const inputs = (): SeriesInput[] => {
  const out: SeriesInput[] = [];
  for (const x of latest!.values()) {
    const a = agents.get(x.agent)!;
    out.push(labelled(x, targetLabels.get(x.target)!, a.labels, a.region));
  }
  return out;
};

const n = world.pairs.length;
let state: LocalizeState | undefined;
let result: StepResult | undefined;
// Wall time, and the CPU time of the process (user + system; less sensitive to a shared machine).
const times: { i: number; ms: number; cpu: number; causes: number; bad: number; rss: number }[] = [];
const liveAt: { i: number; heap: number; buffers: number }[] = [];
for (let i = 0; i < STEPS; i++) {
  feed(i);
  if (generatorOnly) {
    times.push({ i, ms: 0, cpu: 0, causes: 0, bad: 0, rss: process.memoryUsage().rss });
    continue;
  }
  const input = inputs();
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  result = step(scope, input, state, T + (i + 1) * stepMs);
  const c1 = process.cpuUsage(c0);
  const ms = performance.now() - t0;
  state = result.state;
  times.push({ i, ms, cpu: (c1.user + c1.system) / 1000, causes: result.causes.length, bad: result.counts.bad, rss: process.memoryUsage().rss });
  // Live memory after a clean step and after the last: the same figure means no growth step over step.
  if (i === 5 || i === STEPS - 1) {
    const m = live();
    liveAt.push({ i, heap: m.heap, buffers: m.buffers });
  }
}
if (generatorOnly) {
  console.log(`localize-scale generator-only: ${n} series × ${STEPS} steps of rounds generated and dropped (${generated} pings); V8 heap limit ${MiB(getHeapStatistics().heap_size_limit)}`);
  console.log(`  process RSS after each step's rounds (no forced GC): ${times.map((t) => MiB(t.rss)).join(', ')}; max ${MiB(Math.max(...times.map((t) => t.rss)))}; peak RSS ${MiB(process.resourceUsage().maxRSS * 1024)}`);
  console.log(`  live heap: at start ${MiB(atStart.heap)} (RSS ${MiB(atStart.rss)}), with the world +${MiB(withWorld.heap - atStart.heap)}`);
  console.log(`load average: ${loadavg().map((l) => l.toFixed(2)).join(' ')}; node ${process.version}`);
  process.exit(0);
}
const keptCauses = result!.causes.map((c) => `${c.id} (${c.confidence}${c.raised === null ? ', pending' : ''})`).join(', ');
const keptBad = result!.counts.bad;
const cols = state!.series;
const columnBytes = cols.last.byteLength + cols.base.byteLength + cols.samples.byteLength + cols.bad.byteLength + cols.badSince.byteLength;
const withAll = live();
// What the localization keeps: latest rounds + engine state + last result. Dropped, then measured again.
latest = undefined;
state = undefined;
result = undefined;
const withoutLocalize = live();

const clean = times.slice(2, 6);
const faulty = times.slice(8);
const med = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)]!;
const fig = (ts: typeof times) => `median ${med(ts.map((t) => t.ms)).toFixed(1)} ms wall (max ${Math.max(...ts.map((t) => t.ms)).toFixed(1)}), ${med(ts.map((t) => t.cpu)).toFixed(1)} ms CPU (max ${Math.max(...ts.map((t) => t.cpu)).toFixed(1)})`;
const limit = getHeapStatistics().heap_size_limit;
console.log(`localize-scale: ${n} series (${world.agents.length} agents × ${world.targets.length} VIPs in ${idcs} IDCs), roles isp/province → idc, item vip, defaults (k=${scope.raise_after}); V8 heap limit ${MiB(limit)}`);
for (const t of times) console.log(`  step ${String(t.i).padStart(2)}: ${t.ms.toFixed(1).padStart(7)} ms wall, ${t.cpu.toFixed(1).padStart(7)} ms CPU  bad series ${String(t.bad).padStart(6)}  causes ${t.causes}  RSS ${MiB(t.rss)}`);
console.log(`clean steps (2-5): ${fig(clean)}`);
console.log(`fault steps (8-${STEPS - 1}, IDC down + one broken agent: ${keptBad} bad series): ${fig(faulty)}`);
console.log(`causes at the end: ${keptCauses}`);
console.log('memory (live = after a full GC; buffers = typed arrays, outside the heap):');
console.log(`  process at start (node, modules${process.execArgv.some((a) => a.includes('tsx')) ? ', tsx' : ''}): live heap ${MiB(atStart.heap)}, RSS ${MiB(atStart.rss)}`);
console.log(`  the synthetic world (generator data, not the localization's): live heap +${MiB(withWorld.heap - atStart.heap)}`);
console.log(`  the localization (latest rounds of ${n} series + engine state + last result): live heap ${MiB(withAll.heap - withoutLocalize.heap)} + the state's typed columns ${MiB(columnBytes)}`);
console.log(`  live heap + buffers after step ${liveAt.map((l) => `${l.i}: ${MiB(l.heap + l.buffers)}`).join(', after step ')} (whole process)`);
console.log(`  process RSS after each step (no forced GC): max ${MiB(Math.max(...times.map((t) => t.rss)))}; peak RSS ${MiB(process.resourceUsage().maxRSS * 1024)}`);
console.log(`load average: ${loadavg().map((l) => l.toFixed(2)).join(' ')}; node ${process.version}`);
