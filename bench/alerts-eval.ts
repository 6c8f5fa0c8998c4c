/**
 * Alert evaluation after a round: 10,000 series (2,500 targets × 4 agents), each target with
 * five alerts of SmokePing's documented kinds (patterns with and without `*X*`, a matcher),
 * fed one round per series per step through the engine's RoundSink, as the pipeline does.
 * Prints the start-up warm-up (every history read back from the store, filled beforehand with
 * 30 rounds per series as after a restart, in the background), the first step and the
 * following steps, quiet and with 1% of the series raising an alert (events recorded,
 * deliveries queued to a local webhook receiver).
 *
 *   npx tsx bench/alerts-eval.ts [targets=2500] [agents=4] [steps=20]
 */
import { createServer } from 'node:http';
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { createAlerts } from '../src/alerts/index.ts';
import { configIn, round, silentLog, storeIn, tempDir } from '../src/alerts/testkit.ts';
import type { Round } from '../src/probes/round.ts';

const TARGETS = Number(process.argv[2] ?? 2500);
const AGENTS = Number(process.argv[3] ?? 4);
const STEPS = Number(process.argv[4] ?? 20);

const server = createServer((req, res) => { req.resume(); req.on('end', () => res.writeHead(200).end()); });
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const port = (server.address() as { port: number }).port;

const dir = tempDir('smokemesh-bench-alerts-');
const groups = Math.ceil(TARGETS / 100);
let yaml = `general: { step: 60, pings: 20, data_dir: ./data }
notifiers:
  hook: { type: webhook, url: "http://127.0.0.1:${port}/", retries: 0 }
alerts:
  to: hook
  bigloss: { type: loss, pattern: "==0%,==0%,==0%,==0%,>20%,>20%,>20%", edgetrigger: yes, comment: sudden loss }
  someloss: { type: loss, pattern: ">0%,*12*,>0%,*12*,>0%", comment: loss 3 times in 25 rounds }
  startloss: { type: loss, pattern: "==S,>0%,>0%,>0%", comment: loss at start }
  rttdetect: { type: rtt, pattern: "<10,<10,<10,<10,<10,<100,>100,>100,>100", comment: routing change }
  checkloss: { type: matcher, pattern: "CheckLoss(l=>25,x=>3)", edgetrigger: yes, comment: loss for 3 rounds }
targets:
  alerts: [bigloss, someloss, startloss, rttdetect, checkloss]
  children:
`;
for (let g = 0; g < groups; g++) {
  yaml += `    G${g}:\n      children:\n`;
  for (let i = 0; i < 100 && g * 100 + i < TARGETS; i++) yaml += `        t${i}: { host: 127.0.${g}.${i + 1} }\n`;
}
const config = configIn(dir, yaml);
const store = storeIn(dir, config);
const paths: string[] = [];
for (let g = 0; g < groups; g++) for (let i = 0; i < 100 && g * 100 + i < TARGETS; i++) paths.push(`/G${g}/t${i}`);

// 30 stored rounds per series before the engine starts, as after a restart: the first step
// then reads each series' history back from the store.
const HISTORY = 30;
let time = Math.floor(Date.now() / 60000) * 60000 - (STEPS + 5 + HISTORY) * 60000;
for (let k = 0; k < HISTORY; k++) {
  const batch: Round[] = [];
  paths.forEach((p, ti) => { for (let a = 0; a < AGENTS; a++) batch.push(round(p, `a${a}`, time, 20, 0, 5 + ((ti + a + k) % 3), 60)); });
  store.write(batch);
  time += 60000;
}
const warmStart = performance.now();
const alerts = createAlerts({ config, store, log: silentLog, builtinAgent: 'a0' });
const warmedSeries = await alerts.warmed;
const warmMs = performance.now() - warmStart;
const stepRounds = (lossyShare: number, k: number): Round[] => {
  const out: Round[] = [];
  paths.forEach((p, ti) => {
    for (let a = 0; a < AGENTS; a++) {
      const lossy = (ti * AGENTS + a) % Math.round(1 / lossyShare || 1e9) === 0 && lossyShare > 0;
      out.push(round(p, `a${a}`, time, 20, lossy ? 12 : 0, 5 + ((ti + a + k) % 3), 60));
    }
  });
  time += 60000;
  return out;
};

const timed = (rounds: Round[]): number => {
  const t = performance.now();
  alerts.sink.write(rounds);
  return performance.now() - t;
};

const quiet: number[] = [];
const first = timed(stepRounds(0, 0));
for (let k = 1; k < STEPS; k++) quiet.push(timed(stepRounds(0, k)));
const firing: number[] = [];
const before = alerts.db.events({ limit: 1000000 }).length;
for (let k = 0; k < 5; k++) firing.push(timed(stepRounds(0.01, k)));
const events = alerts.db.events({ limit: 1000000 }).length - before;
await alerts.dispatcher.idle();
const sent = alerts.db.deliveries({ status: 'sent', limit: 100000 }).length;

const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const f = (x: number) => `${x.toFixed(1)} ms`;
console.log(`series: ${paths.length * AGENTS} (${paths.length} targets × ${AGENTS} agents), 5 alerts each`);
console.log(`start: ${warmedSeries} series read back from the store (${HISTORY} rounds each) in the background: ${f(warmMs)}`);
console.log(`first step after that: ${f(first)}`);
console.log(`steady steps, nothing firing: median ${f(med(quiet))}, max ${f(Math.max(...quiet))} over ${quiet.length} steps`);
console.log(`steps with 1% of series lossy (events + deliveries): median ${f(med(firing))}, max ${f(Math.max(...firing))}; events: ${events}, webhook deliveries sent: ${sent}`);
console.log(`load average: ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
await alerts.close();
store.close();
server.close();
