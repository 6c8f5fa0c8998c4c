import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { httpSink, type HttpSink } from '../http-sink-kit.ts';
import { launchChromium } from './browser.ts';
import { canvasColors } from './pixels.ts';
import { ensureWebBuilt, startRealServer, waitFor, type RealServer } from './real-server.ts';

/**
 * The UI end to end: the real server probing loopback targets (fping and a local HTTP
 * server), real rounds in the real store, Debian's chromium driven by playwright-core.
 * SMOKEMESH_SCREENSHOTS=1 saves the pages into docs/screenshots/ (=<dir>: into that folder).
 */
const SHOTS_ENV = process.env.SMOKEMESH_SCREENSHOTS;
const SHOTS = SHOTS_ENV === '1' ? resolve(dirname(fileURLToPath(import.meta.url)), '../../docs/screenshots') : SHOTS_ENV || undefined;
const GREEN = '#26ff00';
const XSS_TITLE = '本机 "lo" <script>window.__xss=1</script>';

let server: RealServer;
let web: HttpSink | undefined;
let browser: Browser;

async function api<T>(path: string): Promise<T> {
  const res = await fetch(server.url + path);
  if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

interface Pt { time: number; median: number | null; loss_pct: number | null }

/** The range that holds a target's history so far: its first round to just after its latest. */
async function dataRange(target: string): Promise<{ from: number; to: number }> {
  const res = await api<{ series: { points: Pt[] }[] }>(`/api/v1/series?target=${encodeURIComponent(target)}&from=${Date.now() - 600_000}&points=5000`);
  const pts = res.series[0]!.points;
  // Rounds that start after `to` cannot change what this range shows.
  return { from: pts[0]!.time - 1000, to: pts.at(-1)!.time + 1 };
}

before(async () => {
  ensureWebBuilt();
  web = await httpSink((_req, res) => { res.writeHead(200, { 'content-type': 'text/plain' }); res.end('ok'); });
  server = await startRealServer(`
general: { step: 2, pings: 5, title: "e2e mesh", agent_name: e2e-local }
alerts:
  to: "|/bin/true"
  fastpath:
    type: rtt
    pattern: "<1000,<1000"
    comment: loopback answers in under a second
targets:
  menu: Top
  children:
    Loopback:
      menu: 回环
      title: Loopback paths
      remark: two loopback addresses and a local web server
      probe: icmp
      interval: 50
      children:
        lo1: { host: 127.0.0.1, title: ${JSON.stringify(XSS_TITLE)}, labels: { isp: loop } }
        lo2: { host: 127.0.0.2, alerts: [fastpath] }
        web: { host: "${web.base}/", probe: http, pings: 3, interval: 50 }
`);
  // Real rounds: wait until every target has a few.
  await waitFor('eight rounds per target', async () => {
    const targets = ['/Loopback/lo1', '/Loopback/lo2', '/Loopback/web'];
    const counts = await Promise.all(targets.map(async (t) => {
      const r = await api<{ series: { points: unknown[] }[] }>(`/api/v1/series?target=${encodeURIComponent(t)}&from=${Date.now() - 600_000}`);
      return r.series[0]?.points.length ?? 0;
    }));
    if (counts.every((c) => c >= 8)) return true;
    throw new Error(`rounds so far: ${counts.join(', ')}`);
  }, 90_000, 500).catch((e: Error) => { throw new Error(`${e.message}\nserver output (tail):\n${server.output().slice(-3000)}`); });
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await server?.stop();
  await web?.close();
});

async function open(hash: string, ready: string, viewport = { width: 1200, height: 900 }): Promise<Page> {
  const page = await browser.newPage({ viewport });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${server.url}/${hash}`);
  await page.waitForSelector(ready, { timeout: 20_000 });
  assert.deepEqual(errors, []);
  return page;
}

async function shot(page: Page, name: string): Promise<void> {
  if (!SHOTS) return;
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: join(SHOTS, `live-${name}.png`), fullPage: true });
}

test('overview: a smoke graph per target with a green (no loss) median, figures, names as text', async () => {
  const page = await open('#/t/Loopback', '.overview[data-state=ready]');
  const cards = await page.$$eval('.card', (els) => els.map((e) => e.getAttribute('data-target')));
  assert.deepEqual(cards, ['/Loopback/lo1', '/Loopback/lo2', '/Loopback/web']);
  assert.equal(await page.textContent('.card[data-target="/Loopback/lo1"] .card-title'), XSS_TITLE);
  assert.equal(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss), undefined);
  const loss = await page.textContent('.card[data-target="/Loopback/lo1"] .loss-chip');
  assert.equal(loss, '0 %');
  // Seconds of history in a 10-hour graph: a sliver at the right edge, but in the median colour.
  const px = await canvasColors(page, '.card[data-target="/Loopback/lo1"] canvas', [GREEN]);
  assert.equal(px.canvases, 1);
  assert.ok(px.counts[0]! >= 2, `median pixels in ${GREEN}: ${px.counts[0]}`);
  await shot(page, 'overview');
  await page.close();
});

test('detail: legend equals the API figures, smoke and median drawn, drag zooms, double-click resets', async () => {
  const { from, to } = await dataRange('/Loopback/lo1');
  const page = await open(`#/t/Loopback/lo1?from=${from}&to=${to}`, '.graphs[data-state=ready]');
  const res = await api<{ series: { agent: string; points: Pt[] }[] }>(`/api/v1/series?target=/Loopback/lo1&from=${from}&to=${to}&points=1200`);
  assert.equal(res.series.length, 1);
  const pts = res.series[0]!.points;
  const med = pts.map((p) => p.median).filter((v): v is number => v !== null);
  const avg = med.reduce((a, b) => a + b, 0) / med.length;
  const sd = Math.sqrt(med.reduce((a, v) => a + (v - avg) ** 2, 0) / med.length);
  const losses = pts.map((p) => p.loss_pct).filter((v): v is number => v !== null);
  const stat = async (name: string) => Number(await page.getAttribute(`.legend td[data-stat="${name}"]`, 'data-value'));
  assert.ok(Math.abs((await stat('median-avg')) - avg) < 1e-9);
  assert.equal(await stat('median-min'), Math.min(...med));
  assert.equal(await stat('median-max'), Math.max(...med));
  assert.equal(await stat('median-now'), med.at(-1));
  assert.ok(Math.abs((await stat('stddev')) - sd) < 1e-9);
  assert.equal(await stat('loss-max'), Math.max(...losses));
  assert.equal(await stat('loss-now'), losses.at(-1));
  assert.match((await page.textContent('.legend .pings-every'))!, /5 pings every 2 s/);

  const px = await canvasColors(page, '.graph .chart canvas', [GREEN]);
  assert.ok(px.counts[0]! > 100, `median pixels: ${px.counts[0]}`);
  assert.ok(px.grey > 100, `smoke pixels: ${px.grey}`);

  // Hover shows the exact values of a round.
  const box = (await page.locator('.graph .chart .u-over').boundingBox())!;
  await page.mouse.move(box.x + box.width * 0.9, box.y + box.height / 2);
  await page.waitForFunction(() => /median .*\d+(\.\d+)? (µs|ms)/.test(document.querySelector('.hover')?.textContent ?? ''));
  await shot(page, 'detail');

  // Drag across the middle third: the URL gets the zoom and the graph is redrawn.
  await page.mouse.move(box.x + box.width / 3, box.y + box.height / 2);
  await page.mouse.down();
  await page.mouse.move(box.x + (2 * box.width) / 3, box.y + box.height / 2, { steps: 5 });
  await page.mouse.up();
  await page.waitForFunction(() => location.hash.includes('zoom='));
  const params = await page.evaluate(() => Object.fromEntries(new URLSearchParams(location.hash.split('?')[1])));
  const [zf, zt] = params.zoom!.split('-').map(Number) as [number, number];
  assert.ok(zf > from && zt < to && zt > zf, `zoomed ${zf}..${zt} inside ${from}..${to}`);
  assert.ok(Math.abs((zt - zf) - (to - from) / 3) < (to - from) * 0.05, 'a third of the range');
  await page.waitForSelector('.graphs[data-state=ready][data-view=zoom]');

  // Double-click goes back to the range the zoom came from.
  const box2 = (await page.locator('.graph .chart .u-over').boundingBox())!;
  await page.mouse.dblclick(box2.x + box2.width / 2, box2.y + box2.height / 2);
  await page.waitForFunction(() => !location.hash.includes('zoom='));
  assert.deepEqual(await page.evaluate(() => Object.fromEntries(new URLSearchParams(location.hash.split('?')[1]))), { from: String(from), to: String(to) });
  await page.close();
});

