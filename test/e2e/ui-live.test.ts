import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { readFileSync } from 'node:fs';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { networkInterfaces } from 'node:os';
import type { Browser, Page } from 'playwright-core';
import { httpSink, type HttpSink } from '../http-sink-kit.ts';
import { launchChromium, openPage, type OpenOptions } from './browser.ts';
import { ensureWebBuilt, startRealServer, waitFor, type RealServer } from './real-server.ts';
import { closedPort, closedUdpPort } from '../fixtures/ports.ts';

/**
 * The UI against the real server probing loopback: TCP targets on a closed port (failing, with
 * an alert firing every round so that the history grows), an HTTP server that answers 503 to
 * every third request, ICMP to 127.0.0.1 (fping) from the built-in agent's region to another.
 * Debian's chromium checks what a person reads: failure reasons in plain sight, HTTP results
 * that agree with themselves, the agents page, regions in µs, alert state and duration, the
 * history and deliveries filtered and paged by the server, tables at 375 px; and the responses
 * go out compressed.
 */
const WEB_DIST = resolve(dirname(fileURLToPath(import.meta.url)), '../../web/dist');
let server: RealServer;
let flaky: HttpSink | undefined;
let browser: Browser;
let hits = 0;

async function api<T>(path: string): Promise<{ body: T; total: number }> {
  const res = await fetch(server.url + path);
  if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
  return { body: (await res.json()) as T, total: Number(res.headers.get('x-total-count')) };
}

before(async () => {
  ensureWebBuilt();
  flaky = await httpSink((_req, res) => {
    hits++;
    // The first of each round's three attempts fails: the round's last status is a 200.
    res.writeHead(hits % 3 === 1 ? 503 : 200, { 'content-type': 'text/plain' });
    res.end('ok');
  });
  const closed = await closedPort();
  const closedUdp = await closedUdpPort();
  server = await startRealServer(`
general: { step: 1, pings: 2, title: "live", agent_name: e2e-local, region: here }
alerts:
  stilldown:
    type: loss
    pattern: ">50%"
    comment: no answer
    to: ["|/bin/true"]
targets:
  labels: { region: lo }
  children:
    Live:
      children:
        lo: { host: 127.0.0.1, pings: 3, step: 2, interval: 20, timeout: 500 }
        # A refused connect answers at once; the long timeout keeps a loaded machine's slow
        # event loop from turning refusals into timeouts.
        flaky: { host: "${flaky.base}/", probe: http, pings: 3, step: 2, timeout: 2000 }
        closed1: { probe: tcp, host: 127.0.0.1, port: ${closed}, timeout: 900, alerts: [stilldown] }
        closed2: { probe: tcp, host: 127.0.0.1, port: ${closed}, timeout: 900, alerts: [stilldown] }
        closed3: { probe: tcp, host: 127.0.0.1, port: ${closed}, timeout: 900, alerts: [stilldown] }
        # fping cannot bind a source address the machine does not have (no packet leaves); a
        # region of its own keeps it out of the here → lo cell of the regions page.
        pingfail: { host: 127.0.0.1, source: 192.0.2.1, pings: 2, step: 2, timeout: 500, labels: { region: failing } }
        # A DNS server port nothing listens on: the kernel answers "port unreachable".
        dnsfail: { probe: dns, host: 127.0.0.1, port: ${closedUdp}, query_name: localhost, pings: 2, step: 2, timeout: 900 }
`);
  await waitFor('rounds of every target and 60 alert events', async () => {
    const events = (await api<unknown[]>('/api/v1/alerts/history?limit=100')).body.length;
    const web = (await api<{ series: { points: unknown[] }[] }>(`/api/v1/series?target=/Live/flaky&from=${Date.now() - 600_000}`)).body.series[0]?.points.length ?? 0;
    const lo = (await api<{ series: { points: unknown[] }[] }>(`/api/v1/series?target=/Live/lo&from=${Date.now() - 600_000}`)).body.series[0]?.points.length ?? 0;
    const failing = (await api<{ rounds: { target: string; error?: string }[] }>('/api/v1/latest?prefix=/Live')).body.rounds
      .filter((r) => (r.target === '/Live/pingfail' || r.target === '/Live/dnsfail') && r.error).length;
    if (events >= 60 && web >= 4 && lo >= 3 && failing === 2) return true;
    throw new Error(`events ${events}, flaky rounds ${web}, lo rounds ${lo}, failing ICMP and DNS targets with a reason ${failing}`);
  }, 120_000, 500).catch((e: Error) => { throw new Error(`${e.message}\n${server.output().slice(-3000)}`); });
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await server?.stop();
  await flaky?.close();
});

