import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import { cdnWorld, type Fault } from '../../src/localize/testkit.ts';
import { startAgent, type Proc } from '../agents-kit.ts';
import { startSim, type SimServer } from '../localize-sim.ts';
import { waitFor } from '../wait.ts';
import { launchChromium } from './browser.ts';
import { ensureWebBuilt } from './real-server.ts';

/**
 * The fault-localization page end to end: a server fed by the scenario simulator (4 provinces
 * × 3 ISPs, 3 IDCs × 4 VIPs) with one IDC down and one agent broken. Debian's chromium shows
 * both causes with their evidence and suppressed alerts, the matrix with the causes' cells
 * outlined, a cell's series after a click, the timeline, and each cause's evidence trace (the
 * broken agent runs as a real agent process that takes the trace task; the targets' hosts are
 * loopback addresses); then the same in Chinese at 375 px.
 * SMOKEMESH_SCREENSHOTS=1 saves docs/screenshots/localize.png and localize-mobile-zh.png.
 */
const SHOTS_ENV = process.env.SMOKEMESH_SCREENSHOTS;
const SHOTS = SHOTS_ENV === '1' ? resolve(dirname(fileURLToPath(import.meta.url)), '../../docs/screenshots') : SHOTS_ENV || undefined;
const world = cdnWorld({ provinces: 4, agentsPerCell: 1, idcs: 3, vipsPerIdc: 4 });
for (const t of world.targets) t.host = t.host.replace(/^10\./, '127.');
let sim: SimServer;
let agent: Proc | undefined;
let browser: Browser;

before(async () => {
  ensureWebBuilt();
  sim = await startSim({ world, localize: true, extra: 'tasks:\n  auto_trace: { count: 2, interval: 0.5, grace: 1 }\n' }, 30);
  agent = startAgent({ server: sim.server.url, name: 'unicom-tianjin-1', secretFile: join(sim.dir, 'shared.secret'), spool: join(sim.dir, 'spool') });
  await waitFor('the real agent to connect', () => {
    if (agent!.child.exitCode !== null) throw new Error(`agent exited: ${agent!.out.slice(-2000)}`);
    return sim.server.ctx.agents().find((a) => a.name === 'unicom-tianjin-1')?.alive;
  }, 300_000, 250);
  const from = sim.start + 5 * 60_000 + 17_000;
  const faults: Fault[] = [
    { name: 'idc', from, to: Infinity, match: (_a, t) => t.labels.idc === 'idc3', loss: 100 },
    { name: 'agent', from, to: Infinity, match: (a) => a.name === 'unicom-tianjin-1', loss: 100 },
  ];
  for (let i = 0; i < 12; i++) await sim.step(i, faults);
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await agent?.stop();
  await sim?.close();
});

test('localize page: causes with evidence, matrix with the causes outlined, a cell\'s series, timeline; Chinese on a phone', { timeout: 300_000 }, async () => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${sim.server.url}/#/localize`);
  await page.waitForSelector('[data-state=ready] .localize-causes', { timeout: 30_000 });
  const causes = await page.$$eval('article.cause', (els) => els.map((e) => ({ id: e.getAttribute('data-cause'), text: e.textContent ?? '' })));
  assert.deepEqual(causes.map((c) => c.id).sort(), ['cdn/destination/idc3', 'cdn/vantage/unicom-tianjin-1']);
  const idc = causes.find((c) => c.id === 'cdn/destination/idc3')!.text;
  assert.match(idc, /3 of 3 networks see it bad/);
  assert.match(idc, /target alerts suppressed: 44/); // 11 healthy agents × 4 VIPs; the broken agent's are its own cause's
  // Evidence traces: the broken agent's own trace ran (a link to its hop table); the IDC's was asked of two
  // simulated agents, which are down: the block says so.
  const vantage = 'article.cause[data-cause="cdn/vantage/unicom-tianjin-1"] .cause-trace';
  await page.waitForFunction((sel) => !!document.querySelector(`${sel} a[href^="#/tasks?id="]`), vantage, { timeout: 120_000, polling: 500 });
  assert.match(await page.textContent(vantage) ?? '', /^Evidence trace: mtr from unicom-tianjin-1 to \/IDC\/idc\d\/vip\d · /);
  assert.match(await page.textContent('article.cause[data-cause="cdn/destination/idc3"] .cause-trace') ?? '', /^Evidence trace: mtr from \S+, \S+ to \/IDC\/idc3\/vip\d · .*down/);
  // Every cell of the IDC's column is outlined as the cause's; the broken agent's row as its own.
  const cells = await page.$$eval('td[data-col]', (els) => els.map((e) => ({ row: e.getAttribute('data-row'), col: e.getAttribute('data-col'), cause: e.getAttribute('data-cause'), outline: (e as HTMLElement).style.outline })));
  assert.equal(cells.length, 12 * 3);
  for (const c of cells) {
    if (c.row === 'unicom / tianjin') assert.equal(c.cause, 'cdn/vantage/unicom-tianjin-1');
    else if (c.col === 'idc3') assert.equal(c.cause, 'cdn/destination/idc3');
    else assert.equal(c.cause, null);
    assert.equal(!!c.outline, c.cause !== null);
  }
  await page.click('td[data-row="telecom / beijing"][data-col="idc3"]');
  await page.waitForSelector('table[data-cell] tbody tr', { timeout: 20_000 });
  const rows = await page.$$eval('table[data-cell] tbody tr', (els) => els.map((e) => e.textContent ?? ''));
  assert.equal(rows.length, 4);
  assert.ok(rows.every((r) => r.includes('cdn/destination/idc3')));
  assert.equal(await page.$$eval('.localize-timeline .tl-bar', (els) => els.length), 2);
  if (SHOTS) await page.screenshot({ path: join(SHOTS, 'localize.png'), fullPage: true });
  assert.deepEqual(errors, []);

  const ctx = await browser.newContext({ viewport: { width: 375, height: 800 }, deviceScaleFactor: 2 });
  await ctx.addInitScript(() => localStorage.setItem('smokemesh.lang', 'zh-CN'));
  const phone = await ctx.newPage();
  await phone.goto(`${sim.server.url}/#/localize`);
  await phone.waitForSelector('[data-state=ready] .localize-causes', { timeout: 30_000 });
  assert.match(await phone.textContent('h1') ?? '', /故障定位/);
  assert.match(await phone.textContent('.localize-causes') ?? '', /已抑制的目标告警/);
  const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok(overflow <= 1, `no horizontal overflow of the page (the matrix scrolls in its box): ${overflow}`);
  if (SHOTS) await phone.screenshot({ path: join(SHOTS, 'localize-mobile-zh.png'), fullPage: false });
  await ctx.close();
});
