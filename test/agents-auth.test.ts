import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { HEADER, signRequest } from '../src/auth/signing.ts';
import { freePort, startServer, writeSecret, type Proc } from './agents-kit.ts';

// The agent API authenticates from the headers alone, before reading a body: a real server
// process, raw HTTP uploads that declare (and send) large bodies.
const dir = mkdtempSync(join(tmpdir(), 'sm-agents-auth-'));
let server: Proc;
let port: number;
let secret: string;
const MiB = 1024 * 1024;

before(async () => {
  port = await freePort();
  const secretFile = writeSecret(dir, 'a1');
  secret = readFileSync(secretFile, 'utf8').trim();
  writeFileSync(join(dir, 'smokemesh.yaml'), `general:
  listen: 127.0.0.1:${port}
  data_dir: ${join(dir, 'data')}
  agent_name: srv
agents:
  - { name: a1, secret_file: ${secretFile} }
targets:
  server_probes: false
`);
  server = await startServer(join(dir, 'smokemesh.yaml'));
});

after(async () => {
  await server?.stop('SIGKILL');
});

/** status 0: the server closed the connection before the client read an answer (`error` says how). */
interface Answer { status: number; body: Record<string, unknown>; sent: number; error?: string }

/**
 * POSTs to `path` with `headers`, declaring `declared` bytes. Sends `first` (or zeros), then, if
 * `all`, keeps sending zeros up to `declared` (backpressure respected) until the server answers
 * or closes. Resolves with the answer and how many bytes had been written when it came.
 */
function upload(path: string, headers: Record<string, string>, declared: number, opts: { first?: Buffer; all?: boolean } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    let sent = 0;
    let answered = false;
    const req = request({ host: '127.0.0.1', port, path, method: 'POST', headers: { ...headers, 'content-length': String(declared), 'content-type': 'application/json' } }, (res) => {
      answered = true;
      const at = sent;
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) as Record<string, unknown> : {}, sent: at });
        req.destroy();
      });
      res.on('error', reject);
    });
    req.on('error', (e: NodeJS.ErrnoException) => {
      if (!answered) resolve({ status: 0, body: {}, sent, error: e.code ?? e.message });
    });
    const first = opts.first ?? Buffer.alloc(Math.min(64 * 1024, declared));
    req.write(first);
    sent += first.length;
    if (!opts.all) return;
    const chunk = Buffer.alloc(MiB);
    const pump = () => {
      while (!answered && !req.destroyed && sent < declared) {
        const n = Math.min(chunk.length, declared - sent);
        sent += n;
        if (!req.write(n === chunk.length ? chunk : chunk.subarray(0, n))) return void req.once('drain', pump);
      }
      if (sent >= declared) req.end();
    };
    pump();
  });
}

const path = '/api/v1/agent/rounds';
const signed = (over: Partial<Parameters<typeof signRequest>[0]> = {}, body?: Buffer) =>
  signRequest({ agent: 'a1', secret, method: 'POST', path, body, ...over });

// A server that reads the whole body first never answers these: the timeout fails the test.
test('unknown agents, stale timestamps, bad or missing signature headers and replays are refused before any body byte is read', { timeout: 60_000 }, async () => {
  const big = 64 * MiB;
  const cases: Array<[string, Record<string, string>]> = [
    ['missing_header', {}],
    ['bad_signature', { ...signed(), [HEADER.signature]: 'f'.repeat(64) }],
    ['bad_signature', signed({ secret: 'not-the-secret-of-a1-at-all' })],
    ['unknown_agent', signed({ agent: 'ghost' })],
    ['stale_timestamp', signed({ now: Date.now() - 10 * 60_000 })],
  ];
  // A valid header set used once (its small body matches)…
  const body = gzipSync(JSON.stringify({ version: 'x', labels: {}, addresses: {}, spool: { backlog: 0, bytes: 0, dropped: 0 }, started_at: 1 }));
  const hb = signRequest({ agent: 'a1', secret, method: 'POST', path: '/api/v1/agent/heartbeat', body });
  const first = await upload('/api/v1/agent/heartbeat', { ...hb, 'content-encoding': 'gzip' }, body.length, { first: body });
  assert.equal(first.status, 200, JSON.stringify(first.body));
  for (const [reason, headers] of cases) {
    // Only the first 64 KiB of the declared 64 MiB are sent: the answer must come without the rest.
    const a = await upload(path, headers, big);
    assert.equal(a.status, 401, `${reason}: ${JSON.stringify(a.body)}`);
    assert.equal(a.body.code, 'SMOKEMESH_E_AUTH');
    assert.equal(a.body.reason, reason);
  }
  // …is refused when sent again, here with a 64 MiB body of which nothing more is read.
  const replay = await upload('/api/v1/agent/heartbeat', { ...hb, 'content-encoding': 'gzip' }, big);
  assert.equal(replay.status, 401);
  assert.equal(replay.body.reason, 'replayed_nonce');
});

