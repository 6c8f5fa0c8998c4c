import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { makeRound, type Round } from '../../src/probes/round.ts';
import { launchChromium, openPage, type OpenOptions } from './browser.ts';
import { startDevServer, type DevServer } from './dev-server.ts';
import { canvasColors, leftmostInk, zeroLabelGap } from './pixels.ts';
import { ensureWebBuilt } from './real-server.ts';
import { prng } from './synthetic.ts';

/**
 * The UI read at a glance, in Debian's chromium over the real read API and SQLite store with
 * made-up rounds whose figures are known: loss colours for 5 pings, two agents (one losing 2
 * of 5), RTTs above a second, an untitled target. Pixels and DOM, English and 中文, light and
 * dark, 375 px; time zones through Chromium's own zone emulation.
 */
process.env.TZ = 'America/New_York';
const DAY = 86_400_000;
const BLUE_1_OF_5 = '#00b8ff';
const MAGENTA_20PCT_OF_20 = '#ff00ff';
const BLUE_2_OF_5 = '#0059ff';
const GREEN = '#26ff00';
const CONFIG = `
general: { step: 60, pings: 5, title: "glance" }
targets:
  children:
    G:
      title: Glance group
      children:
        five: { host: 127.0.0.1 }
        duo: { host: 127.0.0.3, title: Two agents }
        slow: { host: 127.0.0.2, title: Slow path }
`;

let srv: DevServer;
let browser: Browser;
const now = Date.now();

function* rounds(): Generator<Round> {
  const rnd = prng(42);
  const rtt = (base: number, spread: number) => base + spread * rnd();
  for (let time = Math.ceil((now - 2 * DAY) / 60_000) * 60_000; time < now; time += 60_000) {
    const base = { probe: 'icmp' as const, time, step: 60 };
    // 1 of 5 lost every round: blue for 5 pings (20 % would be magenta on the 20-ping palette).
    yield makeRound({ ...base, target: '/G/five', agent: 'local' }, { sent: 5, rtts: [1, 2, 3, 4].map(() => rtt(10, 4)) });
    yield makeRound({ ...base, target: '/G/duo', agent: 'a' }, { sent: 5, rtts: [1, 2, 3, 4, 5].map(() => rtt(20, 5)) });
    yield makeRound({ ...base, target: '/G/duo', agent: 'b' }, { sent: 5, rtts: [1, 2, 3].map(() => rtt(30, 5)) });
    yield makeRound({ ...base, target: '/G/slow', agent: 'local' }, { sent: 5, rtts: [1, 2, 3, 4, 5].map(() => rtt(1200, 700)) });
  }
}

before(async () => {
  ensureWebBuilt();
  srv = await startDevServer({
    configYaml: CONFIG, rounds: rounds(),
    agents: [
      { name: 'local', region: 'here', labels: {}, addresses: ['127.0.0.1'], alive: true, builtin: true },
      { name: 'a', region: 'here', labels: {}, addresses: [], alive: true, builtin: false, color: '#7a5c99' },
      { name: 'b', region: 'there', labels: {}, addresses: [], alive: true, builtin: false, color: '#99885c' },
    ],
  });
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await srv?.close();
});

async function open(hash: string, ready: string, o: OpenOptions & { url?: string } = {}): Promise<Page> {
  return openPage(browser, o.url ?? srv.url, hash, ready, o);
}

async function close(page: Page): Promise<void> {
  await page.context().close();
}

async function api<T>(path: string): Promise<T> {
  const res = await fetch(srv.url + path);
  assert.equal(res.status, 200, path);
  return (await res.json()) as T;
}

