import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import { webhookKind } from './webhook.ts';
import type { AlertEvent } from './notifier.ts';

const event: AlertEvent = {
  version: 1, id: 'ev-7', state: 'cleared',
  alert: { name: 'lossy', type: 'loss', pattern: '>50%', comment: 'down', edgetrigger: true },
  target: { path: '/Net/link', dotted: 'Net.link', host: '192.0.2.1', title: 'Link', labels: { site: 'a' } },
  agent: 'srv', time: 1767225600000, loss: ['100%', '0%'], rtt: ['U', '11ms'], recipients: [],
};

interface Seen { method: string; url: string; headers: IncomingMessage['headers']; body: string }

async function receiver(status: number) {
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      seen.push({ method: req.method!, url: req.url!, headers: req.headers, body });
      res.writeHead(status).end(status === 200 ? 'ok' : 'nope');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, seen, close: () => new Promise((r) => server.close(r)) };
}

test('webhook: the JSON envelope, custom headers and an HMAC-SHA256 signature of the body', async () => {
  const rx = await receiver(200);
  const n = webhookKind.create('hook', {
    url: `${rx.url}/alerts?x=1`, method: 'POST', headers: { 'X-Team': 'noc' }, secret: 's3cret',
    signature_header: 'X-Smokemesh-Signature', content_type: 'application/json',
  });
  await n.send(event, AbortSignal.timeout(5000));
  await rx.close();
  const [req] = rx.seen;
  assert.equal(req!.method, 'POST');
  assert.equal(req!.url, '/alerts?x=1');
  assert.equal(req!.headers['x-team'], 'noc');
  assert.equal(req!.headers['content-type'], 'application/json');
  assert.equal(req!.headers['x-smokemesh-event'], 'ev-7');
  assert.deepEqual(JSON.parse(req!.body), event);
  assert.equal(req!.headers['x-smokemesh-signature'], 'sha256=' + createHmac('sha256', 's3cret').update(req!.body).digest('hex'));
});

test('webhook: body template; a non-2xx answer is an error naming the status', async () => {
  const rx = await receiver(500);
  const n = webhookKind.create('hook', {
    url: rx.url, method: 'PUT', headers: {}, signature_header: 'X-Sig', content_type: 'text/plain',
    body_template: '{{alert.name}} {{state}} on {{target.path}}: {{loss}}',
  });
  await assert.rejects(n.send(event, AbortSignal.timeout(5000)), (e: Error & { detail?: string }) =>
    /^webhook "hook": HTTP 500 Internal Server Error from http:\/\/127\.0\.0\.1:\d+$/.test(e.message) && e.detail === 'nope');
  await rx.close();
  assert.equal(rx.seen[0]!.method, 'PUT');
  assert.equal(rx.seen[0]!.body, 'lossy cleared on /Net/link: 100%, 0%');
  assert.equal(rx.seen[0]!.headers['x-sig'], undefined, 'no signature without a secret');
});

test('webhook: a receiver that is not there is an error naming the host and the socket error', async () => {
  const rx = await receiver(200);
  await rx.close(); // the port is now closed
  const host = new URL(rx.url).host;
  const n = webhookKind.create('hook', { url: rx.url, method: 'POST', headers: {}, signature_header: 'X-Sig', content_type: 'application/json' });
  await assert.rejects(n.send(event, AbortSignal.timeout(5000)), new RegExp(`webhook "hook": cannot reach ${host}: ECONNREFUSED`));
});