async function open(hash: string, ready: string, o: OpenOptions = {}): Promise<Page> {
  return openPage(browser, server.url, hash, ready, o);
}

/** Cells (td) that end right of the viewport: content cut off or pushed off the screen. */
async function cellsOffScreen(page: Page, selector: string): Promise<string[]> {
  return page.$$eval(selector, (tds) => tds.filter((td) => {
    const r = td.getBoundingClientRect();
    return r.width > 0 && r.right > window.innerWidth + 0.5;
  }).map((td) => td.textContent ?? ''));
}

test('why a target fails is in plain sight: on its overview card and in a table under its graph', async () => {
  const overview = await open('#/t/Live', '.overview[data-state=ready]');
  const failure = await overview.locator('.card[data-target="/Live/closed1"] .card-failure');
  assert.equal(await failure.isVisible(), true);
  assert.match((await failure.textContent())!, /refused/i);
  await overview.context().close();

  const detail = await open('#/t/Live/closed1?range=3h', '.graphs[data-state=ready]');
  const rows = await detail.$$eval('.results-table tbody tr[data-outcome=failed] td:first-child', (tds) => tds.map((td) => (td as HTMLElement).innerText));
  assert.ok(rows.length >= 1 && rows.every((r) => /refused/i.test(r)), `failure rows: ${JSON.stringify(rows)}`);
  assert.equal(await detail.isVisible('.results-table'), true);
  await detail.context().close();
});

test('why an ICMP or a DNS target fails is in plain sight too: fping\'s own words, the DNS server\'s refusal', async () => {
  const reasons: Array<[string, RegExp]> = [['/Live/pingfail', /fping: cannot bind source address/], ['/Live/dnsfail', /127\.0\.0\.1:\d+\/udp: connection refused/]];
  const overview = await open('#/t/Live', '.overview[data-state=ready]');
  for (const [target, re] of reasons) {
    const failure = overview.locator(`.card[data-target="${target}"] .card-failure`);
    assert.equal(await failure.isVisible(), true, target);
    assert.match((await failure.textContent())!, re, target);
  }
  await overview.context().close();
  for (const [target, re] of reasons) {
    const detail = await open(`#/t${target}?range=3h`, '.graphs[data-state=ready]');
    const rows = await detail.$$eval('.results-table tbody tr[data-outcome=failed] td:first-child', (tds) => tds.map((td) => (td as HTMLElement).innerText));
    assert.ok(rows.length >= 1 && rows.every((r) => re.test(r)), `${target} failure rows: ${JSON.stringify(rows)}`);
    assert.equal(await detail.isVisible('.results-table'), true, target);
    await detail.context().close();
  }
});

test('HTTP results agree with themselves: a status code that failed is never shown as the answer', async () => {
  const page = await open('#/t/Live/flaky?range=3h', '.graphs[data-state=ready]');
  // Every row of every table under the graphs (but the legend): none names a 200 and a 503 at once.
  const texts = await page.$$eval('.graphs table:not(.legend) tbody tr', (trs) => trs.map((tr) => (tr.children[0] as HTMLElement).innerText.trim()));
  assert.ok(texts.length >= 2, `result rows: ${JSON.stringify(texts)}`);
  for (const t of texts) assert.ok(!(/\b200\b/.test(t) && /503/.test(t)), `contradicting row: ${t}`);
  const rows = await page.$$eval('.results-table tbody tr', (trs) => trs.map((tr) => ({ outcome: tr.getAttribute('data-outcome'), status: tr.getAttribute('data-status'), text: (tr.children[0] as HTMLElement).innerText.trim() })));
  assert.ok(rows.some((r) => r.outcome === 'ok' && r.text === 'HTTP 200' && r.status === '200'), JSON.stringify(rows));
  assert.ok(rows.some((r) => r.outcome === 'failed' && /^status 503 not in valid_status_codes/.test(r.text)), JSON.stringify(rows));
  for (const r of rows.filter((x) => x.outcome === 'ok')) assert.notEqual(r.status, '503', 'a 503 is never an answer');
  await page.context().close();
});

