// The fault-localization scenarios of issue 11 through a real server (store, alert engine,
// localization, webhook deliveries to a local receiver) on a simulated clock: every scripted
// fault, the causes raised, how many steps after the fault began, and the notifications
// delivered — today's behaviour (per-series alerts only) and with the localization scope; the
// time each localization step took in the server and the process's memory.
// Run: node --import tsx bench/localize-scenarios.ts [provinces=31] [agentsPerCell=2] [idcs=5] [vipsPerIdc=20] [shard=0] [runs=both|localize|today]
import { loadavg } from 'node:os';
import { cdnWorld } from '../src/localize/testkit.ts';
import { issueScenarios, simulate, type ScenarioReport } from '../test/localize-sim.ts';

const args = process.argv.slice(2);
const [provinces = 31, perCell = 2, idcs = 5, vips = 20, shard = 0] = args.slice(0, 5).map(Number);
const runs = args[5] ?? 'both';
const world = cdnWorld({ provinces, agentsPerCell: perCell, idcs, vipsPerIdc: vips, shard: shard === 1 });
const scenarios = issueScenarios(world);
const load = () => loadavg().map((l) => l.toFixed(2)).join(' ');
console.log(`${world.agents.length} agents (${provinces} provinces × 3 ISPs × ${perCell}), ${world.targets.length} VIPs (${idcs} IDCs × ${vips}), ${world.pairs.length} series${shard ? ' (VIPs sharded within each cell)' : ''}, step ${world.step} s, ${world.pings} pings; per-target alerts: lossy ">50%,>50%,>50%" and slow Medratio(…300%), edge-triggered`);
console.log(`load average at the start: ${load()}`);
const mib = (b: number) => `${(b / 1048576).toFixed(0)} MiB`;
const pct = (a: number[], p: number) => [...a].sort((x, y) => x - y)[Math.min(a.length - 1, Math.floor(p * a.length))]!;
const run = async (localize: boolean) => {
  const r = await simulate({ world, scenarios, warmup: 15, localize, progress: (l) => process.stderr.write(`  [${localize ? 'localize' : 'today'}] ${l}\n`) });
  console.log(`\n${localize ? 'WITH the localization scope (defaults: k=3, h=3)' : "TODAY'S behaviour (per-series alerts only)"}: ${r.steps} steps, ${r.rounds} rounds ingested in ${r.seconds.toFixed(0)} s; load average ${load()}`);
  if (r.stepSeconds.length) {
    const ms = r.stepSeconds.map((s) => s * 1000);
    console.log(`localization step (${ms.length} steps over ${world.pairs.length} series): median ${pct(ms, 0.5).toFixed(1)} ms, p95 ${pct(ms, 0.95).toFixed(1)} ms, max ${Math.max(...ms).toFixed(1)} ms (wall, in the server)`);
  }
  const mem = process.memoryUsage();
  console.log(`process (server + store + simulator): RSS ${mib(mem.rss)} now, peak ${mib(process.resourceUsage().maxRSS * 1024)}; heap used ${mib(mem.heapUsed)}`);
  console.log('scenario | causes raised (steps after the fault began) | notifications: cause raised/cleared, target raised/cleared | suppressed target alerts');
  for (const x of r.reports) console.log(line(x));
  return r.reports;
};
const line = (x: ScenarioReport) => `${x.name} | ${x.causes.map((c) => `${c.id} ${c.confidence} +${c.afterSteps}`).join(', ') || '-'} | ${x.sent.causeRaised}/${x.sent.causeCleared}, ${x.sent.targetRaised}/${x.sent.targetCleared}${x.sent.targetFiring ? ` (+${x.sent.targetFiring} firing)` : ''} = ${x.sent.total} | ${x.suppressed}`;
if (runs !== 'localize') await run(false);
if (runs !== 'today') await run(true);
console.log(`\nload average at the end: ${load()}; node ${process.version}`);
