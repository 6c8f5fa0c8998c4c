import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { after, before, test } from 'node:test';
import pino from 'pino';
import { probedTargets } from '../src/config/tree.ts';
import { formatIssue } from '../src/errors.ts';
import { startServer, type RunningServer } from '../src/server/app.ts';
import { validateConfig } from '../src/server/config-sections.ts';
import { bigConfig } from './fixtures/big-config.ts';
import { BROKEN_CONFIGS, writeCaseFiles } from './fixtures/broken-configs.ts';

const dir = mkdtempSync(join(tmpdir(), 'smokemesh-config-reload-'));
const file = join(dir, 'smokemesh.yaml');
const good = `general: { data_dir: ${JSON.stringify(join(dir, 'data'))}, step: 60, pings: 3 }\ntargets:\n  children:\n    keep: { host: 127.0.0.1 }\n`;
let server: RunningServer;

before(async () => {
  writeCaseFiles(dir);
  writeFileSync(file, good);
  server = await startServer({ configFile: file, listen: '127.0.0.1:0', logger: pino({ level: 'silent' }) });
});
after(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

const reload = async () => {
  const res = await fetch(`${server.url}/api/v1/reload`, { method: 'POST', headers: { authorization: `Bearer ${server.adminToken}` } });
  return { status: res.status, body: await res.json() as { reloaded: boolean; errors: string[]; warnings: string[] } };
};

test('reload and check-config judge every broken file alike: same errors, same warnings, the running config stays', async () => {
  for (const c of BROKEN_CONFIGS) {
    writeFileSync(file, good);
    await reload();
    const before = server.ctx.config();
    writeFileSync(file, c.yaml(dir));
    const direct = validateConfig(file);
    const { status, body } = await reload();
    assert.deepEqual(body.errors, direct.issues.map(formatIssue), c.name);
    assert.deepEqual(body.warnings, direct.warnings.map(formatIssue), c.name);
    assert.equal(body.errors.length, c.errors.length, `${c.name}: ${body.errors.join('\n')}`);
    if (c.errors.length) {
      assert.equal(status, 422, c.name);
      assert.equal(server.ctx.config(), before, `${c.name}: the running config stays`);
      assert.ok(server.ctx.targets().children.some((n) => n.name === 'keep'), `${c.name}: the running targets stay`);
    } else {
      assert.equal(status, 200, c.name);
      assert.ok(body.warnings.length > 0, `${c.name}: its warning comes back with the reload`);
    }
  }
});

test('an empty file never removes the targets: the reload is refused', async () => {
  writeFileSync(file, good);
  await reload();
  writeFileSync(file, '# everything commented out\n');
  const { status, body } = await reload();
  assert.equal(status, 422);
  assert.match(body.errors[0]!, /smokemesh\.yaml:1:1: the config is empty/);
  assert.deepEqual(probedTargets(server.ctx.targets()).map((t) => t.path), ['/keep']);
});

test('the server keeps answering while a 40,000-target config is parsed and checked', { timeout: 900_000 }, async () => {
  const n = 40_000;
  writeFileSync(file, bigConfig(n, { dataDir: join(dir, 'data') }));
  let done = false;
  const reloading = server.ctx.reload().finally(() => (done = true));
  let answered = 0;
  let slowest = 0;
  while (!done) {
    const t0 = performance.now();
    const res = await fetch(`${server.url}/health`);
    await res.arrayBuffer();
    slowest = Math.max(slowest, performance.now() - t0);
    if (!done && res.ok) answered++;
  }
  const result = await reloading;
  assert.deepEqual(result.errors, []);
  assert.equal(probedTargets(server.ctx.targets()).length, n);
  console.log(`/health answered ${answered} times during the reload; slowest answer ${Math.round(slowest)} ms (time bounds: bench/config-reload.ts)`);
  // Parsing alone takes seconds: a server blocked by it would answer once or not at all.
  assert.ok(answered >= 20, `/health answered only ${answered} times while the reload ran`);
});
