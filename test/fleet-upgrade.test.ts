import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { basename, join } from 'node:path';
import type { Page } from 'playwright-core';
import { generateReleaseKeys } from '../src/release/signing.ts';
import { MAX_RELEASE_BYTES } from '../src/release/manifest.ts';
import { SIGNATURE_HEADER } from '../src/server/fleet/routes.ts';
import { launchChromium } from './e2e/browser.ts';
import { getJson, seriesPoints } from './agents-kit.ts';
import { Fleet } from './fleet-kit.ts';
import { waitFor } from './wait.ts';

// Real releases built here (1.0.0, 1.1.0, and 1.2.0 whose agent crashes at start), installed
// with their install.sh into a prefix per agent, real agent processes under their supervisor,
// a real server on loopback (test/fleet-kit.ts). Every refusal and the roll back happen in the agents.
const NAMES = ['a1', 'a2'];
const fleet = new Fleet({
  names: NAMES,
  versions: ['1.0.0', '1.1.0', '1.2.0'],
  // 1.2.0 passes its self-test (`--version`) but its agent crashes at start.
  patches: { '1.2.0': "if (process.argv.includes('agent')) { process.stderr.write('1.2.0: crash at start\\n'); process.exit(3); }\n" },
});
const wrongKeys = generateReleaseKeys();
const { dir, files, agents, keys } = fleet;
let base: string;
let token: string;
let server: Fleet['server'];
const sign = (file: string, privatePem: string) => fleet.sign(file, privatePem);
const upload = (file: string, sig: string) => fleet.upload(file, sig);
const admin = <T>(method: string, path: string, body?: unknown) => fleet.admin<T>(method, path, body);
const rollout = (id: number) => fleet.rollout(id);
const versions = () => fleet.versions();
const current = (name: string) => fleet.current(name);
const startRollout = (version: string, extra: Record<string, unknown> = {}) => fleet.startRollout(version, extra);
const paused = (id: number) => fleet.until(id, 'paused');

before(async () => {
  await fleet.start();
  ({ base, token, server } = fleet);
});

after(() => fleet.stop());

test('uploads need the admin token and a .sig that names the very tarball', async () => {
  const file = files['1.1.0']!;
  const sig = await sign(file, keys.privatePem);
  const noToken = await fetch(`${base}/api/v1/releases/${basename(file)}`, { method: 'PUT', body: readFileSync(file), headers: { 'content-type': 'application/octet-stream', 'x-smokemesh-signature': Buffer.from(sig).toString('base64') } });
  assert.equal(noToken.status, 401);
  const other = await upload(files['1.0.0']!, sig);
  assert.equal(other.status, 400);
  assert.match(await other.text(), /its signature is for smokemesh-1\.1\.0-linux-\w+\.tar\.gz/);
  assert.equal((await getJson<{ releases: unknown[] }>(`${base}/api/v1/releases`)).releases.length, 0);
});

/** A PUT of a release that declares `declared` bytes and sends 64 KiB: its status and body, without waiting for the rest. */
function declaredUpload(declared: number, extra: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  const url = new URL(`${base}/api/v1/releases/smokemesh-9.9.9-linux-x64.tar.gz`);
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, path: url.pathname, method: 'PUT', headers: { 'content-type': 'application/octet-stream', 'content-length': String(declared), ...extra } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => { resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }); req.destroy(); });
    });
    req.on('error', reject);
    req.write(Buffer.alloc(64 * 1024));
  });
}

// A server that buffers the body before checking the token never answers this one: the test times out.
test('an upload without the admin token is refused before its body is read (128 MiB declared, 64 KiB sent)', { timeout: 60_000 }, async () => {
  assert.equal((await declaredUpload(128 * 1024 * 1024)).status, 401);
});

test('an upload larger than the limit is refused with 413 before its body is read, with the error schema', { timeout: 60_000 }, async () => {
  const r = await declaredUpload(MAX_RELEASE_BYTES + 1, { authorization: `Bearer ${token}`, [SIGNATURE_HEADER]: 'c2ln' });
  assert.equal(r.status, 413);
  const e = JSON.parse(r.body) as { error?: string; code?: string };
  assert.ok(typeof e.error === 'string' && e.error.length > 0 && typeof e.code === 'string', r.body);
});

test('a release signed with another key is refused by the agent and pauses the rollout', async () => {
  assert.equal((await upload(files['1.1.0']!, await sign(files['1.1.0']!, wrongKeys.privatePem))).status, 201);
  const r = await paused((await startRollout('1.1.0')).id);
  const failed = r.agents.find((a) => a.state === 'failed')!;
  assert.match(failed.error ?? '', new RegExp(`made with key ${wrongKeys.keyId}, but the trusted release key is ${keys.keyId}`));
  assert.equal(r.agents.filter((a) => a.state === 'pending').length, 1, 'the batch did not start');
  assert.deepEqual(await versions(), { a1: '1.0.0', a2: '1.0.0' });
  await admin('POST', `/api/v1/rollouts/${r.id}/abort`);
});