test('loss colours, the loss key and the legend follow the target\'s 5 pings (not 20)', async () => {
  const page = await open('#/t/G/five?range=3h', '.graphs[data-state=ready]');
  const px = await canvasColors(page, '.graph .chart canvas', [BLUE_1_OF_5, MAGENTA_20PCT_OF_20]);
  assert.ok(px.counts[0]! > 100, `median pixels in the 1-of-5 colour: ${px.counts[0]}`);
  assert.equal(px.counts[1], 0, 'no pixel in the colour 20 % has on the 20-ping palette');
  const key = await page.textContent('.loss-key');
  assert.match(key!, /lost of 5 pings/);
  assert.doesNotMatch(key!, /\/20/);
  assert.deepEqual(await page.$$eval('.loss-key .key-item', (els) => els.map((e) => e.textContent)), ['0', '1', '2', '3', '4', '5/5']);
  await close(page);

  const overview = await open('#/t/G', '.overview[data-state=ready]');
  const mini = await canvasColors(overview, '.card[data-target="/G/five"] canvas', [BLUE_1_OF_5, MAGENTA_20PCT_OF_20]);
  assert.ok(mini.counts[0]! > 20 && mini.counts[1] === 0, `overview mini: ${mini.counts}`);
  assert.equal(await overview.$eval('.card[data-target="/G/five"] .loss-chip', (e) => getComputedStyle(e).backgroundColor), 'rgb(0, 184, 255)');
  await close(overview);
});

test('two agents: the default overlay keeps loss in view (loss colours, agents told apart by line style), on the detail and the overview', async () => {
  const page = await open('#/t/G/duo?range=3h', '.graphs[data-state=ready]');
  assert.equal(await page.$$eval('.graph .chart', (c) => c.length), 1, 'one overlaid graph');
  const px = await canvasColors(page, '.graph .chart canvas', [BLUE_2_OF_5, GREEN]);
  assert.ok(px.counts[0]! > 100, `agent b's median in the 2-of-5 colour: ${px.counts[0]}`);
  assert.ok(px.counts[1]! > 100, `agent a's median green: ${px.counts[1]}`);
  // The legend tells the agents apart by their line's style.
  const dashes = await page.$$eval('.legend tbody .line-sample line', (ls) => ls.map((l) => l.getAttribute('stroke-dasharray')));
  assert.equal(dashes.length, 2);
  assert.notEqual(dashes[0], dashes[1]);
  await close(page);

  const overview = await open('#/t/G', '.overview[data-state=ready]');
  const mini = await canvasColors(overview, '.card[data-target="/G/duo"] canvas', [BLUE_2_OF_5, GREEN]);
  assert.ok(mini.counts[0]! > 20 && mini.counts[1]! > 20, `overview mini of two agents: ${mini.counts}`);
  await close(overview);
});

test('y-axis labels keep every digit (RTTs above a second)', async () => {
  const page = await open('#/t/G/slow?range=3h', '.graphs[data-state=ready]');
  const dpr = await page.evaluate(() => devicePixelRatio);
  const left = await leftmostInk(page, '.graph .chart canvas');
  assert.ok(left >= 2 * dpr, `the leftmost label starts ${left} px from the canvas edge (a cut label touches it)`);
  await close(page);
  const overview = await open('#/t/G', '.overview[data-state=ready]');
  assert.ok(await leftmostInk(overview, '.card[data-target="/G/slow"] canvas') >= 1, 'overview labels inside the canvas');
  await close(overview);
});

test('small graphs: the time labels stand clear below the y axis\' "0" (overview and Charts, light and dark, 1200 px and a 375-px phone screen)', async () => {
  for (const o of [{ width: 1200, theme: 'light' }, { width: 375, theme: 'dark', lang: 'zh-CN', scale: 2 }] as const) {
    const overview = await open('#/t/G', '.overview[data-state=ready]', o);
    for (const target of ['/G/five', '/G/duo', '/G/slow']) {
      const g = await zeroLabelGap(overview, `.card[data-target="${target}"] canvas`);
      assert.ok(g.gap >= 2 * g.dpr, `${o.width} px ${target}: "0" ends at row ${g.zeroBottom}, the time labels start at row ${g.timeTop} (${g.gap} px apart)`);
    }
    await close(overview);
  }
  const charts = await open('#/charts?range=3h', '.chart-sections[data-state=ready]');
  const g = await zeroLabelGap(charts, '.sorter[data-metric=median] .card:first-child canvas');
  assert.ok(g.gap >= 2 * g.dpr, `Charts: "0" ends at row ${g.zeroBottom}, the time labels start at row ${g.timeTop}`);
  await close(charts);
});

