import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from './browser.ts';
import { ensureWebBuilt, startRealServer, waitFor, type RealServer } from './real-server.ts';
import { closedPort } from '../fixtures/ports.ts';

/**
 * The Alerts page end to end: the real server probes a closed loopback TCP port, so an
 * edge-triggered loss alert raises and goes to a webhook on a loopback port where nothing
 * listens (deliveries fail, are retried, then fail for good) and to an exec hook; a second,
 * plain alert fires every round (to the hook) so that silencing has something to mute.
 * Debian's chromium: the page shows all of it, creates a silence (first refused without the
 * admin token) and expires it; every effect is checked through the API.
 * SMOKEMESH_SCREENSHOTS=1 saves docs/screenshots/alerts.png and alerts-mobile.png (=<dir>: into that folder).
 */
const SHOTS_ENV = process.env.SMOKEMESH_SCREENSHOTS;
const SHOTS = SHOTS_ENV === '1' ? resolve(dirname(fileURLToPath(import.meta.url)), '../../docs/screenshots') : SHOTS_ENV || undefined;

interface Delivery { id: number; event_id: string; channel: string; status: string; attempts: number; last_error: string | null; attempt_log: { outcome: string }[] }
interface EventRow { id: string; time: number; state: string; alert: string; target: string; muted_by: string | null }
interface Silence { id: string; starts: number; ends: number; target?: string; labels?: Record<string, string>; comment: string; active: boolean }
interface Channel { name: string; last_error?: string; failed_attempts: number }

const tmp = mkdtempSync(join(tmpdir(), 'smokemesh-alerts-ui-'));
const hook = join(tmp, 'hook.sh');
let server: RealServer;
let browser: Browser;
let token: string;

