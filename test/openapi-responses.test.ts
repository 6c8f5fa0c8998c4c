import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createPrivateKey } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import * as addFormatsModule from 'ajv-formats';
import { AgentClient } from '../src/agent/client.ts';
import { signRequest } from '../src/auth/signing.ts';
import type { ReleaseInfo } from '../src/release/manifest.ts';
import { generateReleaseKeys, sha256, signRelease } from '../src/release/signing.ts';
import { startRealServer, waitFor, type RealServer } from './e2e/real-server.ts';
import { closedPort } from './fixtures/ports.ts';
import { writeSecret } from './agents-kit.ts';

/**
 * Every operation of the served /api/openapi.json declares its answers, and the real server's
 * answers match them: each operation is called for real (reads, the admin routes with and
 * without the token, the agent API with signed requests), and every body is checked with ajv
 * against the schema the description gives for its status code; a body described as binary
 * (a release download) must come with its declared media type.
 */
const addFormats = (addFormatsModule as unknown as { default: (a: Ajv) => Ajv }).default;

interface Operation { responses?: Record<string, { content?: Record<string, { schema?: { format?: string } }>; headers?: Record<string, unknown> }> }
type Doc = { paths: Record<string, Record<string, Operation>> };

let server: RealServer;
let token: string;
let doc: Doc;
const ajv = addFormats(new Ajv({ strict: false, allErrors: true }));
const checked = new Map<string, Set<number>>();

const secretDir = mkdtempSync(join(tmpdir(), 'smokemesh-openapi-'));
const agentSecret = 'x'.repeat(48);

before(async () => {
  const closed = await closedPort();
  server = await startRealServer(`
general: { step: 1, pings: 2, agent_name: srv, region: here }
agents:
  - { name: remote1, secret_file: ${writeSecret(secretDir, 'remote1', agentSecret)} }
notifiers:
  hook: { type: webhook, url: "http://127.0.0.1:${closed}/", retries: 0, timeout_ms: 500 }
alerts:
  down: { type: loss, pattern: ">50%", comment: no answer, to: ["|/bin/true", hook] }
targets:
  labels: { region: lo }
  children:
    Svc:
      children:
        closed: { probe: tcp, host: 127.0.0.1, port: ${closed}, timeout: 200, alerts: [down] }
        lo: { host: 127.0.0.1, pings: 2, interval: 100, timeout: 300 }
`, 90_000);
  token = readFileSync(join(server.dir, 'data', 'admin.token'), 'utf8').trim();
  doc = (await (await fetch(`${server.url}/api/openapi.json`)).json()) as Doc;
  await waitFor('an alert event, a failed delivery and region data', async () => {
    const d = (await (await fetch(`${server.url}/api/v1/alerts/deliveries?status=failed`)).json()) as unknown[];
    const m = (await (await fetch(`${server.url}/api/v1/regions/matrix?probe=tcp`)).json()) as { cells: unknown[] };
    return d.length > 0 && m.cells.length > 0 ? true : undefined;
  }, 60_000, 300).catch((e: Error) => { throw new Error(`${e.message}\n${server.output().slice(-3000)}`); });
});

after(async () => {
  await server?.stop();
  rmSync(secretDir, { recursive: true, force: true });
});

/** The declared schema of an operation's answer (undefined when the status is not declared). */
function schemaFor(path: string, method: string, status: number): { declared: boolean; schema?: object } {
  const op = doc.paths[path]?.[method];
  const r = op?.responses?.[String(status)];
  if (!r) return { declared: false };
  const schema = r.content?.['application/json']?.schema;
  return schema ? { declared: true, schema } : { declared: true };
}

/**
 * Checks a real answer against the description; records the operation as covered. A body of
 * bytes (not JSON) must have been sent with a media type the description declares as binary.
 */