test('two concurrent requests with one valid header set: one is served, the other refused as a replay', async () => {
  const body = gzipSync(JSON.stringify({ version: 'x', labels: {}, addresses: {}, spool: { backlog: 0, bytes: 0, dropped: 0 }, started_at: 1 }));
  const h = { ...signRequest({ agent: 'a1', secret, method: 'POST', path: '/api/v1/agent/heartbeat', body }), 'content-encoding': 'gzip' };
  const answers = await Promise.all([upload('/api/v1/agent/heartbeat', h, body.length, { first: body }), upload('/api/v1/agent/heartbeat', h, body.length, { first: body })]);
  assert.deepEqual(answers.map((a) => a.status).sort(), [200, 401]);
  assert.equal(answers.find((a) => a.status === 401)!.body.reason, 'replayed_nonce');
});

/** Resident memory of the server process now, and its peak since the last reset, in bytes. */
function memory(pid: number): { rss: number; hwm: number } {
  const st = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(st)?.[1] ?? NaN) * 1024;
  return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
}

test('16 concurrent unauthenticated 64 MiB uploads: all refused, the server buffers none of them', { timeout: 120_000 }, async () => {
  const pid = server.child.pid!;
  let canReset = true;
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5'); // resets the peak (VmHWM) to the current RSS
  } catch {
    canReset = false;
  }
  const before = memory(pid);
  let peak = before.rss;
  const sampler = setInterval(() => { peak = Math.max(peak, memory(pid).rss); }, 20);
  const uploads: Promise<Answer>[] = [];
  for (let i = 0; i < 16; i++) {
    const headers = i % 2 ? { ...signed(), [HEADER.signature]: 'ab'.repeat(32) } : {};
    uploads.push(upload(path, headers, 64 * MiB, { all: true }));
  }
  const answers = await Promise.all(uploads);
  clearInterval(sampler);
  const after = memory(pid);
  peak = Math.max(peak, after.rss, canReset ? after.hwm : 0);
  const grew = peak - before.rss;
  console.log(`server RSS ${(before.rss / MiB).toFixed(0)} MiB before, peak ${(peak / MiB).toFixed(0)} MiB during 16 × 64 MiB unauthenticated uploads (+${(grew / MiB).toFixed(1)} MiB); bytes written per upload before the answer: ${answers.map((a) => (a.sent / MiB).toFixed(1)).join(', ')} MiB`);
  // Each is refused: a 401, or (a client still pumping at loopback speed past 8 MiB) the connection closed under it.
  for (const a of answers) {
    if (a.status === 0) assert.match(String(a.error), /EPIPE|ECONNRESET/);
    else assert.deepEqual([a.status, a.body.code], [401, 'SMOKEMESH_E_AUTH']);
  }
  // Buffering them would take 1 GiB; a small bound leaves room for sockets and garbage.
  assert.ok(grew < 64 * MiB, `server memory grew by ${(grew / MiB).toFixed(1)} MiB`);
});

