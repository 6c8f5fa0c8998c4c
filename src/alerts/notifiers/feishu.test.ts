process.env.TZ = 'UTC';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { feishuKind } from './feishu.ts';
import { sampleEvent, startReceiver } from './receiver.testkit.ts';

const OK = { body: '{"code":0,"data":{},"msg":"success"}' };

const FACT_TEXT = [
  'Target: /DX/Beijing/core-router (Core <router> & DX)',
  'Host: 127.0.0.1',
  'Agent: agent-a',
  'Alert: someloss (loss, edge-triggered)',
  'Pattern: >0%,*12*,>0%,*12*,>0%',
  'Comment: loss 3 times in a row',
  'Priority: 1',
  'Loss: 0%, 20%, 100%',
  'RTT: 12ms, 15ms, U',
  'Time: 2026-11-23 01:23:10 +00:00',
].join('\n');

test('feishu: signed interactive card, as the custom bot documents', async (t) => {
  const rx = await startReceiver(() => OK);
  t.after(() => rx.close());
  const secret = 'feishu-secret-42';
  const n = feishuKind.create('fs', { url: `${rx.base}/open-apis/bot/v2/hook/abc-123`, secret, at_all: true, at_user_ids: ['ou_1'] });
  const before = Math.floor(Date.now() / 1000);
  await n.send(sampleEvent(), AbortSignal.timeout(5000));
  const after = Math.floor(Date.now() / 1000);

  const r = rx.requests[0]!;
  assert.equal(r.method, 'POST');
  assert.equal(r.url, '/open-apis/bot/v2/hook/abc-123');
  assert.equal(r.headers['content-type'], 'application/json; charset=utf-8');
  const body = JSON.parse(r.body);
  const ts = Number(body.timestamp);
  assert.equal(typeof body.timestamp, 'string');
  assert.ok(ts >= before && ts <= after, 'timestamp is the send time in seconds');
  // The spec: HmacSHA256 keyed with timestamp + "\n" + secret over an empty message, Base64.
  assert.equal(body.sign, createHmac('sha256', Buffer.from(`${ts}\n${secret}`, 'utf8')).update(Buffer.alloc(0)).digest('base64'));
  assert.deepEqual(body, {
    timestamp: body.timestamp,
    sign: body.sign,
    msg_type: 'interactive',
    card: {
      config: { wide_screen_mode: true },
      header: { title: { tag: 'plain_text', content: '[RAISED] someloss: /DX/Beijing/core-router from agent-a' }, template: 'red' },
      elements: [
        { tag: 'div', text: { tag: 'plain_text', content: FACT_TEXT } },
        { tag: 'div', text: { tag: 'lark_md', content: '<at id=all></at> <at id=ou_1></at>' } },
        { tag: 'action', actions: [{ tag: 'button', text: { tag: 'plain_text', content: 'Open in smokemesh' }, type: 'primary', url: 'http://127.0.0.1:8888/targets/DX/Beijing/core-router?agent=agent-a' }] },
      ],
    },
  });
});

test('feishu: Lark base URL with hook id from a file, unsigned text message', async (t) => {
  const rx = await startReceiver(() => ({ body: '{"StatusCode":0,"StatusMessage":"success"}' }));
  t.after(() => rx.close());
  const dir = mkdtempSync(join(tmpdir(), 'smokemesh-fs-'));
  writeFileSync(join(dir, 'hook'), 'lark-hook-9\n');
  const n = feishuKind.create('lark', { base_url: `${rx.base}/lark`, hook_id_file: join(dir, 'hook'), msg_type: 'text', keyword: 'smokemesh' });
  await n.send(sampleEvent({ state: 'cleared', url: undefined }), AbortSignal.timeout(5000));
  const r = rx.requests[0]!;
  assert.equal(r.url, '/lark/open-apis/bot/v2/hook/lark-hook-9');
  assert.deepEqual(JSON.parse(r.body), {
    msg_type: 'text',
    content: { text: `[CLEARED] someloss: /DX/Beijing/core-router from agent-a\n${FACT_TEXT}\nsmokemesh` },
  });
});

test('feishu: a non-zero code in an HTTP 200 body is a failure; so are HTTP errors and timeouts', async (t) => {
  const rx = await startReceiver(() => ({ body: '{"code":19021,"data":{},"msg":"sign match fail or timestamp is not within one hour from current time"}' }));
  t.after(() => rx.close());
  const n = feishuKind.create('fs', { url: `${rx.base}/open-apis/bot/v2/hook/hidden-id`, secret: 's' });
  await assert.rejects(n.send(sampleEvent(), AbortSignal.timeout(5000)), (e: Error & { detail?: string }) => {
    assert.equal(e.message, 'feishu notifier "fs": rejected with code 19021');
    assert.match(e.detail ?? '', /^sign match fail/);
    assert.doesNotMatch(e.message, /hidden-id/);
    return true;
  });
  rx.answer = () => ({ status: 400, body: '{"code":9499,"msg":"Bad Request"}' });
  await assert.rejects(n.send(sampleEvent(), AbortSignal.timeout(5000)), /HTTP 400 Bad Request from/);
  rx.answer = () => ({ hang: true });
  const slow = feishuKind.create('fs', { url: `${rx.base}/h` });
  await assert.rejects(slow.send(sampleEvent(), AbortSignal.timeout(100)), /no answer from http:\/\/127\.0\.0\.1:\d+ within the delivery timeout/);
});

test('feishu: config errors', () => {
  assert.throws(() => feishuKind.create('fs', {}), /notifiers\.fs\.url: missing required field "url" \(or "url_file", or "hook_id" with base_url\)/);
  assert.throws(() => feishuKind.create('fs', { url: 'http://h/x', hook_id: 'y' }), /set url or hook_id, not both/);
  assert.throws(() => feishuKind.create('fs', { hook_id: 'y', base_url: 'open.larksuite.com' }), /notifiers\.fs\.base_url: .* is not a URL/);
});
