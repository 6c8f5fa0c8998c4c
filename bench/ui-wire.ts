// Bytes on the wire of the web UI: every response a cold page load fetches (app, styles, API),
// as Chromium counts them (transferSize: headers + body as sent; encodedBodySize: the body as
// sent; decodedBodySize: after decompression). The overview of the demo tree and a detail page
// (30 h, two agents) over synthetic history in the real store, served as the server serves them.
import { startDevServer } from '../test/e2e/dev-server.ts';
import { demoConfig, demoRounds } from '../test/e2e/demo-data.ts';
import { launchChromium } from '../test/e2e/browser.ts';
import { ensureWebBuilt } from '../test/e2e/real-server.ts';
import { benchEnd, benchStart } from './ui-common.ts';

const DAY = 86_400_000;
benchStart(import.meta.filename, [], { chromium: 'Debian /usr/bin/chromium, headless', viewport: '1400x900', cache: 'cold context per page', data: 'demoConfig(8, 300): 24 targets in 3 groups, 2 days at step 300 s, half with a second agent' });
ensureWebBuilt();
const now = Date.now();
const srv = await startDevServer({ configYaml: demoConfig(8, 300), rounds: demoRounds(8, now - 2 * DAY, now, 300) });
const browser = await launchChromium();

interface Res { name: string; transfer: number; encoded: number; decoded: number }

async function load(hash: string, ready: string): Promise<Res[]> {
  const ctx = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  const page = await ctx.newPage();
  await page.goto(`${srv.url}/${hash}`);
  await page.waitForSelector(ready, { timeout: 60_000 });
  const doc = await page.evaluate(() => {
    const nav = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming;
    return { name: 'index.html', transfer: nav.transferSize, encoded: nav.encodedBodySize, decoded: nav.decodedBodySize };
  });
  const res = await page.evaluate(() => (performance.getEntriesByType('resource') as PerformanceResourceTiming[])
    .map((r) => ({ name: r.name.replace(/^https?:\/\/[^/]+\//, '').replace(/\?.*$/, ''), transfer: r.transferSize, encoded: r.encodedBodySize, decoded: r.decodedBodySize })));
  await ctx.close();
  return [doc, ...res];
}

const kb = (n: number) => `${(n / 1024).toFixed(1).padStart(8)} KB`;
for (const [label, hash, ready] of [
  ['overview (24 targets, 10 h)', '#/', '.overview[data-state=ready]'],
  ['detail (30 h, 2 agents)', '#/t/Backbone/t0?range=30h', '.graphs[data-state=ready]'],
] as const) {
  const rows = await load(hash, ready);
  console.log(`\n${label}: ${hash}`);
  console.log(`${'resource'.padEnd(34)} ${'on the wire'.padStart(11)} ${'body sent'.padStart(11)} ${'body'.padStart(11)}`);
  let t = 0, e = 0, d = 0;
  for (const r of rows) {
    t += r.transfer; e += r.encoded; d += r.decoded;
    console.log(`${r.name.slice(0, 34).padEnd(34)} ${kb(r.transfer)} ${kb(r.encoded)} ${kb(r.decoded)}`);
  }
  console.log(`${'total'.padEnd(34)} ${kb(t)} ${kb(e)} ${kb(d)}`);
}
await browser.close();
await srv.close();
benchEnd();