test('a tarball altered on the server is refused before it is unpacked', async () => {
  assert.equal((await upload(files['1.1.0']!, await sign(files['1.1.0']!, keys.privatePem))).status, 201);
  // The server's copy altered after the upload (a compromised or broken server): same size, one byte off.
  const stored = join(dir, 'data', 'releases', basename(files['1.1.0']!));
  const bytes = readFileSync(stored);
  const mid = bytes.length >> 1;
  bytes[mid] = bytes[mid]! ^ 0xff;
  writeFileSync(stored, bytes);
  const r = await paused((await startRollout('1.1.0')).id);
  const failed = r.agents.find((a) => a.state === 'failed')!;
  assert.match(failed.error ?? '', /SHA-256 .* the tarball was altered/);
  assert.equal(current(failed.name), '1.0.0');
  assert.deepEqual(readFileSync(join(dir, `prefix-${failed.name}`, 'agent-upgrade.json'), 'utf8').includes('"state":"failed"'), true);
  await admin('POST', `/api/v1/rollouts/${r.id}/abort`);
});

test('a rollout upgrades the canary, then the batch once the canary is healthy', async () => {
  assert.equal((await upload(files['1.1.0']!, await sign(files['1.1.0']!, keys.privatePem))).status, 201);
  const started = await startRollout('1.1.0');
  const r = await waitFor('the rollout to finish', async () => {
    const x = await rollout(started.id);
    if (x.state === 'paused') throw new Error(`paused: ${x.reason}`);
    return x.state === 'done' ? x : undefined;
  }, 240_000, 500);
  assert.deepEqual(r.agents.map((a) => [a.wave, a.state, a.from]).sort(), [[0, 'done', '1.0.0'], [1, 'done', '1.0.0']]);
  assert.deepEqual(await versions(), { a1: '1.1.0', a2: '1.1.0' });
  for (const n of NAMES) assert.equal(current(n), '1.1.0');
  // Waves: the batch's agent was asked only after the canary was done (the server's log order).
  const canary = r.agents.find((a) => a.wave === 0)!.name;
  const batch = r.agents.find((a) => a.wave === 1)!.name;
  const log = server.out;
  const canaryDone = log.indexOf(`rollout ${r.id} of 1.1.0: agent ${canary}: done`);
  const batchAsked = log.indexOf(`rollout ${r.id} of 1.1.0: agent ${batch}: upgrading`);
  assert.ok(canaryDone > 0 && batchAsked > canaryDone, 'the batch started after the canary was done');
  // Each new version ran on trial and committed itself once its rounds were accepted.
  for (const n of NAMES) assert.match(agents[n]!.out, /"version":"1\.1\.0","previous":"1\.0\.0","msg":"new version healthy: upgrade committed"/);
  // The old version stays beside the new one (a roll back needs no download).
  assert.ok(existsSync(join(dir, `prefix-${canary}`, 'versions', '1.0.0', 'dist', 'cli.js')));
});

test('a downgrade is refused unless it is a roll back', async () => {
  assert.equal((await upload(files['1.0.0']!, await sign(files['1.0.0']!, keys.privatePem))).status, 201);
  const r = await paused((await startRollout('1.0.0')).id);
  const failed = r.agents.find((a) => a.state === 'failed')!;
  assert.match(failed.error ?? '', /1\.0\.0 is older than 1\.1\.0: a downgrade is refused/);
  assert.deepEqual(await versions(), { a1: '1.1.0', a2: '1.1.0' });
  await admin('POST', `/api/v1/rollouts/${r.id}/abort`);
});

test('a version that crashes at start is rolled back by the agent, which keeps delivering rounds', async () => {
  assert.equal((await upload(files['1.2.0']!, await sign(files['1.2.0']!, keys.privatePem))).status, 201);
  // Started from the agents page's form this time (the others use the API).
  const r = await paused(await startFromThePage('1.2.0'));
  const failed = r.agents.find((a) => a.state === 'failed')!;
  const other = NAMES.find((n) => n !== failed.name)!;
  assert.match(failed.error ?? '', /1\.2\.0 exited with status 3 on trial/);
  assert.match(agents[failed.name]!.out, /1\.2\.0: crash at start/);
  assert.equal(current(failed.name), '1.1.0');
  assert.deepEqual(await versions(), { a1: '1.1.0', a2: '1.1.0' });
  assert.equal(r.agents.find((a) => a.name === other)!.state, 'pending', 'the batch did not start');
  const agent = (await getJson<{ agents: { name: string; upgrade?: { state: string; target?: string; error?: string } }[] }>(`${base}/api/v1/agents`)).agents.find((a) => a.name === failed.name)!;
  assert.equal(agent.upgrade?.state, 'failed');
  assert.equal(agent.upgrade?.target, '1.2.0');
  const before = (await seriesPoints(base, '/t1', failed.name)).length;
  await waitFor(`new rounds from ${failed.name} on 1.1.0`, async () => (await seriesPoints(base, '/t1', failed.name)).length >= before + 2, 60_000, 500);
  // /metrics shows the paused rollout and the agent's failed upgrade.
  const metrics = await (await fetch(`${base}/metrics`)).text();
  assert.match(metrics, new RegExp(`smokemesh_rollout_info\\{rollout="${r.id}",version="1.2.0",state="paused"\\} 1`));
  assert.match(metrics, new RegExp(`smokemesh_agent_upgrade_state\\{agent="${failed.name}",version="1.1.0",state="failed",error="1"\\} 1`));
});

