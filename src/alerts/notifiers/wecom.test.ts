process.env.TZ = 'UTC';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { wecomKind } from './wecom.ts';
import { sampleEvent, startReceiver } from './receiver.testkit.ts';

const OK = { body: '{"errcode":0,"errmsg":"ok"}' };

test('wecom: markdown message to the group robot webhook', async (t) => {
  const rx = await startReceiver(() => OK);
  t.after(() => rx.close());
  const n = wecomKind.create('wx', { url: `${rx.base}/cgi-bin/webhook/send?key=693a91f6-7xxx`, mentioned_list: ['zhangsan', '@all'] });
  await n.send(sampleEvent(), AbortSignal.timeout(5000));
  const r = rx.requests[0]!;
  assert.equal(r.method, 'POST');
  assert.equal(r.url, '/cgi-bin/webhook/send?key=693a91f6-7xxx');
  assert.equal(r.headers['content-type'], 'application/json; charset=utf-8');
  assert.deepEqual(JSON.parse(r.body), {
    msgtype: 'markdown',
    markdown: {
      content: [
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
        '<@zhangsan>',
      ].join('\n\n'),
    },
  });
});

test('wecom: text message with mentions, key from a file, content cut to 2048 bytes', async (t) => {
  const rx = await startReceiver(() => OK);
  t.after(() => rx.close());
  const dir = mkdtempSync(join(tmpdir(), 'smokemesh-wx-'));
  writeFileSync(join(dir, 'key'), 'filekey\n');
  const n = wecomKind.create('wx', {
    base_url: rx.base, key_file: join(dir, 'key'), msgtype: 'text', mentioned_list: ['@all'], mentioned_mobile_list: ['13800001111'],
  });
  const longComment = '丢包'.repeat(1000); // 6000 bytes of UTF-8
  await n.send(sampleEvent({ alert: { name: 'someloss', type: 'loss', comment: longComment, edgetrigger: false } }), AbortSignal.timeout(5000));
  const r = rx.requests[0]!;
  assert.equal(r.url, '/cgi-bin/webhook/send?key=filekey');
  const body = JSON.parse(r.body);
  assert.equal(body.msgtype, 'text');
  assert.deepEqual(body.text.mentioned_list, ['@all']);
  assert.deepEqual(body.text.mentioned_mobile_list, ['13800001111']);
  assert.ok(Buffer.byteLength(body.text.content, 'utf8') <= 2048);
  assert.match(body.text.content, /^\[RAISED\] someloss: \/DX\/Beijing\/core-router from agent-a\nTarget: /);
  assert.match(body.text.content, /丢包…$/);
});

test('wecom: errcode other than 0 in an HTTP 200 body is a failure; so are HTTP errors and timeouts', async (t) => {
  const rx = await startReceiver(() => ({ body: '{"errcode":93000,"errmsg":"invalid webhook url, hint: [1700000000_1_abc]"}' }));
  t.after(() => rx.close());
  const n = wecomKind.create('wx', { url: `${rx.base}/cgi-bin/webhook/send?key=hidden-key` });
  await assert.rejects(n.send(sampleEvent(), AbortSignal.timeout(5000)), (e: Error & { detail?: string }) => {
    assert.equal(e.message, 'wecom notifier "wx": rejected with code 93000');
    assert.match(e.detail ?? '', /^invalid webhook url/);
    assert.doesNotMatch(e.message, /hidden-key/);
    return true;
  });
  rx.answer = () => ({ status: 502, body: 'bad gateway' });
  await assert.rejects(n.send(sampleEvent(), AbortSignal.timeout(5000)), (e: Error & { detail?: string }) =>
    /HTTP 502 Bad Gateway from http:\/\/127\.0\.0\.1:\d+$/.test(e.message) && e.detail === 'bad gateway');
  rx.answer = () => ({ hang: true });
  const slow = wecomKind.create('wx', { url: `${rx.base}/cgi-bin/webhook/send?key=k` });
  await assert.rejects(slow.send(sampleEvent(), AbortSignal.timeout(100)), /no answer from http:\/\/127\.0\.0\.1:\d+ within the delivery timeout/);
});

test('wecom: config errors', () => {
  assert.throws(() => wecomKind.create('wx', {}), /notifiers\.wx\.url: missing required field "url" \(or "url_file", or "key" with base_url\)/);
  assert.throws(() => wecomKind.create('wx', { url: 'http://127.0.0.1/cgi-bin/webhook/send' }), /notifiers\.wx\.url: the webhook URL has no key/);
  assert.throws(() => wecomKind.create('wx', { url: 'http://h/x?key=1', key: '2' }), /set url or key, not both/);
});