test('agents page: the built-in agent\'s link-local addresses folded away; every column on screen at 1200 and 375 px', async () => {
  const linkLocal = Object.values(networkInterfaces()).flat().filter((a) => a && !a.internal && /^fe[89ab]/i.test(a.address));
  for (const width of [1200, 375]) {
    const page = await open('#/agents', '[data-state=ready]', { width });
    const row = 'tr[data-agent="e2e-local"]';
    const text = await page.$eval(row, (tr) => (tr as HTMLElement).innerText);
    for (const a of linkLocal) assert.ok(!text.includes(a!.address), `${width}: ${a!.address} shown`);
    assert.match(text, /yes/);
    assert.deepEqual(await cellsOffScreen(page, `${row} td`), [], `${width}: cells off screen`);
    const over = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.ok(over <= 0, `${width}: page overflows by ${over} px`);
    await page.context().close();
  }
});

test('regions: latencies in µs like everywhere else, and the agent count explained', async () => {
  // The matrix is aggregated from rounds as they come: wait for the pair in the API first
  // (the page draws what the API has when it opens).
  await waitFor('the here → lo cell in the matrix', async () =>
    ((await api<{ cells: { source_region: string; target_region: string }[] }>('/api/v1/regions/matrix?probe=icmp')).body.cells
      .find((c) => c.source_region === 'here' && c.target_region === 'lo')), 120_000, 500);
  const page = await open('#/regions', 'td[data-source="here"][data-target="lo"]');
  const text = await page.innerText('td[data-source="here"][data-target="lo"]');
  assert.match(text, /\d+ µs/, text);
  assert.doesNotMatch(text, /0\.0\d ms/);
  assert.match(text, /1 of 1 agents OK/);
  await page.context().close();
});

test('alerts: state and duration instead of an internal counter; history and deliveries filtered and paged by the server', async () => {
  const page = await open('#/alerts', '.alerts-page[data-state=ready]');
  const states = await page.$$eval('table.alerts tr[data-alert=stilldown] td:nth-child(4)', (tds) => tds.map((td) => td.textContent ?? ''));
  assert.ok(states.length >= 3, `active rows ${states.length}`);
  for (const s of states) {
    assert.match(s, /^firing for \d+ (s|min)/);
    assert.doesNotMatch(s, /×/);
  }

  // Paging: 50 rows, the total from the server, the next page.
  const pagerTotal = Number(await page.getAttribute('.pager[data-list=h]', 'data-total'));
  assert.ok(pagerTotal >= 60, `history total ${pagerTotal}`);
  assert.equal(await page.$$eval('table.alert-history tbody tr', (r) => r.length), 50);
  assert.match((await page.textContent('.pager[data-list=h] .range'))!, /^1–50 of \d/);
  await page.click('.pager[data-list=h] .older');
  await page.waitForFunction(() => location.hash.includes('h.page=2'));
  await page.waitForSelector('.pager[data-list=h][data-page="2"]');
  assert.match((await page.textContent('.pager[data-list=h] .range'))!, /^51–/);

  // Filters: one target; the state; a time window. Every row matches, the total is the server's.
  await page.fill('.list-filter[data-list=h] input[name=target]', '/Live/closed2');
  await page.selectOption('.list-filter[data-list=h] select[name=state]', 'firing');
  await page.click('.list-filter[data-list=h] button[type=submit]');
  await page.waitForFunction(() => location.hash.includes('h.target=') && !location.hash.includes('h.page'));
  await page.waitForSelector('.pager[data-list=h][data-page="1"]');
  await page.waitForFunction(() => Array.from(document.querySelectorAll('table.alert-history tbody tr')).every((tr) => tr.children[3]?.textContent === '/Live/closed2'));
  const filtered = Number(await page.getAttribute('.pager[data-list=h]', 'data-total'));
  const apiFiltered = (await api<unknown[]>('/api/v1/alerts/history?target=%2FLive%2Fclosed2&state=firing&limit=1')).total;
  assert.ok(filtered > 0 && filtered <= apiFiltered && filtered < pagerTotal, `filtered ${filtered}, API ${apiFiltered}, all ${pagerTotal}`);
  const states2 = await page.$$eval('table.alert-history tbody tr', (trs) => trs.map((tr) => tr.getAttribute('data-state')));
  assert.ok(states2.every((s) => s === 'firing'));

  const since = Date.now() - 5000;
  // The page shows times in the browser's zone by default; type it the same way.
  const sinceText = await page.evaluate((ms) => {
    const d = new Date(ms);
    return [d.getFullYear(), '-', d.getMonth() + 1, '-', d.getDate(), ' ', d.getHours(), ':', d.getMinutes()]
      .map((x) => (typeof x === 'number' && x < 10 ? '0' + x : String(x))).join('');
  }, since);
  await page.fill('.list-filter[data-list=d] input[name=from]', sinceText);
  await page.selectOption('.list-filter[data-list=d] select[name=status]', 'sent');
  await page.click('.list-filter[data-list=d] button[type=submit]');
  await page.waitForFunction(() => location.hash.includes('d.from='));
  await page.waitForSelector('.pager[data-list=d][data-page="1"]');
  const from = Number(await page.evaluate(() => new URLSearchParams(location.hash.split('?')[1]).get('d.from')));
  assert.ok(Math.abs(from - Math.floor(since / 60_000) * 60_000) < 60_000, `d.from=${from}`);
  const dl = (await api<{ created: number; status: string }[]>(`/api/v1/alerts/deliveries?from=${from}&status=sent&limit=1`));
  assert.equal(Number(await page.getAttribute('.pager[data-list=d]', 'data-total')) <= dl.total, true);
  assert.ok(await page.$$eval('table.deliveries tbody tr', (trs) => trs.every((tr) => tr.getAttribute('data-status') === 'sent')));
  await page.context().close();
});

