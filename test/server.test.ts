import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createTcpServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import pino from 'pino';
import { startServer, type RunningServer } from '../src/server/app.ts';
import { httpSink, type HttpSink } from './http-sink-kit.ts';
import { generalSection, startServerIn } from './server-kit.ts';
import { waitFor } from './wait.ts';

const dir = mkdtempSync(join(tmpdir(), 'smokemesh-server-'));
const configFile = join(dir, 'smokemesh.yaml');
let web: HttpSink | undefined;
let tcp: ReturnType<typeof createTcpServer>;
let webPort = 0;
let tcpPort = 0;

function config(extra = ''): string {
  return `${generalSection(dir)}targets:
  children:
    Local:
      children:
        ping4: { host: 127.0.0.1, interval: 20, timeout: 500 }
        port: { probe: tcp, host: 127.0.0.1, port: ${tcpPort}, interval: 10 }
        web: { probe: http, host: "http://127.0.0.1:${webPort}/ok", interval: 10, valid_status_codes: [200] }
${extra}`;
}

before(async () => {
  web = await httpSink((req, res) => { res.writeHead(req.url === '/ok' ? 200 : 404, { 'content-type': 'text/plain' }); res.end('fine'); });
  webPort = web.port;
  tcp = createTcpServer((s) => s.destroy());
  await new Promise<void>((r) => tcp.listen(0, '127.0.0.1', r));
  tcpPort = (tcp.address() as { port: number }).port;
});
after(async () => {
  await web?.close();
  tcp.close();
  rmSync(dir, { recursive: true, force: true });
});

test('the server probes its config through the built-in agent, stores rounds, reloads safely', async () => {
  const server: RunningServer = await startServerIn(dir, config());
  try {
    const latest = () => new Map(server.ctx.store.latest().map((r) => [r.target, r]));
    const first = await waitFor('rounds of all three targets', () => {
      const l = latest();
      return l.size === 3 ? l : undefined;
    });
    const icmp = first.get('/Local/ping4')!;
    assert.equal(icmp.agent, 'builtin');
    assert.equal(icmp.probe, 'icmp');
    assert.equal(icmp.sent, 3);
    assert.equal(icmp.loss, 0, `icmp to 127.0.0.1 lost pings: ${icmp.error ?? ''}`);
    assert.ok(icmp.median! > 0);
    assert.equal(first.get('/Local/port')!.loss, 0);
    const http = first.get('/Local/web')!;
    assert.equal(http.status, 200);
    assert.ok(http.phases && http.phases.processing! >= 0, 'http rounds carry phases');

    // Reload: refused without the token.
    const unauth = await fetch(`${server.url}/api/v1/reload`, { method: 'POST' });
    assert.equal(unauth.status, 401);
    assert.equal((await unauth.json()).code, 'SMOKEMESH_E_AUTH');

    // A new target appears after a reload with the token.
    writeFileSync(configFile, config('    Added:\n      children:\n        again: { host: 127.0.0.2, interval: 20, timeout: 500 }\n'));
    const auth = { authorization: `Bearer ${server.adminToken}` };
    const ok = await fetch(`${server.url}/api/v1/reload`, { method: 'POST', headers: auth });
    assert.equal(ok.status, 200);
    await waitFor('a round of the added target', () => latest().get('/Added/again'));

    // A broken config is refused with located errors; probing goes on with the old one.
    writeFileSync(configFile, config('    Broken:\n      children:\n        x: { host: 127.0.0.3, pings: -1 }\n'));
    const bad = await fetch(`${server.url}/api/v1/reload`, { method: 'POST', headers: auth });
    assert.equal(bad.status, 422);
    const body = await bad.json() as { reloaded: boolean; errors: string[] };
    assert.equal(body.reloaded, false);
    assert.match(body.errors.join('\n'), /smokemesh\.yaml:\d+:\d+: targets\.children\.Broken\.children\.x\.pings/);
    const before = latest().get('/Added/again')!.time;
    await waitFor('another round under the old config', () => latest().get('/Added/again')!.time > before);
    assert.equal(server.ctx.targets().children.some((c) => c.name === 'Broken'), false);
  } finally {
    await server.close();
  }
});

