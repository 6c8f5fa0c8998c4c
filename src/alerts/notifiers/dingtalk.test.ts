process.env.TZ = 'UTC';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dingtalkKind } from './dingtalk.ts';
import { sampleEvent, startReceiver } from './receiver.testkit.ts';

const OK = { body: '{"errcode":0,"errmsg":"ok"}' };

test('dingtalk: signed markdown message with mentions, as the custom robot documents', async (t) => {
  const rx = await startReceiver(() => OK);
  t.after(() => rx.close());
  const secret = 'SEC0123456789abcdef+/=secret';
  const n = dingtalkKind.create('dd', {
    url: `${rx.base}/robot/send?access_token=tok123`, secret, at_mobiles: ['13800000000'], keyword: 'smokemesh',
  });
  const before = Date.now();
  await n.send(sampleEvent(), AbortSignal.timeout(5000));
  const after = Date.now();

  const r = rx.requests[0]!;
  assert.equal(r.method, 'POST');
  assert.equal(r.headers['content-type'], 'application/json; charset=utf-8');
  const m = /^\/robot\/send\?access_token=tok123&timestamp=(\d+)&sign=([^&]+)$/.exec(r.url);
  assert.ok(m, `unexpected path/query ${r.url}`);
  const ts = Number(m[1]);
  assert.ok(ts >= before && ts <= after, 'timestamp is the send time in ms');
  // The spec: HmacSHA256 keyed with the secret over timestamp + "\n" + secret, Base64, then URL-encoded.
  const expected = createHmac('sha256', Buffer.from(secret, 'utf8')).update(Buffer.from(`${ts}\n${secret}`, 'utf8')).digest('base64');
  assert.equal(m[2], encodeURIComponent(expected));

  assert.deepEqual(JSON.parse(r.body), {
    msgtype: 'markdown',
    markdown: {
      title: '[RAISED] someloss: /DX/Beijing/core-router from agent-a',
      text: [
        '### [RAISED] someloss: /DX/Beijing/core-router from agent-a',
        '**Target:** /DX/Beijing/core-router (Core <router> & DX)',
        '**Host:** `127.0.0.1`',
        '**Agent:** agent-a',
        '**Alert:** someloss (loss, edge-triggered)',
        '**Pattern:** `>0%,*12*,>0%,*12*,>0%`',
        '**Comment:** loss 3 times in a row',
        '**Priority:** 1',
        '**Loss:** 0%, 20%, 100%',
        '**RTT:** 12ms, 15ms, U',
        '**Time:** 2026-11-23 01:23:10 +00:00',
        '**Link:** [open in smokemesh](http://127.0.0.1:8888/targets/DX/Beijing/core-router?agent=agent-a)',
        '@13800000000',
        'smokemesh',
      ].join('\n\n'),
    },
    at: { atMobiles: ['13800000000'], atUserIds: [], isAtAll: false },
  });
});

test('dingtalk: text message, token and secret from files, no signature without secret', async (t) => {
  const rx = await startReceiver(() => OK);
  t.after(() => rx.close());
  const dir = mkdtempSync(join(tmpdir(), 'smokemesh-dd-'));
  writeFileSync(join(dir, 'token'), 'filetoken\n');
  writeFileSync(join(dir, 'secret'), 'SECfromfile\n');
  const signed = dingtalkKind.create('dd', {
    url: `${rx.base}/robot/send`, access_token_file: join(dir, 'token'), secret_file: join(dir, 'secret'), msgtype: 'text', at_all: true,
  });
  await signed.send(sampleEvent({ state: 'cleared' }), AbortSignal.timeout(5000));
  const q = new URL(rx.requests[0]!.url, rx.base).searchParams;
  assert.equal(q.get('access_token'), 'filetoken');
  const ts = q.get('timestamp')!;
  assert.equal(q.get('sign'), createHmac('sha256', 'SECfromfile').update(`${ts}\nSECfromfile`).digest('base64'));
  const body = JSON.parse(rx.requests[0]!.body);
  assert.equal(body.msgtype, 'text');
  assert.deepEqual(body.at, { atMobiles: [], atUserIds: [], isAtAll: true });
  assert.match(body.text.content, /^\[CLEARED\] someloss: \/DX\/Beijing\/core-router from agent-a\nTarget: /);
  assert.match(body.text.content, /\nLink: http:\/\/127\.0\.0\.1:8888\/targets\/DX\/Beijing\/core-router\?agent=agent-a$/);

  const plain = dingtalkKind.create('dd', { url: `${rx.base}/robot/send?access_token=t2` });
  await plain.send(sampleEvent(), AbortSignal.timeout(5000));
  assert.equal(rx.requests[1]!.url, '/robot/send?access_token=t2');
});

test('dingtalk: errcode other than 0 in an HTTP 200 body is a failure', async (t) => {
  const rx = await startReceiver(() => ({ body: '{"errcode":310000,"errmsg":"sign not match, more: [https://ding-doc.dingtalk.com/doc#/serverapi2/qf2nxq]"}' }));
  t.after(() => rx.close());
  const n = dingtalkKind.create('dd', { url: `${rx.base}/robot/send?access_token=secret-token`, secret: 'SECx' });
  await assert.rejects(n.send(sampleEvent(), AbortSignal.timeout(5000)), (e: Error & { detail?: string }) => {
    assert.equal(e.message, 'dingtalk notifier "dd": rejected with code 310000');
    assert.match(e.detail ?? '', /^sign not match/);
    assert.doesNotMatch(e.message, /secret-token/);
    return true;
  });
  rx.answer = () => ({ body: 'not json' });
  await assert.rejects(n.send(sampleEvent(), AbortSignal.timeout(5000)), (e: Error & { detail?: string }) => /rejected with code missing$/.test(e.message) && e.detail === 'not json');
  rx.answer = () => ({ status: 500, body: 'upstream down' });
  await assert.rejects(n.send(sampleEvent(), AbortSignal.timeout(5000)), (e: Error & { detail?: string }) =>
    /^dingtalk notifier "dd": HTTP 500 Internal Server Error from http:\/\/127\.0\.0\.1:\d+$/.test(e.message) && e.detail === 'upstream down');
  rx.answer = () => ({ hang: true });
  const slow = dingtalkKind.create('dd', { url: `${rx.base}/robot/send?access_token=x` });
  await assert.rejects(slow.send(sampleEvent(), AbortSignal.timeout(100)), /no answer from http:\/\/127\.0\.0\.1:\d+ within the delivery timeout/);
});

test('dingtalk: config errors', () => {
  assert.throws(() => dingtalkKind.create('dd', { secret: 'x' }), /notifiers\.dd\.url: missing required field/);
  assert.throws(() => dingtalkKind.create('dd', { url: 'http://127.0.0.1/robot/send' }), /notifiers\.dd\.url: the webhook URL has no access_token/);
  assert.throws(() => dingtalkKind.create('dd', { url: 'http://127.0.0.1/robot/send?access_token=a', msgtype: 'link' }), /notifiers\.dd\.msgtype: must be/);
  assert.throws(() => dingtalkKind.create('dd', { url: 'http://127.0.0.1/r?access_token=a', secret: 'a', secret_file: '/b' }), /notifiers\.dd\.secret: set secret or secret_file, not both/);
});