test('alerts page at 375 px (dark, 中文): every table readable without sideways scrolling', async () => {
  const page = await open('#/alerts', '.alerts-page[data-state=ready]', { width: 375, theme: 'dark', lang: 'zh-CN' });
  await page.waitForSelector('table.alert-history tbody tr');
  assert.deepEqual(await cellsOffScreen(page, 'main td'), []);
  const over = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok(over <= 0, `overflows by ${over} px`);
  // Each cell says which column it is.
  assert.equal(await page.$eval('table.alert-history tbody tr td:nth-child(3)', (td) => getComputedStyle(td, '::before').content), '"告警规则: "');
  assert.doesNotMatch(await page.evaluate(() => document.body.innerText), /上午|下午|\b(AM|PM)\b/);
  await page.context().close();
});

/** GET with one accepted encoding; the raw bytes and the header as sent. */
function rawGet(path: string, encoding: string): Promise<{ encoding: string | undefined; body: Buffer }> {
  return new Promise((res, rej) => {
    const u = new URL(server.url + path);
    request({ host: u.hostname, port: u.port, path: u.pathname + u.search, headers: { 'accept-encoding': encoding } }, (r) => {
      const chunks: Buffer[] = [];
      r.on('data', (c: Buffer) => chunks.push(c));
      r.on('end', () => res({ encoding: r.headers['content-encoding'], body: Buffer.concat(chunks) }));
    }).on('error', rej).end();
  });
}

test('the UI\'s files and the API go out compressed (brotli or gzip, as the browser asks)', async () => {
  const html = readFileSync(join(WEB_DIST, 'index.html'), 'utf8');
  const js = /src="\.\/(assets\/[^"]+\.js)"/.exec(html)![1]!;
  const file = readFileSync(join(WEB_DIST, js));
  const br = await rawGet('/' + js, 'br');
  assert.equal(br.encoding, 'br');
  assert.ok(br.body.length < file.length / 2, `${br.body.length} B on the wire for ${file.length} B`);
  assert.deepEqual(brotliDecompressSync(br.body), file);
  const gz = await rawGet('/api/v1/tree', 'gzip');
  assert.equal(gz.encoding, 'gzip');
  assert.equal((JSON.parse(gunzipSync(gz.body).toString()) as { title: string }).title, 'live');
  const plain = await rawGet('/api/v1/tree', 'identity');
  assert.equal(plain.encoding, undefined);
});