async function api<T>(path: string): Promise<T> {
  const res = await fetch(server.url + path);
  if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

/** Adds the server's output to a failure so that a timeout says what the server did. */
function withOutput(e: Error): never {
  throw new Error(`${e.message}\nserver output (tail):\n${server.output().slice(-3000)}`);
}

before(async () => {
  ensureWebBuilt();
  writeFileSync(hook, `#!/bin/sh\nprintf '%s|' "$@" >> ${join(tmp, 'hook.out')}\necho >> ${join(tmp, 'hook.out')}\n`);
  chmodSync(hook, 0o755);
  server = await startRealServer(`
general: { step: 2, pings: 2, title: "alerts e2e", agent_name: e2e-local }
notifiers:
  noc-hook:
    type: webhook
    url: http://127.0.0.1:${await closedPort()}/hook
    retries: 2
    backoff_ms: 100
    timeout_ms: 2000
alerts:
  portdown:
    type: loss
    pattern: ">50%,>50%"
    edgetrigger: yes
    comment: the port stopped answering
    to: [noc-hook, "|${hook}"]
  stilldown:
    type: loss
    pattern: ">50%"
    comment: still no answer
    to: ["|${hook}"]
targets:
  children:
    Svc:
      labels: { site: lab }
      alerts: [portdown, stilldown]
      children:
        closed: { probe: tcp, host: 127.0.0.1, port: ${await closedPort()}, timeout: 200 }
`);
  token = readFileSync(join(server.dir, 'data', 'admin.token'), 'utf8').trim();
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await server?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

async function open(hash: string, viewport = { width: 1200, height: 900 }, init?: Record<string, string>): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage({ viewport });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  if (init) await page.addInitScript((kv) => { for (const [k, v] of Object.entries(kv)) localStorage.setItem(k, v); }, init);
  await page.goto(`${server.url}/${hash}`);
  await page.waitForSelector('.alerts-page[data-state=ready]', { timeout: 20_000 });
  return { page, errors };
}

test('alerts page: active alert, history, failing webhook deliveries and channel; silence created and expired from the UI', async () => {
  const { page, errors } = await open('#/alerts?refresh=2');

  // The alert as active, its "raised" in the history.
  await page.waitForSelector('table.alerts tr[data-alert=portdown][data-target="/Svc/closed"]', { timeout: 60_000 }).catch(withOutput);
  await page.waitForSelector('table.alert-history tr[data-state=raised]', { timeout: 20_000 });
  const raised = await page.$$eval('table.alert-history tr[data-state=raised]', (trs) => trs.map((tr) => Array.from(tr.children).map((td) => td.textContent)));
  assert.ok(raised.some((r) => r[1] === 'raised' && r[2] === 'portdown' && r[3] === '/Svc/closed' && r[4] === 'e2e-local'), JSON.stringify(raised));

  // The webhook's delivery: retried twice, then failed; the page shows the API's error.
  const failed = await waitFor('the webhook delivery to fail for good', async () =>
    (await api<Delivery[]>('/api/v1/alerts/deliveries?channel=noc-hook&status=failed'))[0]).catch(withOutput);
  assert.equal(failed.attempts, 3);
  assert.deepEqual(failed.attempt_log.map((a) => a.outcome), ['retry', 'retry', 'failed']);
  assert.ok(failed.last_error, 'a failed delivery has an error');
  const row = `table.deliveries tr[data-delivery="${failed.id}"]`;
  await page.waitForSelector(`${row}[data-status=failed].failing`, { timeout: 20_000 });
  assert.equal(await page.getAttribute(row, 'data-retries'), '2');
  assert.equal(await page.textContent(`${row} td.error`), failed.last_error);
  assert.equal(await page.textContent(`${row} td:nth-child(4)`), '3');
  assert.match((await page.textContent(`${row} td:nth-child(3)`))!, /failed.*retried ×2/);
  // The hook ran for the same event: sent, not highlighted.
  const hookSent = await waitFor('the hook delivery of the raised event', async () =>
    (await api<Delivery[]>(`/api/v1/alerts/deliveries?event=${failed.event_id}`)).find((d) => d.channel === `|${hook}` && d.status === 'sent'));
  assert.equal(await page.getAttribute(`table.deliveries tr[data-delivery="${hookSent.id}"]`, 'class'), '');

  // Channel status: the webhook failing with the dispatcher's last error; the hook fine.
  const channel = (await api<Channel[]>('/api/v1/alerts/channels')).find((c) => c.name === 'noc-hook')!;
  assert.ok(channel.failed_attempts >= 3, `failed attempts ${channel.failed_attempts}`);
  await page.waitForSelector('table.channels tr[data-channel=noc-hook].failing', { timeout: 20_000 });
  assert.equal(await page.textContent('table.channels tr[data-channel=noc-hook] td.error'), channel.last_error);
  assert.equal(await page.getAttribute(`table.channels tr[data-channel="|${hook}"]`, 'class'), '');

  // Labels that are not key=value pairs are caught before sending.
  await page.fill('.silence-form input[name=target]', '/Svc/**');
  await page.fill('.silence-form input[name=labels]', 'site');
  await page.fill('.silence-form input[name=comment]', 'maintenance window');
  await page.click('.silence-form button[type=submit]');
  await page.waitForSelector('.silence-form .form-msg.error', { timeout: 10_000 });
  assert.match((await page.textContent('.silence-form .form-msg'))!, /key=value/);
  // A silence without the token: refused with a message asking for it; nothing created.
  await page.fill('.silence-form input[name=labels]', 'site=lab');
  await page.click('.silence-form button[type=submit]');
  await page.waitForFunction(() => /needs the admin token/.test(document.querySelector('.silence-form .form-msg.error')?.textContent ?? ''), undefined, { timeout: 10_000 });
  assert.match((await page.textContent('.silence-form .form-msg'))!, /needs the admin token.*admin\.token/);
  assert.deepEqual(await api<Silence[]>('/api/v1/silences'), []);

  // With the token (stored, shown only by its last characters).
  await page.fill('.token-bar input[name=admin-token]', token);
  await page.click('.token-bar .token-save');
  assert.equal(await page.textContent('.token-status'), `set (…${token.slice(-3)})`);
  assert.equal(await page.inputValue('.token-bar input[name=admin-token]'), '');
  assert.ok(!(await page.evaluate(() => document.body.innerText)).includes(token), 'the token is never shown');
  const beforeCreate = Date.now();
  await page.click('.silence-form button[type=submit]');
  await page.waitForSelector('.silence-form .form-msg.ok', { timeout: 10_000 });
  const id = (await page.getAttribute('.silence-form .form-msg', 'data-silence'))!;
  const silence = (await api<Silence[]>('/api/v1/silences')).find((s) => s.id === id);
  assert.ok(silence, `silence ${id} exists`);
  assert.equal(silence.target, '/Svc/**');
  assert.deepEqual(silence.labels, { site: 'lab' });
  assert.equal(silence.comment, 'maintenance window');
  assert.equal(silence.active, true);
  assert.equal(silence.ends - silence.starts, 2 * 3600_000, 'default window: 2 h');
  // Left as filled in, the start means the moment the form is sent (the page may have been open for minutes).
  assert.ok(silence.starts >= beforeCreate && silence.starts <= Date.now(), `starts when sent: ${silence.starts - beforeCreate} ms after the click`);
  await page.waitForSelector(`table.silences tr[data-silence="${id}"][data-state=active] button.expire`, { timeout: 10_000 });

  // Further notifications of the target are recorded as silenced, not sent.
  const muted = await waitFor('a stilldown event muted by the silence', async () =>
    (await api<EventRow[]>('/api/v1/alerts/history?alert=stilldown')).find((e) => e.muted_by === id)).catch(withOutput);
  const mutedDeliveries = await api<Delivery[]>(`/api/v1/alerts/deliveries?event=${muted.id}`);
  assert.deepEqual(mutedDeliveries.map((d) => [d.channel, d.status, d.attempts]), [[`|${hook}`, 'silenced', 0]]);
  await page.waitForSelector(`table.alert-history tr[data-event="${muted.id}"][data-muted="${id}"]`, { timeout: 20_000 });
  assert.equal(await page.textContent(`table.alert-history tr[data-event="${muted.id}"] td:last-child`), 'silenced: maintenance window');
  if (SHOTS) {
    mkdirSync(SHOTS, { recursive: true });
    await page.screenshot({ path: join(SHOTS, 'alerts.png'), fullPage: true });
  }

  // Expire from the UI: kept as expired; notifications resume.
  await page.click(`table.silences tr[data-silence="${id}"] button.expire`);
  await page.waitForSelector(`table.silences tr[data-silence="${id}"][data-state=expired]`, { state: 'attached', timeout: 10_000 });
  const expiredAt = Date.now();
  const after = (await api<Silence[]>('/api/v1/silences')).find((s) => s.id === id)!;
  assert.equal(after.active, false);
  assert.ok(after.ends <= expiredAt && after.ends >= beforeCreate, `ends ${after.ends}`);
  const resumed = await waitFor('a stilldown event after the expiry, not muted', async () =>
    (await api<EventRow[]>('/api/v1/alerts/history?alert=stilldown')).find((e) => e.time > after.ends + 2000 && e.muted_by === null)).catch(withOutput);
  const resumedDeliveries = await waitFor('its delivery to be sent', async () =>
    (await api<Delivery[]>(`/api/v1/alerts/deliveries?event=${resumed.id}`)).find((d) => d.status === 'sent'));
  assert.equal(resumedDeliveries.channel, `|${hook}`);

  // Clearing the token forgets it.
  await page.click('.token-bar .token-clear');
  assert.equal(await page.textContent('.token-status'), 'not set');
  assert.equal(await page.evaluate(() => localStorage.getItem('smokemesh.adminToken')), null);
  assert.deepEqual(errors, []);
  await page.close();
});

test('alerts page at 375 px, dark theme, Chinese: no horizontal overflow, strings translated', async () => {
  const { page, errors } = await open('#/alerts', { width: 375, height: 800 }, { 'smokemesh.theme': 'dark', 'smokemesh.lang': 'zh-CN' });
  assert.equal(await page.getAttribute('html', 'data-theme'), 'dark');
  assert.deepEqual(await page.$$eval('.alert-section h2', (hs) => hs.map((x) => x.textContent)), ['当前告警', '通知渠道', '静默', '历史', '投递记录']);
  const over = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok(over <= 0, `alerts page overflows by ${over}px`);
  const formWidth = await page.$eval('.silence-form', (f) => f.getBoundingClientRect().width);
  assert.ok(formWidth <= 375, `form ${formWidth}px wide`);
  // The page background follows the dark theme.
  const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  assert.equal(bg, 'rgb(20, 24, 28)');
  if (SHOTS) await page.screenshot({ path: join(SHOTS, 'alerts-mobile.png'), fullPage: true });
  assert.deepEqual(errors, []);
  await page.close();
});

test('history filtered by alert and deliveries by channel: every row matches, the totals are the server\'s', async () => {
  const total = async (path: string) => Number((await fetch(server.url + path)).headers.get('x-total-count'));
  await waitFor('events of both alerts, deliveries to both channels', async () =>
    (await total('/api/v1/alerts/history?alert=portdown')) >= 1 && (await total('/api/v1/alerts/history?alert=stilldown')) >= 2
      && (await total('/api/v1/alerts/deliveries?channel=noc-hook')) >= 1 && (await total(`/api/v1/alerts/deliveries?channel=${encodeURIComponent(`|${hook}`)}`)) >= 2).catch(withOutput);
  const { page, errors } = await open('#/alerts');
  const all = Number(await page.getAttribute('.pager[data-list=h]', 'data-total'));

  await page.selectOption('.list-filter[data-list=h] select[name=alert]', 'portdown');
  await page.click('.list-filter[data-list=h] button[type=submit]');
  await page.waitForFunction(() => location.hash.includes('h.alert=portdown'));
  await page.waitForFunction(() => {
    const rows = Array.from(document.querySelectorAll('table.alert-history tbody tr'));
    return rows.length > 0 && rows.every((tr) => tr.children[2]?.textContent === 'portdown');
  });
  const portdown = Number(await page.getAttribute('.pager[data-list=h]', 'data-total'));
  assert.ok(portdown >= 1 && portdown < all, `portdown events ${portdown} of ${all}`);
  assert.ok(portdown <= await total('/api/v1/alerts/history?alert=portdown'), 'no more than the server has');

  await page.selectOption('.list-filter[data-list=d] select[name=channel]', 'noc-hook');
  await page.click('.list-filter[data-list=d] button[type=submit]');
  await page.waitForFunction(() => location.hash.includes('d.channel=noc-hook'));
  // The history's filter stays in the URL beside the deliveries'.
  assert.match(await page.evaluate(() => location.hash), /h\.alert=portdown/);
  await page.waitForFunction(() => {
    const rows = Array.from(document.querySelectorAll('table.deliveries tbody tr'));
    return rows.length > 0 && rows.every((tr) => tr.getAttribute('data-channel') === 'noc-hook');
  });
  const shown = Number(await page.getAttribute('.pager[data-list=d]', 'data-total'));
  const everyChannel = await total('/api/v1/alerts/deliveries');
  assert.ok(shown >= 1 && shown < everyChannel && shown <= await total('/api/v1/alerts/deliveries?channel=noc-hook'), `noc-hook deliveries ${shown} of ${everyChannel}`);
  assert.deepEqual(errors, []);
  await page.close();
});