test('375 px: the time-zone menu shows its whole choice (as wide as its longest option needs), on screen, English and 中文', async () => {
  for (const lang of ['en', 'zh-CN'] as const) {
    const page = await open('#/t/G', '.overview[data-state=ready]', { width: 375, lang });
    const fit = await page.$eval('#tz', (sel) => {
      const natural = sel.cloneNode(true) as HTMLSelectElement;
      natural.style.cssText = 'position:absolute;visibility:hidden;max-width:none;width:auto;flex:none';
      document.body.append(natural);
      const r = sel.getBoundingClientRect();
      const out = { width: r.width, natural: natural.getBoundingClientRect().width, right: r.right, text: (sel as HTMLSelectElement).selectedOptions[0]!.text };
      natural.remove();
      return out;
    });
    assert.ok(fit.width >= fit.natural - 0.5 && fit.right <= 375, `${lang}: "${fit.text}" in ${fit.width} px of the ${fit.natural} px it needs, right edge at ${fit.right}`);
    await close(page);
  }
});

/** "2026-11-23 14:05:09" of a time in a zone, as the UI must write it. */
function inZone(ms: number, zone: string): string {
  const p = Object.fromEntries(new Intl.DateTimeFormat('en-US', {
    timeZone: zone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit',
  }).formatToParts(ms).map((x) => [x.type, x.value]));
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}:${p.second}`;
}

async function hoverTime(page: Page): Promise<string> {
  const box = (await page.locator('.graph .chart .u-over').first().boundingBox())!;
  await page.mouse.move(box.x + box.width * 0.5, box.y + box.height / 2);
  await page.mouse.move(box.x + box.width * 0.6, box.y + box.height / 2);
  await page.waitForFunction(() => /\d/.test(document.querySelector('.hover b')?.textContent ?? ''));
  return (await page.textContent('.hover b'))!;
}

test('times: 24-hour clock in English and 中文, the zone named, browser / server / UTC, the date where the range needs it', async () => {
  const tree = await api<{ presentation?: { server_time_zone: string } }>('/api/v1/tree');
  const serverZone = tree.presentation?.server_time_zone ?? 'UTC';
  const pts = (await api<{ series: { points: { time: number }[] }[] }>(`/api/v1/series?target=/G/five&from=${now - 4 * 3600_000}&points=5000`)).series[0]!.points;
  const shown = (zone: string) => new Set(pts.map((p) => inZone(p.time, zone)));

  for (const lang of ['en', 'zh-CN'] as const) {
    const page = await open('#/t/G/five?range=3h', '.graphs[data-state=ready]', { timezoneId: 'Asia/Shanghai', lang });
    const t = await hoverTime(page);
    assert.ok(shown('Asia/Shanghai').has(t), `${lang}: hover time ${t} is a round's time in the browser's zone`);
    assert.match(await page.textContent('.graph .zone') ?? '', /Asia\/Shanghai \(UTC\+08:00\)/);
    const ticks = (await page.getAttribute('.graph .chart', 'data-xticks'))!.split('|');
    for (const tick of ticks) assert.match(tick, /^\d{2}:\d{2}(\n\d{2}-\d{2})?$/, `${lang}: tick ${JSON.stringify(tick)}`);
    const text = await page.evaluate(() => document.body.innerText);
    assert.doesNotMatch(text, /\b(AM|PM)\b|上午|下午/);

    await page.selectOption('#tz', 'UTC');
    await page.waitForFunction(() => document.querySelector('.graph .zone')?.textContent === 'UTC');
    await page.waitForSelector('.graphs[data-state=ready]');
    assert.ok(shown('UTC').has(await hoverTime(page)), `${lang}: UTC`);
    await page.selectOption('#tz', 'server');
    await page.waitForFunction((z) => (document.querySelector('.graph .zone')?.textContent ?? '').includes(z), serverZone);
    await page.waitForSelector('.graphs[data-state=ready]');
    assert.ok(shown(serverZone).has(await hoverTime(page)), `${lang}: the server's zone ${serverZone}`);
    await close(page);
  }

  // Ranges over a day: the date on the ticks where the day changes; over 10 days: dates.
  const page = await open('#/t/G/five?range=30h', '.graphs[data-state=ready]', { timezoneId: 'Asia/Shanghai' });
  const ticks30 = (await page.getAttribute('.graph .chart', 'data-xticks'))!.split('|');
  assert.ok(ticks30.some((t) => /^\d{2}:\d{2}\n\d{2}-\d{2}$/.test(t)), `30 h ticks with a date: ${ticks30.join(' ')}`);
  await close(page);
  const page10 = await open('#/t/G/five?range=10d', '.graphs[data-state=ready]', { timezoneId: 'Asia/Shanghai' });
  for (const tick of (await page10.getAttribute('.graph .chart', 'data-xticks'))!.split('|')) assert.match(tick, /^\d{2}-\d{2}(\n\d{4})?$/);
  await close(page10);
});