test('the CLI server reloads on SIGHUP and stops cleanly on SIGTERM', async () => {
  const cfg = join(dir, 'cli.yaml');
  writeFileSync(cfg, config().replace(join(dir, 'data'), join(dir, 'data-cli')));
  const child = spawn(process.execPath, ['bin/smokemesh.js', 'server', '--config', cfg, '--listen', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  try {
    await waitFor('the server to listen', () => /listening/.test(out), 30000);
    await waitFor('the plan to be applied', () => /plan applied/.test(out));
    writeFileSync(cfg, config('    Added:\n      children:\n        again: { host: 127.0.0.2, interval: 20, timeout: 500 }\n').replace(join(dir, 'data'), join(dir, 'data-cli')));
    child.kill('SIGHUP');
    await waitFor('the reload to be logged', () => /config reloaded/.test(out), 90_000);
    await waitFor('the new plan with 4 targets', () => /"targets":4/.test(out));
    child.kill('SIGTERM');
    assert.equal(await exited, 0, out.slice(-2000));
  } finally {
    child.kill('SIGKILL');
  }
});

test('a port already in use is a clear error naming general.listen; a later start on a free port works', async () => {
  const busy = createTcpServer();
  await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
  const port = (busy.address() as { port: number }).port;
  const cfg = join(dir, 'busy.yaml');
  writeFileSync(cfg, `general:\n  data_dir: ${join(dir, 'data-busy')}\n`);
  try {
    await assert.rejects(startServer({ configFile: cfg, listen: `127.0.0.1:${port}`, logger: pino({ level: 'silent' }) }),
      (e: Error & { code?: string }) => e.code === 'SMOKEMESH_E_CONFIG' && /cannot listen on 127\.0\.0\.1:\d+ \(general\.listen or --listen\): the address is already in use/.test(e.message));
    const ok = await startServer({ configFile: cfg, listen: '127.0.0.1:0', logger: pino({ level: 'silent' }) });
    await ok.close();
  } finally {
    busy.close();
  }
});

test('one reload reports the problems of every section at once (alerts and agents here)', async () => {
  const cfg = join(dir, 'multi.yaml');
  const base = `general:\n  step: 60\n  data_dir: ${join(dir, 'data-multi')}\ntargets:\n  children:\n    a: { host: 127.0.0.1 }\n`;
  const server = await startServerIn(dir, base, { file: 'multi.yaml' });
  try {
    writeFileSync(cfg, base.replace('a: { host: 127.0.0.1 }', 'a: { host: 127.0.0.1, alerts: [nosuch] }')
      + `agents:\n  - name: far\n    secret_file: ${join(dir, 'missing.secret')}\n`);
    const res = await fetch(`${server.url}/api/v1/reload`, { method: 'POST', headers: { authorization: `Bearer ${server.adminToken}` } });
    assert.equal(res.status, 422);
    const { errors } = await res.json() as { errors: string[] };
    assert.ok(errors.some((e) => /unknown alert "nosuch"/.test(e)), errors.join('\n'));
    assert.ok(errors.some((e) => /missing\.secret/.test(e)), errors.join('\n'));
  } finally {
    await server.close();
  }
});

test('a reload with a broken export section is refused (422) and the running config stays', async () => {
  const cfg = join(dir, 'export.yaml');
  const base = `general:\n  step: 60\n  data_dir: ${join(dir, 'data-export')}\ntargets:\n  children:\n    a: { host: 127.0.0.1 }\n`;
  const server = await startServerIn(dir, base, { file: 'export.yaml' });
  try {
    const before = server.ctx.config();
    writeFileSync(cfg, base.replace('a: { host: 127.0.0.1 }', 'b: { host: 127.0.0.2 }') + 'export:\n  remote_write: [ { bogus: 1 } ]\n');
    const res = await fetch(`${server.url}/api/v1/reload`, { method: 'POST', headers: { authorization: `Bearer ${server.adminToken}` } });
    const body = await res.json() as { errors?: string[] };
    assert.equal(res.status, 422, JSON.stringify(body));
    assert.ok(body.errors!.some((e) => /export\.remote_write\.0/.test(e)), body.errors!.join('\n'));
    assert.equal(server.ctx.config(), before, 'the running config stays');
  } finally {
    await server.close();
  }
});
