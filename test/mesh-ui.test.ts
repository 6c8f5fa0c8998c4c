import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { launchChromium } from './e2e/browser.ts';
import { ensureWebBuilt, startRealServer, type RealServer } from './e2e/real-server.ts';

/** The region × region page (web/src/pages/regions.ts) against a real server probing loopback targets. */

let server: RealServer;
let browser: Browser;

before(async () => {
  ensureWebBuilt();
  server = await startRealServer(`general:
  step: 2
  pings: 3
  agent_name: builtin
  region: here
targets:
  labels: { region: lo }
  children:
    Local:
      children:
        a: { host: 127.0.0.1, interval: 20, timeout: 500 }
        b: { host: 127.0.0.2, interval: 20, timeout: 500 }
`);
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

test('the matrix shows the region pair, and a click shows its agents and targets linked to their graphs', async () => {
  const page = await browser.newPage();
  await page.goto(`${server.url}/#/regions`);
  const cell = page.locator('td[data-source="here"][data-target="lo"]');
  await cell.waitFor({ timeout: 30000 });
  assert.equal(await cell.getAttribute('data-status'), 'ok');
  assert.match(await cell.innerText(), /(µs|ms)[\s\S]*0 %[\s\S]*1 of 1 agents OK/);
  await cell.click();
  await page.locator('tr[data-agent="builtin"]').waitFor({ timeout: 10000 });
  const links = await page.locator('main table a[href^="#/t/Local/"]').evaluateAll((els) => els.map((e) => e.getAttribute('href')));
  assert.deepEqual(links.sort(), ['#/t/Local/a', '#/t/Local/b']);
  assert.match(page.url(), /#\/regions\?probe=icmp&source=here&target=lo$/);
  await page.close();
});
