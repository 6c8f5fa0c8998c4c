import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { setUser } from '../../src/auth/users.ts';
import { launchChromium } from './browser.ts';
import { ensureWebBuilt, startRealServer, type RealServer } from './real-server.ts';

/**
 * Read authentication in Debian's chromium: the UI of a server with general.read_auth shows
 * the login page, a wrong password is refused there, the right one leads to the overview
 * (the place in the #fragment kept), and an expired session (logout from another tab) sends
 * the UI back to the login page on its next API call.
 */
const tmp = mkdtempSync(join(tmpdir(), 'smokemesh-read-auth-ui-'));
let server: RealServer;
let browser: Browser;

before(async () => {
  ensureWebBuilt();
  const users = join(tmp, 'users');
  await setUser(users, 'alice', 'alice password 1');
  const token = join(tmp, 'read.token');
  writeFileSync(token, 'read-token-0123456789abcdef\n');
  chmodSync(token, 0o600);
  server = await startRealServer(`
general:
  step: 2
  pings: 2
  title: "read auth e2e"
  agent_name: e2e-local
  read_auth: { users_file: ${users}, token_file: ${token} }
targets:
  children:
    lo: { probe: tcp, host: 127.0.0.1, port: 9, title: "Loopback port" }
`);
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  await server?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

test('the UI asks for a login, refuses a wrong password, and shows the overview after the right one', async () => {
  const page = await browser.newPage();
  await page.goto(`${server.url}/#/t/lo`);
  await page.waitForSelector('form#login input[name=password]', { timeout: 20_000 });
  assert.match(page.url(), /\/login\?next=%2F#\/t\/lo$/);
  assert.equal(await page.locator('section.overview').count(), 0, 'nothing of the UI before the login');

  await page.fill('input[name=user]', 'alice');
  await page.fill('input[name=password]', 'not her password');
  await page.click('button[type=submit]');
  await page.waitForSelector('.error[role=alert]', { timeout: 20_000 });
  assert.match(await page.textContent('.error') ?? '', /Wrong user name or password/);

  await page.fill('input[name=user]', 'alice');
  await page.fill('input[name=password]', 'alice password 1');
  await page.click('button[type=submit]');
  await page.waitForURL(/\/#\/t\/lo$/, { timeout: 20_000 });
  await page.waitForSelector('text=Loopback port', { timeout: 30_000 });
  const cookies = await page.context().cookies();
  const session = cookies.find((c) => c.name === 'smokemesh_session');
  assert.ok(session && session.httpOnly && session.sameSite === 'Strict', 'an HttpOnly, SameSite=Strict session cookie');

  // The session ends (logout elsewhere): the UI's next API call leads to the login page.
  await fetch(`${server.url}/logout`, { method: 'POST', headers: { cookie: `smokemesh_session=${session.value}` }, redirect: 'manual' });
  await page.evaluate(() => { location.hash = '#/agents'; });
  await page.waitForSelector('form#login', { timeout: 20_000 });
  assert.match(page.url(), /\/login\?next=%2F%23%2Fagents$/, 'web/src/api.ts sent it there, keeping the place');
  await page.close();
});