async function drag(page: Page, selector: string): Promise<void> {
  await page.locator(selector).scrollIntoViewIfNeeded();
  const box = (await page.locator(selector).boundingBox())!;
  await page.mouse.move(box.x + box.width / 3, box.y + box.height / 2);
  await page.mouse.down();
  await page.mouse.move(box.x + (2 * box.width) / 3, box.y + box.height / 2, { steps: 5 });
  await page.mouse.up();
}

const params = (page: Page) => page.evaluate(() => Object.fromEntries(new URLSearchParams(location.hash.split('?')[1] ?? '')));

test('double-click after a zoom returns to the range the zoom came from (a custom range, a range of the stacked page)', async () => {
  const from = now - 40 * 3600_000;
  const to = now - 30 * 3600_000;
  const page = await open(`#/t/G/five?from=${from}&to=${to}`, '.graphs[data-state=ready]');
  await drag(page, '.graph .chart .u-over');
  await page.waitForFunction(() => location.hash.includes('zoom='));
  await page.waitForSelector('.graphs[data-state=ready][data-view=zoom]');
  const box = (await page.locator('.graph .chart .u-over').boundingBox())!;
  await page.mouse.dblclick(box.x + box.width / 2, box.y + box.height / 2);
  await page.waitForFunction(() => !location.hash.includes('zoom='));
  assert.deepEqual(await params(page), { from: String(from), to: String(to) });
  await page.waitForSelector('.custom.active');
  await close(page);

  const stacked = await open('#/t/G/five', '.graphs[data-state=ready][data-view=stacked]');
  await drag(stacked, '.range[data-range="30h"] .graph .chart .u-over');
  await stacked.waitForFunction(() => location.hash.includes('zoom='));
  assert.equal((await params(stacked)).range, '30h');
  await stacked.waitForSelector('.graphs[data-state=ready][data-view=zoom]');
  const b2 = (await stacked.locator('.graph .chart .u-over').boundingBox())!;
  await stacked.mouse.dblclick(b2.x + b2.width / 2, b2.y + b2.height / 2);
  await stacked.waitForFunction(() => !location.hash.includes('zoom='));
  assert.deepEqual(await params(stacked), { range: '30h' });
  await stacked.waitForSelector('.tabs a.active[data-range="30h"]');
  await close(stacked);
});

test('中文: the root is 概览 in the menu and the breadcrumbs, tiers are named in Chinese', async () => {
  const page = await open('#/t/G/five?range=3h', '.graphs[data-state=ready]', { lang: 'zh-CN' });
  assert.equal(await page.textContent('.tree > li:first-child > a'), '概览');
  assert.equal(await page.textContent('.crumbs a'), '概览');
  const caption = (await page.textContent('.graph figcaption'))!;
  assert.match(caption, /原始数据/);
  assert.doesNotMatch(await page.evaluate(() => document.querySelector('main')!.innerText), /\b(raw|Overview)\b/);
  await close(page);
});

