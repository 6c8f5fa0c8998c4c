import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import { launchChromium } from './browser.ts';
import { ensureWebBuilt, startRealServer, waitFor, type RealServer } from './real-server.ts';
import { closedPort } from '../fixtures/ports.ts';

/**
 * The Tasks page end to end with Debian's chromium and a real server: an mtr started from the
 * page (refused without the admin token, then run with it) shows its hop table; a TCP target
 * on a closed loopback port raises an alert with `trace: true`, whose trace is listed (and
 * marked) on the target's graph page. SMOKEMESH_SCREENSHOTS=1 saves docs/screenshots/tasks.png.
 */
const SHOTS_ENV = process.env.SMOKEMESH_SCREENSHOTS;
const SHOTS = SHOTS_ENV === '1' ? resolve(dirname(fileURLToPath(import.meta.url)), '../../docs/screenshots') : SHOTS_ENV || undefined;

let server: RealServer;
let browser: Browser;
let token: string;

before(async () => {
  ensureWebBuilt();
  server = await startRealServer(`
general: { step: 2, pings: 2, title: "tasks e2e", agent_name: e2e-local }
tasks:
  auto_trace: { min_interval_s: 1, count: 2, interval: 0.2, grace: 0.5 }
alerts:
  portdown: { type: loss, pattern: ">50%,>50%", edgetrigger: yes, comment: the port stopped answering, trace: true }
targets:
  children:
    lo: { host: 127.0.0.1, interval: 500 } # 2 pings and the timeout fit the 2 s step only closer than 1 s
    closed: { probe: tcp, host: 127.0.0.1, port: ${await closedPort()}, timeout: 200, alerts: [portdown] }
`, 90_000); // a loaded machine starts node + tsx slowly
  token = readFileSync(join(server.dir, 'data', 'admin.token'), 'utf8').trim();
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

test('tasks page: an mtr started from the page shows its hop table; an alert\'s trace is listed on the target\'s graph', { timeout: 180_000 }, async () => {
  const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${server.url}/#/tasks`);
  await page.waitForSelector('form.task-form');
  await page.selectOption('form.task-form select[name=kind]', 'mtr');
  await page.fill('form.task-form input[name=target]', '127.0.0.1');
  await page.check('form.task-form input[name=agent][value=e2e-local]');
  await page.click('form.task-form details summary');
  await page.fill('form.task-form input[name=count]', '3');
  await page.fill('form.task-form input[name=interval]', '0.2');
  await page.fill('form.task-form input[name=grace]', '0.5');
  // Without the token: refused, with a message asking for it.
  await page.click('form.task-form button[type=submit]');
  await page.waitForFunction(() => /needs the admin token/.test(document.querySelector('form.task-form .form-msg.error')?.textContent ?? ''), undefined, { timeout: 10_000 });
  await page.fill('.token-bar input[name=admin-token]', token);
  await page.click('.token-bar .token-save');
  await page.click('form.task-form button[type=submit]');
  await page.waitForSelector('.task-view[data-state=finished]', { timeout: 60_000 });
  const id = new URLSearchParams(new URL(page.url()).hash.split('?')[1]).get('id')!;
  const rec = await (await fetch(`${server.url}/api/v1/tasks/${id}`)).json() as { results: { agent: string; status: string; output: { hops: { avg: number }[] } }[] };
  assert.equal(rec.results[0]!.status, 'done');
  const row = await page.$$eval('.task-result[data-agent=e2e-local] table.hops tr[data-hop="1"] td', (tds) => tds.map((td) => td.textContent));
  assert.deepEqual(row.slice(0, 4), ['1', '127.0.0.1', '0.0', '3']);
  assert.equal(row[5], rec.results[0]!.output.hops[0]!.avg.toFixed(3));
  assert.match((await page.textContent('.task-result[data-agent=e2e-local] .task-summary'))!, /^path clean: 1 hop to 127\.0\.0\.1, no loss/);
  if (SHOTS) {
    mkdirSync(SHOTS, { recursive: true });
    await page.screenshot({ path: join(SHOTS, 'tasks.png'), fullPage: true });
  }

  // The alert's trace, listed under the target's graph with a link to its hop table.
  const trace = await waitFor('the alert trace', async () =>
    ((await (await fetch(`${server.url}/api/v1/tasks?target=/closed&origin=alert`)).json()) as { tasks: { id: string; state: string }[] }).tasks.find((x) => x.state === 'finished'), 90_000);
  await page.goto(`${server.url}/#/t/closed`);
  await page.waitForSelector(`.traces li[data-task="${trace.id}"] a`, { timeout: 30_000 });
  assert.match((await page.textContent(`.traces li[data-task="${trace.id}"]`))!, /alert portdown raised on \/closed from e2e-local.*e2e-local: path clean: 1 hop to 127\.0\.0\.1/);
  await page.click(`.traces li[data-task="${trace.id}"] a`);
  await page.waitForSelector('.task-view[data-state=finished] table.hops');
  assert.deepEqual(errors, []);
  await page.close();
});