test('pages that follow "now" refresh themselves (?refresh=2): new data, moved range', async () => {
  const page = await open('#/t/Loopback?refresh=2', '.overview[data-state=ready]');
  await page.waitForSelector('.overview[data-loads="2"]', { timeout: 20_000 });
  await page.close();
  const detail = await browser.newPage({ viewport: { width: 1000, height: 800 } });
  const tos: number[] = [];
  detail.on('request', (r) => {
    const u = new URL(r.url());
    if (u.pathname.endsWith('/api/v1/series')) tos.push(Number(u.searchParams.get('to')));
  });
  await detail.goto(`${server.url}/#/t/Loopback/lo1?range=3h&refresh=2`);
  await detail.waitForSelector('.graphs[data-loads="2"]', { timeout: 20_000 });
  assert.ok(tos.length >= 2 && tos[1]! > tos[0]!, `series requests to=${tos.join(', ')}`);
  assert.equal(await detail.$$eval('.graph .chart', (c) => c.length), 1, 'the graph is replaced, not added');
  await detail.close();
});

test('HTTP target: stacked phases drawn and status 200 counted', async () => {
  const page = await open('#/t/Loopback/web?range=3h', '.graphs[data-state=ready]');
  const status = await page.$$eval('.results-table tbody tr', (rows) => rows.map((r) => (r.children[0] as HTMLElement).innerText.trim()));
  assert.ok(status.length >= 1 && status[0] === 'HTTP 200', `status rows: ${status}`);
  const px = await canvasColors(page, '.graph.http canvas', ['#80b1d3', '#fdb462']);
  assert.ok(px.counts[0]! + px.counts[1]! > 20, `phase pixels: ${px.counts}`);
  await page.close();
});