test('375 px, dark, 中文: the legend fits (nothing cut off), no horizontal scrolling', async () => {
  const page = await open('#/t/G/duo?range=3h', '.graphs[data-state=ready]', { width: 375, theme: 'dark', lang: 'zh-CN' });
  const fit = await page.$$eval('.legend', (ls) => ls.map((l) => ({ right: l.getBoundingClientRect().right, scroll: l.scrollWidth - l.clientWidth })));
  assert.ok(fit.length >= 1);
  for (const f of fit) assert.ok(f.right <= 375 && f.scroll <= 0, `legend right ${f.right}, hidden ${f.scroll} px`);
  const over = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok(over <= 0, `page overflows by ${over} px`);
  assert.equal(await page.evaluate(() => getComputedStyle(document.body).backgroundColor), 'rgb(20, 24, 28)');
  await close(page);
});

test('overview cards: the title once, then the node name and the host where they add something', async () => {
  const page = await open('#/t/G', '.overview[data-state=ready]');
  const five = (await page.textContent('.card[data-target="/G/five"] header'))!;
  assert.equal(five.split('127.0.0.1').length - 1, 1, `host once: ${five}`);
  assert.match(five, /five/);
  assert.equal(await page.textContent('.card[data-target="/G/slow"] header .host'), 'slow · 127.0.0.2');
  await close(page);
});

test('Charts: SmokePing\'s sorters as small graphs, ranked as the API ranks them, each a link to its graph', async () => {
  const page = await open('#/charts?range=3h', '.chart-sections[data-state=ready]');
  for (const sorter of ['loss', 'median', 'stddev', 'change']) {
    const res = await api<{ rows: { target: string; agent: string }[] }>(`/api/v1/charts?sorter=${sorter}&range=3h&n=8`);
    const cards = await page.$$eval(`.sorter[data-metric=${sorter}] .card`, (cs) => cs.map((c) => `${c.getAttribute('data-target')}~${c.getAttribute('data-agent')}`));
    assert.deepEqual(cards, res.rows.map((r) => `${r.target}~${r.agent}`), sorter);
    assert.equal(await page.$$eval(`.sorter[data-metric=${sorter}] .card canvas`, (c) => c.length), cards.length, `${sorter}: a graph per card`);
  }
  // Worst loss: agent b of duo (2 of 5), then five (1 of 5).
  assert.deepEqual((await page.$$eval('.sorter[data-metric=loss] .card', (cs) => cs.map((c) => c.getAttribute('data-target')))).slice(0, 2), ['/G/duo', '/G/five']);
  const px = await canvasColors(page, '.sorter[data-metric=loss] .card:first-child canvas', [BLUE_2_OF_5]);
  assert.ok(px.counts[0]! > 20, `loss colours in the small graph: ${px.counts[0]}`);
  await page.click('.sorter[data-metric=loss] .card:first-child .mini-chart');
  await page.waitForFunction(() => location.hash.startsWith('#/t/G/duo'));
  assert.equal((await params(page)).agents, 'b');
  await close(page);
});

test('alert links /?target=<path> (and SmokePing\'s ?target=Group.Host) open the target', async () => {
  const page = await open('?target=%2FG%2Ffive', '.graphs[data-state=ready]');
  assert.equal(await page.textContent('main h1'), '127.0.0.1');
  assert.equal(await page.evaluate(() => location.hash), '#/t/G/five');
  await close(page);
  const dotted = await open('?target=G.slow', '.graphs[data-state=ready]');
  assert.equal(await dotted.textContent('main h1'), 'Slow path');
  await close(dotted);
});

test('a server that wants a login (401): the page says so plainly', async () => {
  const locked = await startDevServer({ configYaml: CONFIG, readToken: 'secret-token' });
  try {
    const page = await open('#/t/G/five', '.auth-required', { url: locked.url });
    assert.match((await page.textContent('.auth-required'))!, /sign in.*401/i);
    await close(page);
    const zh = await open('#/', '.auth-required', { url: locked.url, lang: 'zh-CN' });
    assert.match((await zh.textContent('.auth-required'))!, /登录.*401/);
    await close(zh);
  } finally {
    await locked.close();
  }
});