test('an authenticated agent: body limits as sent and decompressed, nesting depth, and the signed digest', async () => {
  const hbBody = gzipSync(JSON.stringify({ version: 'x', labels: {}, addresses: {}, spool: { backlog: 0, bytes: 0, dropped: 0 }, started_at: 1 }));
  await upload('/api/v1/agent/heartbeat', { ...signRequest({ agent: 'a1', secret, method: 'POST', path: '/api/v1/agent/heartbeat', body: hbBody }), 'content-encoding': 'gzip' }, hbBody.length, { first: hbBody });
  const send = (body: Buffer, declared = body.length) => upload(path, { ...signed({}, body), 'content-encoding': 'gzip' }, declared, { first: body.subarray(0, Math.min(body.length, declared)), all: declared > body.length });

  const tooBig = await upload(path, { ...signed(), 'content-encoding': 'gzip' }, 9 * MiB);
  assert.equal(tooBig.status, 413);
  assert.equal(tooBig.body.code, 'SMOKEMESH_E_PAYLOAD');

  const bomb = await send(gzipSync(Buffer.alloc(64 * MiB, 0x20)));
  assert.equal(bomb.status, 400);
  assert.match(String(bomb.body.error), /agent "a1": body is not valid gzip or is larger than 8388608 bytes once decompressed/);

  const deep = await send(gzipSync('{"rounds":' + '['.repeat(100_000) + ']'.repeat(100_000) + '}'));
  assert.equal(deep.status, 400);
  assert.match(String(deep.body.error), /nests arrays or objects deeper than 32 levels/);

  const good = gzipSync(JSON.stringify({ rounds: [] }));
  const other = gzipSync(JSON.stringify({ rounds: [1] }));
  const tampered = await upload(path, { ...signed({}, good), 'content-encoding': 'gzip' }, other.length, { first: other });
  assert.equal(tampered.status, 401);
  assert.equal(tampered.body.reason, 'bad_digest');
});

// The tasks module's agent routes sit in the same signed scope: the same refusals, before any body byte.
test('task routes: a long-poll for tasks and a task result are refused from the headers alone; an authenticated result may carry one task output past the rounds\' limits', { timeout: 120_000 }, async () => {
  const results = '/api/v1/agent/task-results';
  for (const [reason, headers] of [
    ['missing_header', {}],
    ['bad_signature', { ...signRequest({ agent: 'a1', secret, method: 'POST', path: results }), [HEADER.signature]: 'e'.repeat(64) }],
    ['unknown_agent', signRequest({ agent: 'ghost', secret, method: 'POST', path: results })],
    ['stale_timestamp', signRequest({ agent: 'a1', secret, method: 'POST', path: results, now: Date.now() - 10 * 60_000 })],
  ] as Array<[string, Record<string, string>]>) {
    const a = await upload(results, headers, 64 * MiB);
    assert.deepEqual([a.status, a.body.code, a.body.reason], [401, 'SMOKEMESH_E_AUTH', reason], JSON.stringify(a.body));
  }
  // An unauthenticated long-poll is answered at once, not held for its 25 s.
  const poll = await new Promise<{ status: number; body: Record<string, unknown> }>((resolve, reject) => {
    request({ host: '127.0.0.1', port, path: '/api/v1/agent/tasks?wait=25', method: 'GET', headers: { ...signRequest({ agent: 'ghost', secret, method: 'GET', path: '/api/v1/agent/tasks?wait=25' }) }, timeout: 10_000 }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as Record<string, unknown> }));
    }).on('error', reject).on('timeout', () => reject(new Error('the unauthenticated long-poll was held'))).end();
  });
  assert.deepEqual([poll.status, poll.body.reason], [401, 'unknown_agent']);

  // Authenticated: a result with a 10 MiB output (over the 8 MiB the rounds route takes once
  // decompressed, within tasks.max_output_bytes' 16 MiB) is read and judged (no such task here).
  const hbBody = gzipSync(JSON.stringify({ version: 'x', labels: {}, addresses: {}, spool: { backlog: 0, bytes: 0, dropped: 0 }, started_at: 1 }));
  await upload('/api/v1/agent/heartbeat', { ...signRequest({ agent: 'a1', secret, method: 'POST', path: '/api/v1/agent/heartbeat', body: hbBody }), 'content-encoding': 'gzip' }, hbBody.length, { first: hbBody });
  const big = gzipSync(JSON.stringify({ results: [{ id: 'no-such-task', ok: true, started: 1, finished: 2, output: { text: 'x'.repeat(10 * MiB) } }] }));
  const judged = await upload(results, { ...signRequest({ agent: 'a1', secret, method: 'POST', path: results, body: big }), 'content-encoding': 'gzip' }, big.length, { first: big });
  assert.equal(judged.status, 200, JSON.stringify(judged.body).slice(0, 500));
  assert.deepEqual([judged.body.accepted, (judged.body.rejected as unknown[]).length], [0, 1]);
  // Past the route's limit as sent: 413 naming the payload.
  const over = await upload(results, { ...signRequest({ agent: 'a1', secret, method: 'POST', path: results }), 'content-encoding': 'gzip' }, 18 * MiB);
  assert.deepEqual([over.status, over.body.code], [413, 'SMOKEMESH_E_PAYLOAD']);
});
