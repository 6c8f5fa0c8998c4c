// The fault-localization scenarios of issue 11 through a real server (store, alert engine,
// localization, webhook deliveries to a local receiver) on a simulated clock: every scripted
// fault, the causes raised, how many steps after the fault began, and the notifications
// delivered — today's behaviour (per-series alerts only) and with the localization scope.
// Run: node --import tsx bench/localize-scenarios.ts [provinces=31] [agentsPerCell=2] [idcs=5] [vipsPerIdc=20] [shard=0]
import { loadavg } from 'node:os';
import { cdnWorld } from '../src/localize/testkit.ts';
import { issueScenarios, simulate, type ScenarioReport } from '../test/localize-sim.ts';

const [provinces = 31, perCell = 2, idcs = 5, vips = 20, shard = 0] = process.argv.slice(2).map(Number);
const world = cdnWorld({ provinces, agentsPerCell: perCell, idcs, vipsPerIdc: vips, shard: shard === 1 });
const scenarios = issueScenarios(world);
console.log(`${world.agents.length} agents (${provinces} provinces × 3 ISPs × ${perCell}), ${world.targets.length} VIPs (${idcs} IDCs × ${vips}), ${world.pairs.length} series${shard ? ' (VIPs sharded within each cell)' : ''}, step ${world.step} s, ${world.pings} pings; per-target alerts: lossy ">50%,>50%,>50%" and slow Medratio(…300%), edge-triggered`);
const run = async (localize: boolean) => {
  const r = await simulate({ world, scenarios, warmup: 15, localize, progress: (l) => process.stderr.write(`  [${localize ? 'localize' : 'today'}] ${l}\n`) });
  console.log(`\n${localize ? 'WITH the localization scope (defaults: k=3, h=3)' : "TODAY'S behaviour (per-series alerts only)"}: ${r.steps} steps, ${r.rounds} rounds ingested in ${r.seconds.toFixed(0)} s`);
  console.log('scenario | causes raised (steps after the fault began) | notifications: cause raised/cleared, target raised/cleared | suppressed target alerts');
  for (const x of r.reports) console.log(line(x));
  return r.reports;
};
const line = (x: ScenarioReport) => `${x.name} | ${x.causes.map((c) => `${c.id} ${c.confidence} +${c.afterSteps}`).join(', ') || '-'} | ${x.sent.causeRaised}/${x.sent.causeCleared}, ${x.sent.targetRaised}/${x.sent.targetCleared}${x.sent.targetFiring ? ` (+${x.sent.targetFiring} firing)` : ''} = ${x.sent.total} | ${x.suppressed}`;
await run(false);
await run(true);
console.log(`\nload average: ${loadavg().map((l) => l.toFixed(2)).join(' ')}; node ${process.version}`);