test('the detail page stacks the configured ranges (presentation.detail.ranges), each its own smoke graph', async () => {
  const cfg = CONFIG.replace('targets:', 'presentation:\n  detail:\n    ranges: { 2h: , 30h: , 10d: "Ten days" }\ntargets:');
  const custom = await startDevServer({ configYaml: cfg, rounds: (function* () { for (const r of rounds()) if (r.target === '/G/five') yield r; })() });
  try {
    const page = await open('#/t/G/five', '.graphs[data-state=ready][data-view=stacked]', { url: custom.url });
    assert.deepEqual(await page.$$eval('.graphs .range', (s) => s.map((x) => x.getAttribute('data-range'))), ['2h', '30h', '10d']);
    assert.deepEqual(await page.$$eval('.graphs .range figcaption', (s) => s.map((x) => x.firstChild!.textContent)), ['Last 2 Hours', 'Last 30 Hours', 'Ten days']);
    const px = await canvasColors(page, '.graphs .range canvas', [BLUE_1_OF_5]);
    assert.equal(px.canvases, 3);
    assert.ok(px.counts[0]! > 300, `medians drawn in every range: ${px.counts[0]}`);
    assert.deepEqual(await page.$$eval('.tabs a', (as) => as.map((a) => a.getAttribute('data-range'))), ['all', '2h', '30h', '10d']);
    await close(page);
  } finally {
    await custom.close();
  }
});

test('Compare: several targets and agents on one graph, each median in its own colour, a legend table, a shareable URL', async () => {
  const page = await open('#/compare?s=%2FG%2Fduo~a&s=%2FG%2Ffive~local&range=3h', '.graphs[data-state=ready]');
  const px = await canvasColors(page, '.graph .chart canvas', ['#1f77b4', '#e8590c']);
  assert.ok(px.counts[0]! > 100 && px.counts[1]! > 100, `each median in its own colour: ${px.counts}`);
  assert.deepEqual(await page.$$eval('.legend tbody', (b) => b.map((x) => x.getAttribute('data-agent'))), ['/G/duo~a', '/G/five~local']);
  assert.equal(await page.inputValue('.share'), await page.evaluate(() => location.href));
  await page.fill('.compare-add input[name=target]', '/G/slow');
  await page.dispatchEvent('.compare-add input[name=target]', 'change');
  await page.selectOption('.compare-add select[name=agent]', 'local');
  await page.click('.compare-add button[type=submit]');
  await page.waitForFunction(() => new URLSearchParams(location.hash.split('?')[1]).getAll('s').length === 3);
  await page.waitForSelector('.graphs[data-state=ready] .legend tbody[data-agent="/G/slow~local"]');
  // The same URL in another browser shows the same graph.
  const shared = await open((await page.evaluate(() => location.hash)), '.graphs[data-state=ready]');
  assert.equal(await shared.$$eval('.legend tbody', (b) => b.length), 3);
  await close(shared);
  await close(page);
});