function check(path: string, method: string, status: number, body: unknown, headers?: Headers): void {
  const { declared, schema } = schemaFor(path, method, status);
  assert.ok(declared, `${method.toUpperCase()} ${path} answered ${status}, which its description does not declare: ${String(JSON.stringify(body)).slice(0, 300)}`);
  if (body instanceof Uint8Array) {
    const type = (headers?.get('content-type') ?? '').split(';')[0]!.trim();
    const media = doc.paths[path]![method]!.responses![String(status)]!.content?.[type];
    assert.ok(media, `${method.toUpperCase()} ${path} ${status}: sent as "${type}", which its description does not declare`);
    assert.equal(media.schema?.format, 'binary', `${method.toUpperCase()} ${path} ${status}: "${type}" is not described as a binary body`);
    assert.ok(body.length > 0, `${method.toUpperCase()} ${path} ${status}: an empty body`);
  } else if (schema) {
    const validate = ajv.compile(schema);
    assert.ok(validate(body), `${method.toUpperCase()} ${path} ${status}: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(body).slice(0, 500)}`);
  } else {
    assert.ok(body === undefined || body === '' || body === null, `${method.toUpperCase()} ${path} ${status}: a body where none is described`);
  }
  const declaredHeaders = doc.paths[path]![method]!.responses![String(status)]!.headers ?? {};
  for (const h of Object.keys(declaredHeaders)) assert.ok(headers?.has(h), `${method.toUpperCase()} ${path} ${status}: header ${h} declared, not sent`);
  const key = `${method} ${path}`;
  if (!checked.has(key)) checked.set(key, new Set());
  checked.get(key)!.add(status);
}

