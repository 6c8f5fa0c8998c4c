// A 360-day detail graph in headless Chromium: from the hash change to the drawn graph (API
// request + JSON + uPlot render + paint). Goal: ≤ 300 ms. Synthetic history in the real store.
// Also the target's default detail page (`#/t/G/year`: every detail range stacked since the
// stacked page exists; before it, the 3-hour graph alone), hash change → every graph painted.
import { startDevServer } from '../test/e2e/dev-server.ts';
import { syntheticRounds } from '../test/e2e/synthetic.ts';
import { launchChromium } from '../test/e2e/browser.ts';
import { ensureWebBuilt } from '../test/e2e/real-server.ts';
import { benchEnd, benchStart } from './ui-common.ts';

const DAY = 86_400_000;
const STEP = Number(process.env.STEP ?? 300);
const RUNS = Number(process.env.RUNS ?? 15);
benchStart(import.meta.filename, ['STEP', 'RUNS'], { step: STEP, runs: RUNS, history: '365 days of /G/year, 20 pings, 1 % ping loss', chromium: 'Debian /usr/bin/chromium, headless', viewport: '1400x900' });
ensureWebBuilt();
const now = Date.now();
const t0 = performance.now();
const srv = await startDevServer({
  configYaml: `general: { step: ${STEP}, pings: 20 }\ntargets:\n  children:\n    G:\n      children:\n        year: { host: 127.0.0.1 }\n        other: { host: 127.0.0.2 }\n`,
  rounds: syntheticRounds({ target: '/G/year', agent: 'local', from: now - 365 * DAY, to: now, step: STEP, pings: 20, base: 20, lossRate: 0.01, seed: 7 }),
});
console.log(`filled the store with 365 days at step ${STEP} s in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

// The API alone, from Node (same query the page makes).
const apiTimes: number[] = [];
for (let i = 0; i < RUNS; i++) {
  const a = performance.now();
  const res = await fetch(`${srv.url}/api/v1/series?target=/G/year&from=${now - 360 * DAY}&to=${now}&points=1200`);
  const body = (await res.json()) as { series: { tier: string; points: unknown[] }[] };
  apiTimes.push(performance.now() - a);
  if (i === 0) console.log(`API answer: tier ${body.series[0]!.tier}, ${body.series[0]!.points.length} points`);
}

const browser = await launchChromium();
const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
await page.goto(`${srv.url}/#/t/G/other`);
await page.waitForSelector('.graphs[data-state]');

/** Hash change → the graphs of `hash` exist and the frame after is painted. */
async function paint(hash: string): Promise<number> {
  await page.evaluate(() => { location.hash = '#/t/G/other?range=3h'; });
  await page.waitForSelector('main[data-page=t] .graphs[data-state=ready]');
  return page.evaluate((h) => new Promise<number>((resolve) => {
    const start = performance.now();
    const obs = new MutationObserver(() => {
      if (document.querySelector('.graphs[data-state=ready] canvas') && !location.hash.includes('other')) {
        obs.disconnect();
        // A task queued from the next frame's callback runs once that frame is painted.
        requestAnimationFrame(() => setTimeout(() => resolve(performance.now() - start), 0));
      }
    });
    obs.observe(document.body, { subtree: true, childList: true, attributes: true });
    location.hash = h;
  }), hash);
}
const times: number[] = [];
const stacked: number[] = [];
for (let i = 0; i < RUNS; i++) {
  times.push(await paint('#/t/G/year?range=360d'));
  stacked.push(await paint('#/t/G/year'));
}
const graphsOnDefault = await page.$$eval('.graphs canvas', (c) => c.length);
await paint('#/t/G/year?range=360d');
const pts = await page.$eval('.graph figcaption', (e) => e.textContent);
await browser.close();
await srv.close();

const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return `median ${s[Math.floor(s.length / 2)]!.toFixed(0)} ms, p90 ${s[Math.floor(s.length * 0.9)]!.toFixed(0)} ms, min ${s[0]!.toFixed(0)} ms, max ${s.at(-1)!.toFixed(0)} ms`;
};
console.log(`graph: ${pts}`);
console.log(`360-day API (Node fetch, ${RUNS} runs): ${stats(apiTimes)}`);
console.log(`360-day graph, hash change → painted (${RUNS} runs): ${stats(times)}  (goal ≤ 300 ms)`);
console.log(`default detail page (${graphsOnDefault} canvases), hash change → painted (${RUNS} runs): ${stats(stacked)}`);
benchEnd();