test('export: CSV with the points behind the graph, PNG of the graph as drawn with its legend', async () => {
  const page = await open('#/t/G/five?range=3h', '.graphs[data-state=ready]');
  const [csvDl] = await Promise.all([page.waitForEvent('download'), page.click('.graph .export-csv')]);
  assert.match(csvDl.suggestedFilename(), /^G_five_3h\.csv$/);
  const csv = readFileSync((await csvDl.path())!, 'utf8').trim().split('\n');
  const head = csv[0]!.split(',');
  assert.deepEqual(head.slice(0, 13), ['time_ms', 'time', 'agent', 'tier', 'rounds', 'sent', 'lost', 'loss_pct', 'median', 'mean', 'min', 'max', 'stddev']);
  assert.deepEqual(head.slice(13), ['rtt_1', 'rtt_2', 'rtt_3', 'rtt_4']);
  const res = await api<{ series: { points: { time: number; median: number; sent: number; lost: number; smoke: number[] }[] }[] }>(`/api/v1/series?target=/G/five&from=${now - 4 * 3600_000}&points=5000`);
  const byTime = new Map(res.series[0]!.points.map((p) => [p.time, p]));
  assert.ok(csv.length > 150, `${csv.length - 1} rows`);
  for (const line of csv.slice(1)) {
    const f = line.split(',');
    const p = byTime.get(Number(f[0]));
    assert.ok(p, `row at ${f[0]} is a round of the API`);
    assert.equal(Number(f[8]), p.median);
    assert.deepEqual([Number(f[5]), Number(f[6])], [5, 1]);
    assert.deepEqual(f.slice(13).map(Number), p.smoke);
  }

  const [pngDl] = await Promise.all([page.waitForEvent('download'), page.click('.graph .export-png')]);
  assert.match(pngDl.suggestedFilename(), /^G_five_3h\.png$/);
  const png = readFileSync((await pngDl.path())!).toString('base64');
  const img = await page.evaluate(async (b64) => {
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const bmp = await createImageBitmap(new Blob([bytes], { type: 'image/png' }));
    const cv = document.createElement('canvas');
    cv.width = bmp.width;
    cv.height = bmp.height;
    const ctx = cv.getContext('2d')!;
    ctx.drawImage(bmp, 0, 0);
    const d = ctx.getImageData(0, 0, cv.width, cv.height).data;
    const chart = document.querySelector('.graph .chart canvas') as HTMLCanvasElement;
    let blue = 0;
    let inkBelow = 0;
    const legendTop = 48 * (chart.width / chart.getBoundingClientRect().width) + chart.height;
    for (let i = 0; i < d.length; i += 4) {
      const y = Math.floor(i / 4 / cv.width);
      if (Math.abs(d[i]! - 0) <= 12 && Math.abs(d[i + 1]! - 184) <= 12 && Math.abs(d[i + 2]! - 255) <= 12) blue++;
      if (y > legendTop && d[i]! < 128) inkBelow++;
    }
    return { width: cv.width, height: cv.height, chartWidth: chart.width, chartHeight: chart.height, blue, inkBelow };
  }, png);
  assert.equal(img.width, img.chartWidth, 'as wide as the canvas drawn');
  assert.ok(img.height > img.chartHeight + 100, `legend below the graph (${img.height} vs ${img.chartHeight})`);
  assert.ok(img.blue > 100, `the median in its loss colour: ${img.blue}`);
  assert.ok(img.inkBelow > 500, `legend text drawn: ${img.inkBelow}`);
  await close(page);
});

/** The rows of a CSV the page downloads when `button` is clicked (no quoted fields in ours). */
async function csvOf(page: Page, button: string): Promise<{ head: string[]; rows: string[][] }> {
  const [dl] = await Promise.all([page.waitForEvent('download'), page.click(button)]);
  const lines = readFileSync((await dl.path())!, 'utf8').trim().split('\n').map((l) => l.split(','));
  return { head: lines[0]!, rows: lines.slice(1) };
}

/** The last /api/v1/series answer the page asked for (the points behind its graph), fetched again. */
async function seriesShown(page: Page): Promise<{ series: { agent: string; tier: string; points: { time: number; median: number | null; sent: number; lost: number; smoke: number[] }[] }[] }> {
  const url = await page.evaluate(() => performance.getEntriesByType('resource').map((e) => e.name).filter((n) => n.includes('/api/v1/series?')).at(-1));
  assert.ok(url, 'the page read /api/v1/series');
  const res = await fetch(url);
  assert.equal(res.status, 200);
  return (await res.json()) as Awaited<ReturnType<typeof seriesShown>>;
}