async function call(method: string, path: string, url: string, o: { token?: string; json?: unknown } = {}): Promise<unknown> {
  const headers: Record<string, string> = {};
  if (o.token) headers.authorization = `Bearer ${o.token}`;
  if (o.json !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(server.url + url, { method: method.toUpperCase(), headers, body: o.json === undefined ? undefined : JSON.stringify(o.json) });
  const text = await res.text();
  const body = text ? JSON.parse(text) as unknown : undefined;
  check(path, method, res.status, body, res.headers);
  return body;
}

test('every operation of /api/openapi.json has a response schema, and the real answers match it', async () => {
  for (const [path, methods] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      const ok = Object.entries(op.responses ?? {}).filter(([s]) => s.startsWith('2'));
      assert.ok(ok.length > 0, `${method.toUpperCase()} ${path} declares no 2xx answer`);
      for (const [s, r] of ok) {
        if (s === '204') continue;
        const media = Object.entries(r.content ?? {});
        assert.ok(media.length > 0 && media.every(([, m]) => m.schema), `${method.toUpperCase()} ${path} ${s} has no schema`);
      }
    }
  }

  // Reads (and their refusals of bad parameters).
  const get = (path: string, url = path) => call('get', path, url);
  await get('/api/v1/health');
  await get('/api/openapi.json');
  await get('/api/v1/tree');
  await get('/api/v1/targets', '/api/v1/targets?path=/Svc/closed');
  await get('/api/v1/targets', '/api/v1/targets?path=/nope');
  await get('/api/v1/search', '/api/v1/search?q=closed');
  await get('/api/v1/search', '/api/v1/search');
  const now = Date.now();
  await get('/api/v1/series', `/api/v1/series?target=/Svc/closed&from=${now - 600_000}`);
  await get('/api/v1/series', '/api/v1/series?target=/Svc/closed&from=5&to=1');
  await get('/api/v1/series', '/api/v1/series?target=/nope');
  await get('/api/v1/overview', '/api/v1/overview?path=/Svc');
  await get('/api/v1/overview', '/api/v1/overview?path=/Svc&points=1');
  await get('/api/v1/overview', '/api/v1/overview?path=/nope');
  await get('/api/v1/latest');
  await get('/api/v1/export');
  await get('/api/v1/top', '/api/v1/top?metric=loss');
  await get('/api/v1/top', '/api/v1/top?metric=nonsense');
  await get('/api/v1/agents');
  await get('/api/v1/charts', '/api/v1/charts?sorter=change&range=1h');
  await get('/api/v1/charts', '/api/v1/charts?sorter=loss&range=1x');
  await get('/api/v1/agent-status');
  await get('/api/v1/regions/matrix', '/api/v1/regions/matrix?probe=tcp');
  await get('/api/v1/regions/pair', '/api/v1/regions/pair?probe=tcp&source=here&target=lo');
  await get('/api/v1/regions/pair', '/api/v1/regions/pair?probe=tcp&source=here&target=nowhere');
  await get('/api/v1/alerts');
  await get('/api/v1/alerts/active');
  await get('/api/v1/alerts/history', '/api/v1/alerts/history?limit=5&offset=1&target=/Svc');
  await get('/api/v1/alerts/deliveries', '/api/v1/alerts/deliveries?status=failed');
  await get('/api/v1/alerts/channels');
  await get('/api/v1/silences');

  // Admin routes: refused without the token, done with it.
  await call('post', '/api/v1/reload', '/api/v1/reload');
  await call('post', '/api/v1/reload', '/api/v1/reload', { token });
  await call('post', '/api/v1/silences', '/api/v1/silences', { json: { target: '/Svc/**', duration_s: 60 } });
  await call('post', '/api/v1/silences', '/api/v1/silences', { token, json: { target: '/Svc/**', starts: 10, ends: 5 } });
  const s = await call('post', '/api/v1/silences', '/api/v1/silences', { token, json: { target: '/Svc/**', duration_s: 600, comment: 'openapi test' } }) as { id: string };
  await call('post', '/api/v1/silences/{id}/expire', `/api/v1/silences/${s.id}/expire`, { token });
  await call('post', '/api/v1/silences/{id}/expire', '/api/v1/silences/nope/expire', { token });
  await call('delete', '/api/v1/silences/{id}', `/api/v1/silences/${s.id}`);
  await call('delete', '/api/v1/silences/{id}', `/api/v1/silences/${s.id}`, { token });
  await call('delete', '/api/v1/silences/{id}', `/api/v1/silences/${s.id}`, { token });

  // The agent API: signed requests, as an agent sends them; and one unsigned.
  const client = new AgentClient({ server: server.url, agent: 'remote1', secret: agentSecret });
  const hb = await client.call('POST', '/api/v1/agent/heartbeat', {
    json: { version: 'test', labels: {}, addresses: {}, spool: { backlog: 0, bytes: 0, dropped: 0 }, started_at: Date.now() },
  });
  check('/api/v1/agent/heartbeat', 'post', hb.status, hb.body);
  const plan = await client.call('GET', '/api/v1/agent/plan');
  check('/api/v1/agent/plan', 'get', plan.status, plan.body);
  const same = await client.call('GET', '/api/v1/agent/plan', { headers: { 'if-none-match': plan.etag! } });
  check('/api/v1/agent/plan', 'get', same.status, same.body);
  const rounds = await client.call('POST', '/api/v1/agent/rounds', { json: { rounds: [{ target: '/nope' }] } });
  check('/api/v1/agent/rounds', 'post', rounds.status, rounds.body);
  // A signed batch whose body is not one: refused with the agent API's error body.
  const bad = gzipSync(JSON.stringify({ rounds: 'not a list' }));
  const refused = await fetch(`${server.url}/api/v1/agent/rounds`, {
    method: 'POST', body: bad,
    headers: { 'content-type': 'application/json', 'content-encoding': 'gzip', ...signRequest({ agent: 'remote1', secret: agentSecret, method: 'POST', path: '/api/v1/agent/rounds', body: bad }) },
  });
  check('/api/v1/agent/rounds', 'post', refused.status, await refused.json());
  const unsigned = await fetch(`${server.url}/api/v1/agent/heartbeat`, { method: 'POST', body: '{}' });
  check('/api/v1/agent/heartbeat', 'post', unsigned.status, await unsigned.json());

  // Tasks: kinds and list; a start refused without the token and for bad input, one for the
  // remote agent, which takes it over the signed long-poll and reports a result (and a bad batch).
  await get('/api/v1/tasks/kinds');
  await call('post', '/api/v1/tasks', '/api/v1/tasks', { json: { kind: 'ping', params: { host: '127.0.0.1' }, agents: { names: ['remote1'] } } });
  await call('post', '/api/v1/tasks', '/api/v1/tasks', { token, json: { kind: 'ping', params: { host: '127.0.0.1' }, agents: { names: ['nobody'] } } });
  const task = await call('post', '/api/v1/tasks', '/api/v1/tasks', { token, json: { kind: 'ping', params: { host: '127.0.0.1', count: 1 }, agents: { names: ['remote1'] } } }) as { id: string };
  const taken = await client.call('GET', '/api/v1/agent/tasks?wait=5');
  check('/api/v1/agent/tasks', 'get', taken.status, taken.body);
  assert.deepEqual((taken.body as { tasks: { id: string }[] }).tasks.map((x) => x.id), [task.id]);
  const report = { id: task.id, ok: false, started: Date.now(), finished: Date.now(), error: 'openapi test' };
  const reported = await client.call('POST', '/api/v1/agent/task-results', { json: { results: [report, { id: 'nope' }] } });
  check('/api/v1/agent/task-results', 'post', reported.status, reported.body);
  const badBody = gzipSync(JSON.stringify({ results: 'not a list' }));
  const badResults = await fetch(`${server.url}/api/v1/agent/task-results`, {
    method: 'POST', body: badBody,
    headers: { 'content-type': 'application/json', 'content-encoding': 'gzip', ...signRequest({ agent: 'remote1', secret: agentSecret, method: 'POST', path: '/api/v1/agent/task-results', body: badBody }) },
  });
  check('/api/v1/agent/task-results', 'post', badResults.status, await badResults.json());
  await get('/api/v1/tasks/{id}', `/api/v1/tasks/${task.id}`);
  await get('/api/v1/tasks/{id}', '/api/v1/tasks/nope');
  await get('/api/v1/tasks', '/api/v1/tasks?limit=5');

  // Releases and rollouts: every admin route refused without the token, and with it: an
  // upload (and its refusals), a rollout of that version for the remote agent, its actions.
  const FILE = 'smokemesh-9.9.0-linux-x64.tar.gz';
  const info: ReleaseInfo = { name: 'smokemesh', version: '9.9.0', os: 'linux', arch: 'x64', node_abi: '115', node_major: 20, built_at: '2026-12-02T00:00:00.000Z' };
  // The server checks the signature's name, size and digest, not the tarball's inside.
  const tarball = gzipSync('a stand-in for a release tarball');
  const sig = JSON.stringify(signRelease(info, FILE, { sha256: sha256(tarball), size: tarball.length }, createPrivateKey(generateReleaseKeys().privatePem)));
  const upload = async (o: { token?: string; sig?: string }) => {
    const headers: Record<string, string> = { 'content-type': 'application/octet-stream' };
    if (o.token) headers.authorization = `Bearer ${o.token}`;
    if (o.sig) headers['x-smokemesh-signature'] = Buffer.from(o.sig).toString('base64');
    const res = await fetch(`${server.url}/api/v1/releases/${FILE}`, { method: 'PUT', headers, body: tarball });
    check('/api/v1/releases/{file}', 'put', res.status, await res.json(), res.headers);
    return res.status;
  };
  assert.equal(await upload({ sig }), 401);
  assert.equal(await upload({ token }), 400);
  assert.equal(await upload({ token, sig }), 201);
  await get('/api/v1/releases');

  const rollout = { version: '9.9.0', canary: '1', batch: '1', wait_s: 1 };
  await call('post', '/api/v1/rollouts', '/api/v1/rollouts', { json: rollout });
  await call('post', '/api/v1/rollouts', '/api/v1/rollouts', { token, json: { ...rollout, version: '9.9.1' } });
  await call('post', '/api/v1/rollouts', '/api/v1/rollouts', { token, json: { ...rollout, canary: 'some' } });
  const started = await call('post', '/api/v1/rollouts', '/api/v1/rollouts', { token, json: rollout }) as { id: number };
  await call('post', '/api/v1/rollouts', '/api/v1/rollouts', { token, json: rollout });
  await get('/api/v1/rollouts');
  await get('/api/v1/rollouts/{id}', `/api/v1/rollouts/${started.id}`);
  await get('/api/v1/rollouts/{id}', '/api/v1/rollouts/999');
  await get('/api/v1/rollouts/{id}', '/api/v1/rollouts/nope');

  // The agent side: its upgrade target (the server holds no release for an agent that has
  // not said its architecture: a problem, not a target), the download, an unknown file.
  const target = await client.call('GET', '/api/v1/agent/upgrade');
  check('/api/v1/agent/upgrade', 'get', target.status, target.body);
  assert.equal((target.body as { problem?: { rollout: number } }).problem?.rollout, started.id);
  const download = async (file: string) => {
    const path = `/api/v1/agent/releases/${file}`;
    const res = await fetch(server.url + path, { headers: signRequest({ agent: 'remote1', secret: agentSecret, method: 'GET', path }) });
    const body = res.headers.get('content-type')?.startsWith('application/json') ? await res.json() : new Uint8Array(await res.arrayBuffer());
    check('/api/v1/agent/releases/{file}', 'get', res.status, body, res.headers);
    return body;
  };
  assert.deepEqual(await download(FILE), new Uint8Array(tarball));
  await download('smokemesh-0.0.1-linux-x64.tar.gz');

  const act = (action: string, o: { token?: string; id?: number } = { token }) =>
    call('post', '/api/v1/rollouts/{id}/{action}', `/api/v1/rollouts/${o.id ?? started.id}/${action}`, o.token ? { token: o.token } : {});
  await act('pause', {});
  await act('pause');
  await act('pause'); // already paused: 409
  await act('resume');
  await act('nonsense');
  await act('pause', { token, id: 999 });
  await call('delete', '/api/v1/releases/{file}', `/api/v1/releases/${FILE}`, { token }); // in use: 409
  await act('abort');
  await call('delete', '/api/v1/releases/{file}', `/api/v1/releases/${FILE}`);
  await call('delete', '/api/v1/releases/{file}', `/api/v1/releases/${FILE}`, { token });
  await call('delete', '/api/v1/releases/{file}', `/api/v1/releases/${FILE}`, { token });
  await act('rollback');
  await act('rollback'); // already rolling back: 409
  // Each fleet route gave every answer the calls above were meant to draw.
  const answered = (key: string) => [...checked.get(key) ?? []].sort();
  assert.deepEqual(answered('put /api/v1/releases/{file}'), [201, 400, 401]);
  assert.deepEqual(answered('delete /api/v1/releases/{file}'), [204, 401, 404, 409]);
  assert.deepEqual(answered('post /api/v1/rollouts'), [201, 400, 401, 409]);
  assert.deepEqual(answered('get /api/v1/rollouts/{id}'), [200, 400, 404]);
  assert.deepEqual(answered('post /api/v1/rollouts/{id}/{action}'), [200, 400, 401, 404, 409]);
  assert.deepEqual(answered('get /api/v1/agent/releases/{file}'), [200, 404]);

  // Fault localization (no scope configured here): empty lists, an unknown scope, bad queries.
  await get('/api/v1/localize', '/api/v1/localize?matrix=0');
  await get('/api/v1/localize', '/api/v1/localize?matrix=2');
  await get('/api/v1/localize/history', '/api/v1/localize/history?limit=5');
  await get('/api/v1/localize/history', '/api/v1/localize/history?limit=0');
  await get('/api/v1/localize/cell', '/api/v1/localize/cell?scope=nope&row=a&column=b');
  await get('/api/v1/localize/cell', '/api/v1/localize/cell?row=a&column=b');
  await get('/api/v1/localize/suppressed', '/api/v1/localize/suppressed?cause=nope');
  await get('/api/v1/localize/suppressed', '/api/v1/localize/suppressed');

  // Not in a cluster (no cluster: section): 404 (the 200 of a cluster: test/cluster.test.ts).
  await get('/api/v1/cluster', '/api/v1/cluster');

  // Every operation was called and answered as described.
  const missing: string[] = [];
  for (const [path, methods] of Object.entries(doc.paths)) for (const m of Object.keys(methods)) if (!checked.has(`${m} ${path}`)) missing.push(`${m.toUpperCase()} ${path}`);
  assert.deepEqual(missing, []);
});