test('language and theme switch, remembered across reloads', async () => {
  const { from, to } = await dataRange('/Loopback/lo2');
  const page = await open(`#/t/Loopback/lo2?from=${from}&to=${to}`, '.graphs[data-state=ready]');
  await page.selectOption('#lang', 'zh-CN');
  await page.waitForSelector('.tabs a:has-text("最近 3 小时")');
  assert.equal(await page.textContent('.nav a[href="#/"]'), '概览');
  await page.click('#theme');
  await page.waitForSelector('html[data-theme=dark]');
  await page.waitForSelector('.graphs[data-state=ready]');
  await page.reload();
  await page.waitForSelector('.graphs[data-state=ready]');
  assert.equal(await page.getAttribute('html', 'data-theme'), 'dark');
  assert.equal(await page.getAttribute('html', 'lang'), 'zh-CN');
  const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  assert.equal(bg, 'rgb(20, 24, 28)');
  // Dark smoke is mixed toward white: still neutral grey, and the median still green.
  const px = await canvasColors(page, '.graph .chart canvas', [GREEN]);
  assert.ok(px.counts[0]! > 50 && px.grey > 50, `dark: median ${px.counts[0]}, smoke ${px.grey}`);
  assert.match((await page.textContent('.legend .pings-every'))!, /每 2 秒 5 次探测/);
  await shot(page, 'detail-dark-zh');
  await page.close();
});

test('375 px wide: no horizontal scrolling, the menu opens from a button', async () => {
  const page = await open('#/t/Loopback', '.overview[data-state=ready]', { width: 375, height: 800 });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok(overflow <= 0, `overflows by ${overflow}px`);
  assert.equal(await page.isVisible('.side'), false);
  await page.click('.menu-toggle');
  assert.equal(await page.isVisible('.side'), true);
  await page.click('.menu-toggle');
  await shot(page, 'mobile');
  await page.close();
  const detail = await open('#/t/Loopback/web?range=3h', '.graphs[data-state=ready]', { width: 375, height: 800 });
  const over = await detail.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok(over <= 0, `detail overflows by ${over}px`);
  const canvasWidth = await detail.$eval('.graph .chart canvas', (c) => c.getBoundingClientRect().width);
  assert.ok(canvasWidth <= 375 && canvasWidth > 250, `graph ${canvasWidth}px wide`);
  await detail.close();
});

test('openapi.json of the real server lists every concern\'s routes', async () => {
  const doc = await api<{ openapi: string; paths: Record<string, Record<string, unknown>> }>('/api/openapi.json');
  assert.match(doc.openapi, /^3\./);
  for (const p of ['/api/v1/health', '/api/v1/reload', '/api/v1/tree', '/api/v1/series', '/api/v1/overview', '/api/v1/top', '/api/v1/alerts']) {
    assert.ok(doc.paths[p], `missing ${p}; has ${Object.keys(doc.paths).join(', ')}`);
  }
  assert.ok(doc.paths['/api/v1/reload']!.post, 'reload is a POST');
});

test('search, charts, agents and alerts pages', async () => {
  const search = await open('#/search?q=loop', '[data-state=ready]');
  const hits = await search.$$eval('.results a', (as) => as.map((a) => a.getAttribute('href')));
  assert.ok(hits.includes('#/t/Loopback/lo1'), `hits: ${hits}`);
  await search.close();

  const charts = await open('#/charts', '.chart-sections[data-state=ready]');
  const rows = await charts.$$eval('.sorter[data-metric=median] .card canvas', (r) => r.length);
  assert.equal(rows, 3);
  await shot(charts, 'charts');
  await charts.close();

  const agents = await open('#/agents', '[data-state=ready]');
  assert.equal(await agents.textContent('tr[data-agent="e2e-local"] td:first-child'), 'e2e-local');
  assert.match((await agents.textContent('tr[data-agent="e2e-local"]'))!, /yes/);
  await agents.close();

  // The alert engine's active list: the rule that always matches on lo2, for the built-in agent.
  const alerts = await open('#/alerts', '[data-state=ready]');
  const alertRows = await alerts.$$eval('table.alerts tbody tr', (trs) => trs.map((tr) => Array.from(tr.children).map((td) => td.textContent)));
  assert.ok(alertRows.some((r) => r[0] === 'fastpath' && r[1] === '/Loopback/lo2' && r[2] === 'e2e-local'), `alert rows: ${JSON.stringify(alertRows)}`);
  await shot(alerts, 'alerts');
  await alerts.close();
});
