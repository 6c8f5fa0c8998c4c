// Localization at scale: one step of the pure engine over ~100,000 series (31 provinces × 3 ISPs
// × 4 agents = 372 agents, each probing 10 IDCs × 27 VIPs = 270 VIPs), clean and with an IDC
// down plus a broken agent. Prints the time of each step (after a warm-up) and the memory the
// engine's state and one step's result hold, and the process's RSS. Each step's inputs are built
// just before it (untimed), one step's at a time, as the server holds them.
// Run: node --import tsx --expose-gc bench/localize-scale.ts [agentsPerCell=4] [idcs=10] [vipsPerIdc=27] [steps=12]
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { cdnWorld, roundsAt, scopeOf, seriesOf, type Fault } from '../src/localize/testkit.ts';
import { step } from '../src/localize/step.ts';
import type { LocalizeState, SeriesInput } from '../src/localize/types.ts';

const perCell = Number(process.argv[2] ?? 4);
const idcs = Number(process.argv[3] ?? 10);
const vips = Number(process.argv[4] ?? 27);
const STEPS = Number(process.argv[5] ?? 12);
const gc = (globalThis as { gc?: () => void }).gc;

const world = cdnWorld({ agentsPerCell: perCell, idcs, vipsPerIdc: vips });
const scope = scopeOf();
const T = Math.floor(Date.now() / 60000) * 60000 - 3600_000;
const stepMs = world.step * 1000;
const faults: Fault[] = [
  { name: 'idc down', from: T + 4 * stepMs, to: Infinity, match: (_a, t) => t.labels.idc === 'idc2', loss: 100 },
  { name: 'agent broken', from: T + 4 * stepMs, to: Infinity, match: (a) => a.name === 'mobile-sichuan-1', loss: 100 },
];

// One step's inputs at a time (the server keeps the latest round of each series), built before its clock starts.
const inputsOf = (i: number): SeriesInput[] => seriesOf(world, roundsAt(world, T + i * stepMs, i >= 6 ? faults : []));
const n = world.pairs.length;
let rssMax = 0;
// Live heap of the world alone, and with one step's rounds and inputs (what the engine is given).
gc?.();
const heapWorld = process.memoryUsage().heapUsed;
let probe: SeriesInput[] | undefined = inputsOf(0);
void probe;
gc?.();
const heapInputs = process.memoryUsage().heapUsed - heapWorld;
probe = undefined;

let state: LocalizeState | undefined;
// Wall time, and the CPU time of the process (user + system; less sensitive to a shared machine).
const times: { i: number; ms: number; cpu: number; causes: number; bad: number }[] = [];
let result: ReturnType<typeof step> | undefined;
for (let i = 0; i < STEPS; i++) {
  let input: SeriesInput[] | undefined = inputsOf(i);
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  result = step(scope, input, state, T + (i + 1) * stepMs);
  const c1 = process.cpuUsage(c0);
  const ms = performance.now() - t0;
  state = result.state;
  times.push({ i, ms, cpu: (c1.user + c1.system) / 1000, causes: result.causes.length, bad: result.counts.bad });
  rssMax = Math.max(rssMax, process.memoryUsage().rss);
  input = undefined;
}
// What the engine keeps between steps and one step's result: heap with them, then without.
gc?.();
const heap1 = process.memoryUsage().heapUsed;
const keptCauses = result!.causes.map((c) => `${c.id} (${c.confidence}${c.raised === null ? ', pending' : ''})`).join(', ');
const keptBad = result!.counts.bad;
state = undefined;
result = undefined;
gc?.();
const heap0 = process.memoryUsage().heapUsed;

const clean = times.slice(2, 6).map((t) => t.ms);
const faulty = times.slice(8).map((t) => t.ms);
const med = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)]!;
console.log(`localize-scale: ${n} series (${world.agents.length} agents × ${world.targets.length} VIPs in ${idcs} IDCs), roles isp/province → idc, item vip, defaults (k=${scope.raise_after})`);
for (const t of times) console.log(`  step ${String(t.i).padStart(2)}: ${t.ms.toFixed(1).padStart(7)} ms wall, ${t.cpu.toFixed(1).padStart(7)} ms CPU  bad series ${String(t.bad).padStart(6)}  causes ${t.causes}`);
const cpuClean = times.slice(2, 6).map((t) => t.cpu);
const cpuFaulty = times.slice(8).map((t) => t.cpu);
console.log(`clean steps (2-5): median ${med(clean).toFixed(1)} ms wall (max ${Math.max(...clean).toFixed(1)}), ${med(cpuClean).toFixed(1)} ms CPU (max ${Math.max(...cpuClean).toFixed(1)})`);
console.log(`fault steps (8-${STEPS - 1}, IDC down + one broken agent: ${keptBad} bad series): median ${med(faulty).toFixed(1)} ms wall (max ${Math.max(...faulty).toFixed(1)}), ${med(cpuFaulty).toFixed(1)} ms CPU (max ${Math.max(...cpuFaulty).toFixed(1)})`);
console.log(`causes at the end: ${keptCauses}`);
console.log(`memory: engine state + last result hold ${((heap1 - heap0) / 1048576).toFixed(1)} MiB of heap${gc ? '' : ' (run with --expose-gc for a clean figure)'}; process RSS after each step at most ${(rssMax / 1048576).toFixed(0)} MiB (world, one step's ${n} rounds and inputs, engine), peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`);
console.log(`live heap (after GC): the world ${(heapWorld / 1048576).toFixed(0)} MiB; one step's ${n} engine inputs ${(heapInputs / 1048576).toFixed(0)} MiB${gc ? '' : ' (run with --expose-gc)'}`);
console.log(`load average: ${loadavg().map((l) => l.toFixed(2)).join(' ')}; node ${process.version}`);