test('export over buckets: CSV rows of both agents with the buckets\' quantiles (q0…q100) as the API gives them, times in the page\'s zone; Compare exports its series', async () => {
  const page = await open('#/t/G/duo?range=30h', '.graphs[data-state=ready]', { zone: 'UTC' });
  const { head, rows } = await csvOf(page, '.graph .export-csv');
  assert.deepEqual(head.slice(13), ['q0', 'q5', 'q10', 'q25', 'q40', 'q50', 'q60', 'q75', 'q90', 'q95', 'q100']);
  const shown = await seriesShown(page);
  assert.deepEqual(shown.series.filter((s) => s.points.length).map((s) => s.agent).sort(), ['a', 'b']);
  const points = new Map(shown.series.flatMap((s) => s.points.map((p) => [`${s.agent}@${p.time}`, { tier: s.tier, p }] as const)));
  assert.equal(rows.length, points.size, 'a row per bucket and agent');
  let last = 0;
  for (const f of rows) {
    const time = Number(f[0]);
    assert.ok(time >= last, 'oldest first');
    last = time;
    const hit = points.get(`${f[2]}@${time}`);
    assert.ok(hit, `row ${f[2]} at ${time} is a point of the graph`);
    assert.notEqual(hit.tier, 'raw');
    assert.equal(f[3], hit.tier);
    assert.equal(f[1], new Date(time).toISOString().replace(/\.\d{3}Z$/, 'Z'), 'the time in UTC, the page\'s zone');
    assert.deepEqual([Number(f[5]), Number(f[6]), Number(f[8])], [hit.p.sent, hit.p.lost, hit.p.median]);
    assert.deepEqual(f.slice(13).map(Number), hit.p.smoke);
  }
  await close(page);

  const compare = await open('#/compare?s=%2FG%2Fduo~a&s=%2FG%2Ffive~local&range=3h', '.graphs[data-state=ready]');
  const c = await csvOf(compare, '.graph .export-csv');
  // Each row names its series as the legend does (the target's title and the agent).
  assert.deepEqual([...new Set(c.rows.map((f) => f[2]))].sort(), ['127.0.0.1 · local', 'Two agents · a']);
  const [png] = await Promise.all([compare.waitForEvent('download'), compare.click('.graph .export-png')]);
  assert.match(png.suggestedFilename(), /\.png$/);
  assert.ok(readFileSync((await png.path())!).subarray(1, 4).toString() === 'PNG', 'a PNG file');
  await close(compare);
});

test('agents page: an agent with 30 addresses shows its first two routable ones and folds the rest (link-local too); every column on screen at 1200 and 375 px', async () => {
  const addresses = [
    'fe80::1:2ff:fe03:405', '169.254.10.1', '198.51.100.7', '2001:db8::7',
    ...Array.from({ length: 13 }, (_, i) => `203.0.113.${i + 1}`), ...Array.from({ length: 13 }, (_, i) => `2001:db8:1::${(i + 1).toString(16)}`),
  ];
  const busy = await startDevServer({
    configYaml: CONFIG,
    agents: [{ name: 'busy', region: 'here', labels: {}, addresses, alive: true, builtin: true, version: '1.2.3', last_seen: Date.now() - 5000 }],
  });
  try {
    for (const o of [{ width: 1200 }, { width: 375, lang: 'zh-CN', theme: 'dark' }] as const) {
      const page = await open('#/agents', '[data-state=ready]', { url: busy.url, ...o });
      const row = 'tr[data-agent="busy"]';
      assert.equal(await page.$eval(`${row} td.addresses`, (td) => td.firstChild!.textContent), '198.51.100.7, 2001:db8::7');
      assert.match(await page.innerText(`${row} .more-addresses summary`), /28/);
      assert.equal(await page.isVisible(`${row} .more-addresses > span`), false, 'the rest folded');
      const visible = await page.innerText(row);
      for (const a of ['fe80::1:2ff:fe03:405', '169.254.10.1', '203.0.113.1', '2001:db8:1::1']) assert.ok(!visible.includes(a), `${o.width}: ${a} in sight`);
      assert.match(visible, /1\.2\.3/);
      const off = await page.$$eval(`${row} td`, (tds) => tds.filter((td) => {
        const r = td.getBoundingClientRect();
        return r.width > 0 && r.right > window.innerWidth + 0.5;
      }).map((td) => td.textContent));
      assert.deepEqual(off, [], `${o.width}: cells off screen`);
      const over = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      assert.ok(over <= 0, `${o.width}: the page overflows by ${over} px`);
      await close(page);
    }
  } finally {
    await busy.close();
  }
});
