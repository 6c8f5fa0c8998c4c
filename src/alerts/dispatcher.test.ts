import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { openAlertDb } from './db.ts';
import pino from 'pino';
import { SmokemeshError } from '../errors.ts';
import { Dispatcher, storedError, type Channel } from './dispatcher.ts';
import { webhookKind } from './notifiers/webhook.ts';
import type { AlertEvent } from './notifiers/notifier.ts';
import { silentLog, tempDir } from './testkit.ts';

const event = (id: string): AlertEvent => ({
  version: 1, id, state: 'raised',
  alert: { name: 'lossy', type: 'loss', pattern: '>50%', comment: '', edgetrigger: true },
  target: { path: '/A', dotted: 'A', host: '127.0.0.1', title: 'A', labels: {} },
  agent: 'srv', time: Date.now(), loss: ['100%'], rtt: ['U'], recipients: [],
});

/** A local HTTP receiver answering with `answer(n)` for its n-th request (undefined = never answer). */
async function receiver(answer: (n: number) => number | undefined) {
  let n = 0;
  const arrivals: (() => void)[] = [];
  const server = createServer((req, res) => {
    req.resume();
    const status = answer(++n);
    for (const a of arrivals.splice(0)) a();
    if (status !== undefined) res.writeHead(status).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}/`,
    requests: () => n,
    arrived: () => new Promise<void>((r) => arrivals.push(r)),
    close: () => { server.closeAllConnections(); return new Promise((r) => server.close(r)); },
  };
}

const hook = (name: string, url: string, delivery: Partial<Channel['delivery']> = {}): [string, Channel] => [name, {
  notifier: webhookKind.create(name, { url, method: 'POST', headers: {}, signature_header: 'X-Sig', content_type: 'application/json' }),
  delivery: { retries: 3, backoff_ms: 20, max_backoff_ms: 1000, timeout_ms: 2000, ...delivery },
}];

function record(db: ReturnType<typeof openAlertDb>, d: Dispatcher, e: AlertEvent, channels: string[]) {
  const ids = db.recordEvent(e, null, channels.map((name) => ({ name, kind: 'webhook' })), 'pending');
  d.enqueue(e, ids.map((id, i) => ({ id, channel: channels[i]! })));
  return ids;
}

test('dispatcher: retries with backoff; a hanging channel times out without delaying the others', async () => {
  const db = openAlertDb(':memory:');
  const flaky = await receiver((n) => (n <= 2 ? 503 : 200));
  const dead = await receiver(() => undefined);
  const fast = await receiver(() => 200);
  const d = new Dispatcher(db, silentLog);
  d.setChannels(new Map([hook('flaky', flaky.url), hook('dead', dead.url, { retries: 1, timeout_ms: 300 }), hook('fast', fast.url)]));

  const deadArrived = dead.arrived();
  const fastArrived = fast.arrived();
  const [deadId] = record(db, d, event('e1'), ['dead']);
  await deadArrived;
  const [fastId] = record(db, d, event('e2'), ['fast']);
  record(db, d, event('e3'), ['flaky']);
  await fastArrived;
  await d.idle();
  // fast was sent in one attempt although dead was still hanging when it was queued.
  const all = db.deliveries({ limit: 10 });
  const byId = new Map(all.map((r) => [r.id, r]));
  assert.equal(byId.get(fastId!)!.status, 'sent');
  assert.equal(byId.get(fastId!)!.attempts, 1);
  const firstFastAttempt = byId.get(fastId!)!.attempt_log[0]!.time;
  const deadRow = byId.get(deadId!)!;
  assert.equal(deadRow.status, 'failed');
  assert.deepEqual(deadRow.attempt_log.map((a) => a.outcome), ['retry', 'failed']);
  assert.match(deadRow.last_error!, /timed out after 300 ms/);
  assert.ok(firstFastAttempt <= deadRow.attempt_log[1]!.time, 'the fast channel did not wait for the dead one');
  const flakyRow = all.find((r) => r.channel === 'flaky')!;
  assert.deepEqual(flakyRow.attempt_log.map((a) => a.outcome), ['retry', 'retry', 'sent']);
  assert.ok(flakyRow.attempt_log[2]!.time - flakyRow.attempt_log[0]!.time >= 20 + 40 - 5, 'backoff doubled between attempts');
  await Promise.all([flaky.close(), dead.close(), fast.close()]);
  db.close();
});

test('dispatcher: deliveries unfinished at shutdown are resumed by the next process', async () => {
  const dir = tempDir();
  const file = join(dir, 'alerts.sqlite');
  let up = false;
  const rx = await receiver(() => (up ? 200 : 503));
  let db = openAlertDb(file);
  let d = new Dispatcher(db, silentLog);
  d.setChannels(new Map([hook('h', rx.url, { retries: 50, backoff_ms: 60000 })]));
  const first = rx.arrived();
  record(db, d, event('e9'), ['h']);
  await first;
  await d.close(); // waiting in backoff: the delivery stays pending
  assert.equal(db.deliveries({ limit: 1 })[0]!.status, 'pending');
  db.close();

  up = true;
  db = openAlertDb(file);
  d = new Dispatcher(db, silentLog);
  d.setChannels(new Map([hook('h', rx.url)]));
  assert.equal(d.resume(), 1);
  await d.idle();
  const row = db.deliveries({ limit: 1 })[0]!;
  assert.equal(row.status, 'sent');
  assert.deepEqual(row.attempt_log.map((a) => a.outcome), ['retry', 'sent']);
  await rx.close();
  db.close();
});

test('dispatcher: a failed delivery is stored as status and host; the remote body only reaches the debug log', async () => {
  const server = createServer((req, res) => { req.resume(); res.writeHead(502).end('upstream said: token=SECRET-IN-BODY'); });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/`;
  const db = openAlertDb(':memory:');
  const lines: Record<string, unknown>[] = [];
  const log = pino({ level: 'debug' }, { write: (l: string) => { lines.push(JSON.parse(l) as Record<string, unknown>); } });
  const d = new Dispatcher(db, log);
  d.setChannels(new Map([hook('hook', url, { retries: 0 })]));
  try {
    record(db, d, event('e-body'), ['hook']);
    await d.idle();
    const [row] = db.deliveries({ limit: 10 });
    assert.equal(row!.status, 'failed');
    assert.match(row!.last_error!, /^webhook "hook": HTTP 502 Bad Gateway from http:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(row!.attempt_log[0]!.error, row!.last_error);
    assert.doesNotMatch(JSON.stringify(db.deliveries({ limit: 10 })), /SECRET-IN-BODY/);
    assert.doesNotMatch(d.status().map((s) => s.last_error ?? '').join(), /SECRET-IN-BODY/);
    assert.ok(lines.some((l) => l.level === 20 && l.detail === 'upstream said: token=SECRET-IN-BODY'), 'the debug log has the body');
    assert.ok(lines.filter((l) => (l.level as number) > 20).every((l) => !JSON.stringify(l).includes('SECRET-IN-BODY')), 'warnings do not');
  } finally {
    await new Promise((r) => server.close(r));
  }
});

test('dispatcher: an error that is not a notifier\'s own is stored by its kind only', () => {
  const e = Object.assign(new TypeError('remote said <html>secret</html>'), { code: 'ERR_X' });
  assert.equal(storedError(e), 'TypeError ERR_X (details in the server log at debug level)');
  assert.equal(storedError(new SmokemeshError('SMOKEMESH_E_NOTIFY', 'webhook "x": HTTP 500 Internal Server Error from http://h', { detail: 'body' })), 'webhook "x": HTTP 500 Internal Server Error from http://h');
});
