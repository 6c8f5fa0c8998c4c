import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dispatcherFor, postJson, secret } from './http-post.ts';
import { startReceiver } from './receiver.testkit.ts';

test('secret files are re-read on every use, so a rotated secret needs no restart', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'smokemesh-secret-'));
  const file = join(dir, 'token');
  writeFileSync(file, 'first\n');
  const get = secret('n', { token_file: file }, 'token', true);
  assert.equal(await get(), 'first');
  writeFileSync(file, 'second\r\n');
  assert.equal(await get(), 'second');
  writeFileSync(file, '\n');
  await assert.rejects(get(), /notifiers\.n\.token_file: .* is empty/);
  assert.throws(() => secret('n', { token_file: file }, 'token', true), /notifiers\.n\.token_file: .* is empty/);
  assert.equal(secret('n', {}, 'token'), undefined);
});

test('proxy_url: requests go through an HTTP CONNECT proxy', async (t) => {
  const rx = await startReceiver(() => ({ body: '{"ok":true}' }));
  t.after(() => rx.close());
  const tunnels: string[] = [];
  const proxy = createServer();
  proxy.on('connect', (req, client, head) => {
    tunnels.push(req.url ?? '');
    const [host, port] = (req.url ?? '').split(':');
    const upstream = connect(Number(port), host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
  });
  await new Promise<void>((ok) => proxy.listen(0, '127.0.0.1', ok));
  t.after(() => { proxy.closeAllConnections(); proxy.close(); });
  const dispatcher = dispatcherFor('p', { proxy_url: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}` });
  const res = await postJson({ channel: 'test', url: `${rx.base}/x`, body: { a: 1 }, signal: AbortSignal.timeout(5000), dispatcher });
  assert.deepEqual(res.json, { ok: true });
  assert.equal(tunnels.length, 1);
  assert.equal(tunnels[0], new URL(rx.base).host);
  assert.equal(rx.requests[0]!.body, '{"a":1}');
});

test('an unreachable endpoint fails with the network error, naming the channel', async () => {
  const rx = await startReceiver();
  const base = rx.base;
  await rx.close(); // nothing listens on the port any more
  await assert.rejects(postJson({ channel: 'test channel', url: `${base}/x`, body: {}, signal: AbortSignal.timeout(5000) }),
    /^SmokemeshError: test channel: cannot reach http:\/\/127\.0\.0\.1:\d+: ECONNREFUSED/);
});
