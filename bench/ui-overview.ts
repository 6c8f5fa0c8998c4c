// Overview of 100 targets in headless Chromium: a fresh page load until every small smoke
// graph is drawn and painted. Goal: ≤ 1.5 s. Synthetic 10 h history (step 60 s, 20 pings).
import { startSyntheticGroup } from './synthetic-group.ts';
import { launchChromium } from '../test/e2e/browser.ts';
import { ensureWebBuilt } from '../test/e2e/real-server.ts';
import { benchEnd, benchStart } from './ui-common.ts';

const N = Number(process.env.TARGETS ?? 100);
const RUNS = Number(process.env.RUNS ?? 7);
benchStart(import.meta.filename, ['TARGETS', 'RUNS'], { targets: N, runs: RUNS, history: '10 h at step 60 s, 20 pings, loss on every 10th target', chromium: 'Debian /usr/bin/chromium, headless', viewport: '1400x900', cache: 'cold context per load' });
ensureWebBuilt();
const now = Date.now();
const srv = await startSyntheticGroup(N, 10, now);

const browser = await launchChromium();
const times: number[] = [];
for (let i = 0; i < RUNS; i++) {
  // A fresh context each time: nothing cached, as a first visit.
  const ctx = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  const page = await ctx.newPage();
  await page.goto(`${srv.url}/#/t/Many`);
  await page.waitForSelector('.overview[data-state=ready]', { timeout: 30_000 });
  // The app marks the frame after the one that painted every graph (time since navigation start).
  await page.waitForFunction(() => performance.getEntriesByName('overview:painted').length > 0);
  const ms = await page.evaluate(() => performance.getEntriesByName('overview:painted')[0]!.startTime);
  const drawn = await page.$$eval('.card canvas', (c) => c.length);
  if (drawn !== N) throw new Error(`only ${drawn} of ${N} graphs drawn`);
  times.push(ms);
  const marks = await page.evaluate(() => performance.getEntriesByType('mark').map((m) => `${m.name} ${m.startTime.toFixed(0)}`)
    .concat((performance.getEntriesByType('resource') as PerformanceResourceTiming[]).map((r) => `${r.name.replace(/^.*\/(api|assets)\//, '$1/').slice(0, 40)} ${r.startTime.toFixed(0)}→${r.responseEnd.toFixed(0)}`)));
  if (process.env.VERBOSE) console.log(`run ${i}: ${ms.toFixed(0)} ms | ${marks.join(' | ')}`);
  await ctx.close();
}
await browser.close();
await srv.close();
const s = [...times].sort((a, b) => a - b);
console.log(`overview of ${N} targets, navigation start → all ${N} graphs painted (${RUNS} cold loads): median ${s[Math.floor(s.length / 2)]!.toFixed(0)} ms, min ${s[0]!.toFixed(0)} ms, max ${s.at(-1)!.toFixed(0)} ms  (goal ≤ 1500 ms)`);
benchEnd();
