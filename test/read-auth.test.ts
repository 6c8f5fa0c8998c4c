// Read authentication end to end on a real server (in process): what is open, what needs which
// credential, the login form and its session cookie, and that it is off by default.
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import pino from 'pino';
import { setUser } from '../src/auth/users.ts';
import { startServer, type RunningServer } from '../src/server/app.ts';
import { Sessions, cookieValue, safeNext } from '../src/server/read-auth.ts';

const dir = mkdtempSync(join(tmpdir(), 'smokemesh-read-auth-'));
const READ_TOKEN = 'read-token-0123456789abcdef';
const METRICS_TOKEN = 'metrics-token-0123456789abcdef';
let server: RunningServer;

function secretFile(name: string, text: string): string {
  const f = join(dir, name);
  writeFileSync(f, text + '\n');
  chmodSync(f, 0o600);
  return f;
}

function configWith(readAuth: string, name: string): string {
  const f = join(dir, name);
  writeFileSync(f, `general:
  data_dir: ${join(dir, `data-${name}`)}
  agent_name: builtin
${readAuth}
targets:
  children:
    lo: { probe: tcp, host: 127.0.0.1, port: 9, pings: 1 }
`);
  return f;
}

before(async () => {
  const users = join(dir, 'users');
  await setUser(users, 'alice', 'alice password 1');
  const configFile = configWith(`  read_auth:
    users_file: ${users}
    token_file: ${secretFile('read.token', READ_TOKEN)}
    metrics_token_file: ${secretFile('metrics.token', METRICS_TOKEN)}
    session_hours: 1`, 'on.yaml');
  server = await startServer({ configFile, listen: '127.0.0.1:0', logger: pino({ level: 'silent' }) });
});
after(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

const get = (path: string, headers: Record<string, string> = {}) => fetch(server.url + path, { headers, redirect: 'manual' });

test('without a credential: every GET API answers 401 (marked for the UI), the UI redirects to the login page', async () => {
  for (const path of ['/api/v1/tree', '/api/v1/latest', '/api/v1/search?q=lo', '/api/v1/alerts', '/api/v1/silences', '/api/v1/health', '/api/openapi.json', '/api/v1/nothing-here']) {
    const r = await get(path);
    assert.equal(r.status, 401, path);
    assert.equal(r.headers.get('x-smokemesh-login'), 'required', path);
    assert.match(r.headers.get('www-authenticate') ?? '', /^Bearer/);
    assert.equal(((await r.json()) as { code: string }).code, 'SMOKEMESH_E_AUTH');
  }
  const ui = await get('/');
  assert.equal(ui.status, 302);
  assert.equal(ui.headers.get('location'), './login?next=%2F');
  assert.equal((await get('/a/b?x=1')).headers.get('location'), './../login?next=%2Fa%2Fb%3Fx%3D1');
  const page = await get('/login');
  assert.equal(page.status, 200);
  assert.match(await page.text(), /<form method="post" action="login"[\s\S]*name="user"[\s\S]*name="password" type="password"/);
});

test('/health stays open; /metrics needs the metrics token (or any read credential); the agent API keeps its own auth', async () => {
  assert.equal((await get('/health')).status, 200);
  assert.equal((await get('/metrics')).status, 401);
  assert.equal((await get('/metrics', { authorization: `Bearer ${METRICS_TOKEN}` })).status, 200);
  assert.equal((await get('/metrics', { authorization: `Bearer ${READ_TOKEN}` })).status, 200);
  assert.equal((await get('/api/v1/tree', { authorization: `Bearer ${METRICS_TOKEN}` })).status, 401, 'the metrics token reads only /metrics');
  const agent = await fetch(`${server.url}/api/v1/agent/heartbeat`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
  assert.equal(agent.status, 401);
  assert.ok(['missing_header', 'unknown_agent'].includes(((await agent.json()) as { reason: string }).reason), 'refused by the agent signature check, not by read auth');
});

test('bearer tokens: the read token reads, the admin token reads and changes; wrong tokens are refused', async () => {
  assert.equal((await get('/api/v1/tree', { authorization: `Bearer ${READ_TOKEN}` })).status, 200);
  assert.equal((await get('/api/v1/tree', { authorization: `Bearer ${server.adminToken}` })).status, 200);
  assert.equal((await get('/api/v1/tree', { authorization: `Bearer ${READ_TOKEN}x` })).status, 401);
  assert.equal((await get('/api/v1/tree', { authorization: 'Bearer short' })).status, 401);
  const reload = (token: string) => fetch(`${server.url}/api/v1/reload`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
  assert.equal((await reload(READ_TOKEN)).status, 401, 'reading is not changing');
  assert.equal((await reload(server.adminToken)).status, 200);
});

test('login form: a wrong password is refused; the right one sets an HttpOnly SameSite=Strict cookie that reads until logout', async () => {
  const login = (user: string, password: string, next = '/#/t/lo') => fetch(`${server.url}/login`, {
    method: 'POST', redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ user, password, next }).toString(),
  });
  const wrong = await login('alice', 'alice password 2');
  assert.equal(wrong.status, 303);
  assert.equal(wrong.headers.get('location'), `login?failed=1&next=${encodeURIComponent('/#/t/lo')}`);
  assert.equal(wrong.headers.get('set-cookie'), null);
  assert.equal((await login('mallory', 'alice password 1')).headers.get('set-cookie'), null, 'unknown user');

  const ok = await login('alice', 'alice password 1');
  assert.equal(ok.status, 303);
  assert.equal(ok.headers.get('location'), '/#/t/lo');
  const cookie = ok.headers.get('set-cookie') ?? '';
  assert.match(cookie, /^smokemesh_session=[\w-]{43}; Path=\/; HttpOnly; SameSite=Strict; Max-Age=3600$/);
  const session = `smokemesh_session=${cookieValue(cookie, 'smokemesh_session')}`;
  assert.equal((await get('/api/v1/tree', { cookie: session })).status, 200);
  assert.equal((await get('/api/v1/tree', { cookie: `${session}x` })).status, 401);
  assert.equal((await login('alice', 'alice password 1', 'https://evil.example/')).headers.get('location'), '/', 'no open redirect');

  const token = await login('', READ_TOKEN);
  assert.match(token.headers.get('set-cookie') ?? '', /^smokemesh_session=/, 'the read token logs in with an empty user name');

  const out = await fetch(`${server.url}/logout`, { method: 'POST', redirect: 'manual', headers: { cookie: session } });
  assert.equal(out.status, 303);
  assert.match(out.headers.get('set-cookie') ?? '', /Max-Age=0/);
  assert.equal((await get('/api/v1/tree', { cookie: session })).status, 401, 'the session ended');
});

test('sessions expire; next only leads to a path of this server', () => {
  let now = 1000;
  const s = new Sessions(() => now);
  const id = s.create('alice', 60_000);
  assert.equal(s.user(id), 'alice');
  assert.equal(s.user(id + 'x'), undefined);
  now += 60_000;
  assert.equal(s.user(id), undefined);
  assert.equal(safeNext('/#/t/a?b=c'), '/#/t/a?b=c');
  for (const bad of ['//evil.example/', '/\\evil.example', 'https://evil.example/', 'javascript:alert(1)', '', undefined, '/a b']) assert.equal(safeNext(bad), '/');
});

test('off by default: without general.read_auth everything reads as before', async () => {
  const open = await startServer({ configFile: configWith('', 'off.yaml'), listen: '127.0.0.1:0', logger: pino({ level: 'silent' }) });
  try {
    assert.equal((await fetch(`${open.url}/api/v1/tree`)).status, 200);
    assert.equal((await fetch(`${open.url}/metrics`)).status, 200);
  } finally {
    await open.close();
  }
});

test('a users file readable by others, or read_auth without a credential, stops the start with the field named', async () => {
  const users = join(dir, 'loose-users');
  await setUser(users, 'bob', 'bob password 1');
  chmodSync(users, 0o644);
  await assert.rejects(startServer({ configFile: configWith(`  read_auth:\n    users_file: ${users}`, 'loose.yaml'), listen: '127.0.0.1:0', logger: pino({ level: 'silent' }) }),
    /general\.read_auth\.users_file: .*readable by group or others \(mode 644\); run chmod 600/);
  await assert.rejects(startServer({ configFile: configWith('  read_auth: { health: protected }', 'empty.yaml'), listen: '127.0.0.1:0', logger: pino({ level: 'silent' }) }),
    /general\.read_auth: set users_file .* or token_file/);
});