test('an admin rolls a finished rollout back: every agent it upgraded returns to its previous version', async () => {
  const rollouts = (await getJson<{ rollouts: { id: number; version: string; state: string }[] }>(`${base}/api/v1/rollouts`)).rollouts;
  const paused = rollouts.find((r) => r.state === 'paused')!;
  await abortFromThePage(paused.id);
  const upgrade = rollouts.find((r) => r.version === '1.1.0' && r.state === 'done')!;
  await admin('POST', `/api/v1/rollouts/${upgrade.id}/rollback`);
  const r = await waitFor('the roll back to finish', async () => {
    const x = await rollout(upgrade.id);
    return x.state === 'rolled_back' ? x : undefined;
  }, 240_000, 500);
  assert.deepEqual(r.agents.map((a) => a.state), ['rolled_back', 'rolled_back']);
  // 1.0.0 is older, but the server calls it a roll back: accepted, from the copy kept beside.
  assert.deepEqual(await versions(), { a1: '1.0.0', a2: '1.0.0' });
  for (const n of NAMES) assert.equal(current(n), '1.0.0');
});

/** Runs `fn` on the agents page in Chromium (dialogs accepted); fails on any page error. */
async function onAgentsPage(fn: (page: Page) => Promise<void>): Promise<void> {
  const browser = await launchChromium();
  try {
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('dialog', (d) => void d.accept());
    await page.goto(`${base}/#/agents`);
    await page.waitForSelector('[data-state=ready]');
    await fn(page);
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
  }
}

/** Starts a rollout of `version` (canary 1, batches of 1) with the agents page's form and the admin token; returns its id. */
async function startFromThePage(version: string): Promise<number> {
  const before = (await getJson<{ rollouts: { id: number }[] }>(`${base}/api/v1/rollouts`)).rollouts[0]?.id ?? 0;
  await onAgentsPage(async (page) => {
    await page.fill('.token-bar input[name=admin-token]', token);
    await page.click('.token-bar .token-save');
    await page.selectOption('form.rollout-form select[name=version]', version);
    await page.fill('form.rollout-form input[name=batch]', '1');
    await page.fill('form.rollout-form input[name=wait_s]', '1');
    await page.click('form.rollout-form button[type=submit]');
    await page.waitForSelector(`.rollout[data-rollout-state=running], .rollout[data-rollout-state=paused]`, { timeout: 30_000 });
  });
  const id = (await getJson<{ rollouts: { id: number; version: string }[] }>(`${base}/api/v1/rollouts`)).rollouts[0]!;
  assert.ok(id.id > before && id.version === version, `the page started a rollout of ${version}`);
  return id.id;
}

/**
 * Aborts a paused rollout with the agents page's button: refused without the admin token (the
 * page asks for it), done with it; the page then shows the rollout aborted, without buttons.
 */
async function abortFromThePage(id: number): Promise<void> {
  await onAgentsPage(async (page) => {
    await page.waitForSelector(`.rollout[data-rollout="${id}"][data-rollout-state=paused]`);
    const offered = await page.$$eval('.rollout-actions button', (bs) => bs.map((b) => (b as HTMLElement).dataset.action));
    assert.deepEqual(offered, ['resume', 'abort', 'rollback'], 'a paused rollout offers resume, abort and roll back');
    await page.click('.rollout-actions button[data-action=abort]');
    await page.waitForFunction(() => /needs the admin token/.test(document.querySelector('.rollout-status')?.textContent ?? ''), undefined, { timeout: 10_000 });
    assert.equal((await rollout(id)).state, 'paused', 'nothing changed without the token');
    await page.fill('.token-bar input[name=admin-token]', token);
    await page.click('.token-bar .token-save');
    await page.click('.rollout-actions button[data-action=abort]');
    await page.waitForSelector(`.rollout[data-rollout="${id}"][data-rollout-state=aborted]`, { timeout: 30_000 });
    assert.equal(await page.$$eval('.rollout-actions button', (bs) => bs.length), 1, 'an aborted rollout offers only roll back');
    assert.equal((await rollout(id)).state, 'aborted');
  });
}
