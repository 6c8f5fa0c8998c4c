import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sampleEvent, startReceiver, type Received } from '../notifiers/receiver.testkit.ts';
import { httpRouteKind } from './http-route.ts';

const raised = sampleEvent({ state: 'raised' });
const cleared = sampleEvent({ state: 'cleared', id: 'evt-0002' });

/** A router's route resource: GET answers it with an ETag, PUT changes it only with a matching If-Match. */
async function router(t: { after(fn: () => unknown): void }, hop = '192.0.2.1') {
  const state = { hop, version: 1, writes: [] as Received[] };
  const rx = await startReceiver((r) => {
    if (r.headers.authorization !== 'Bearer router-token') return { status: 401 };
    const etag = `"v${state.version}"`;
    if (r.method === 'GET') return { headers: { etag }, body: JSON.stringify({ prefix: '10.20.0.0/16', route: { next_hop: state.hop, metric: 10 } }) };
    state.writes.push(r);
    if (r.headers['if-match'] !== etag) return { status: 412, body: '{"error":"stale"}' };
    state.hop = (JSON.parse(r.body) as { route: { next_hop: string } }).route.next_hop;
    state.version++;
    return { headers: { etag: `"v${state.version}"` }, body: '{}' };
  });
  t.after(() => rx.close());
  return { rx, state };
}

const make = (base: string, over: Record<string, unknown> = {}) => httpRouteKind.create('vpn-router', {
  url: `${base}/api/routes/10.20.0.0_16`, field: 'route.next_hop', primary: '192.0.2.1', backup: '192.0.2.2', token: 'router-token', ...over,
});
const send = (n: ReturnType<typeof make>, e = raised) => n.send(e, AbortSignal.timeout(10_000));

test('http_route: raise writes the backup (If-Match on the ETag), clear writes the primary; already right means read only', async (t) => {
  const { rx, state } = await router(t);
  const n = make(rx.base);
  assert.equal(await send(n), `192.0.2.1 → 192.0.2.2 (PUT ${rx.base}: HTTP 200, etag "v2")`);
  assert.deepEqual(rx.requests.map((r) => `${r.method} ${r.url}`), ['GET /api/routes/10.20.0.0_16', 'PUT /api/routes/10.20.0.0_16']);
  assert.equal(rx.requests[1]!.headers['if-match'], '"v1"');
  assert.deepEqual(JSON.parse(rx.requests[1]!.body), { route: { next_hop: '192.0.2.2' } });
  assert.equal(state.hop, '192.0.2.2');
  rx.requests.length = 0;
  assert.equal(await send(n), 'backup 192.0.2.2: already points at 192.0.2.2');
  assert.deepEqual(rx.requests.map((r) => r.method), ['GET']);
  await send(n, cleared);
  assert.equal(state.hop, '192.0.2.1');
});

test('http_route: a change made between read and write (412) is read again and not undone; a third next hop is left alone', async (t) => {
  const { rx, state } = await router(t);
  const n = make(rx.base, { method: 'POST' });
  const orig = rx.answer;
  rx.answer = (r) => {
    // The other server switches the route just before our write lands.
    if (r.method === 'POST' && state.writes.length === 0) {
      state.hop = '192.0.2.2';
      state.version++;
    }
    return orig(r);
  };
  assert.equal(await send(n), 'backup 192.0.2.2: already points at 192.0.2.2');
  assert.deepEqual(rx.requests.map((r) => r.method), ['GET', 'POST', 'GET']);
  assert.equal(state.writes.length, 1);
  state.hop = '198.51.100.9';
  await assert.rejects(send(n, cleared), /http_route action "vpn-router": points at 198\.51\.100\.9, neither 192\.0\.2\.1 nor 192\.0\.2\.2: changed by someone else, left alone/);
  assert.equal(state.hop, '198.51.100.9');
});

test('http_route: dry run only reads; router errors are named', async (t) => {
  const { rx, state } = await router(t);
  assert.match(await send(make(rx.base, { dry_run: true })) as string, /^dry run: 192\.0\.2\.1 → 192\.0\.2\.2 would be written \(PUT http:\/\/127\.0\.0\.1:\d+\)$/);
  assert.equal(state.hop, '192.0.2.1');
  assert.deepEqual(rx.requests.map((r) => r.method), ['GET']);
  await assert.rejects(send(make(rx.base, { token: 'wrong' })), /http_route action "vpn-router": GET: HTTP 401 Unauthorized from http:\/\/127\.0\.0\.1/);
  await assert.rejects(send(make(rx.base, { field: 'route.gateway' })), /no string at "route\.gateway" in the answer/);
  rx.answer = () => ({ body: 'not json' });
  await assert.rejects(send(make(rx.base)), /the answer is not JSON/);
  assert.throws(() => make(rx.base, { backup: '192.0.2.1' }), /notifiers\.vpn-router\.backup: must differ from primary/);
  assert.throws(() => make(rx.base, { url: 'ftp://x' }), /notifiers\.vpn-router\.url: must match/);
});
