process.env.TZ = 'UTC';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { telegramKind } from './telegram.ts';
import { sampleEvent, startReceiver } from './receiver.testkit.ts';

const OK = { body: '{"ok":true,"result":{"message_id":7,"date":1700000000,"chat":{"id":-1001,"type":"supergroup"}}}' };

test('telegram: sendMessage with HTML parse mode to the bot API', async (t) => {
  const rx = await startReceiver(() => OK);
  t.after(() => rx.close());
  const n = telegramKind.create('tg', { bot_token: '123456:ABC-DEF', chat_id: -1001234567890, api_url: rx.base, message_thread_id: 42 });
  await n.send(sampleEvent(), AbortSignal.timeout(5000));
  const r = rx.requests[0]!;
  assert.equal(r.method, 'POST');
  assert.equal(r.url, '/bot123456:ABC-DEF/sendMessage');
  assert.equal(r.headers['content-type'], 'application/json; charset=utf-8');
  assert.deepEqual(JSON.parse(r.body), {
    chat_id: -1001234567890,
    message_thread_id: 42,
    parse_mode: 'HTML',
    disable_web_page_preview: true,
    link_preview_options: { is_disabled: true },
    text: [
      '<b>[RAISED] someloss: /DX/Beijing/core-router from agent-a</b>',
      '<b>Target:</b> /DX/Beijing/core-router (Core &lt;router&gt; &amp; DX)',
      '<b>Host:</b> <code>127.0.0.1</code>',
      '<b>Agent:</b> agent-a',
      '<b>Alert:</b> someloss (loss, edge-triggered)',
      '<b>Pattern:</b> <code>&gt;0%,*12*,&gt;0%,*12*,&gt;0%</code>',
      '<b>Comment:</b> loss 3 times in a row',
      '<b>Priority:</b> 1',
      '<b>Loss:</b> 0%, 20%, 100%',
      '<b>RTT:</b> 12ms, 15ms, U',
      '<b>Time:</b> 2026-11-23 01:23:10 +00:00',
      '<b>Link:</b> <a href="http://127.0.0.1:8888/targets/DX/Beijing/core-router?agent=agent-a">open in smokemesh</a>',
    ].join('\n'),
  });
});

test('telegram: plain text, token from a file, api base with a path, previews on, silent', async (t) => {
  const rx = await startReceiver(() => OK);
  t.after(() => rx.close());
  const dir = mkdtempSync(join(tmpdir(), 'smokemesh-tg-'));
  writeFileSync(join(dir, 'token'), '999:filetoken\n');
  const n = telegramKind.create('tg', {
    bot_token_file: join(dir, 'token'), chat_id: '@smokemesh_alerts', api_url: `${rx.base}/tgproxy/`, parse_mode: 'none',
    disable_web_page_preview: false, disable_notification: true,
  });
  await n.send(sampleEvent({ state: 'firing' }), AbortSignal.timeout(5000));
  const r = rx.requests[0]!;
  assert.equal(r.url, '/tgproxy/bot999:filetoken/sendMessage');
  const body = JSON.parse(r.body);
  assert.deepEqual(Object.keys(body).sort(), ['chat_id', 'disable_notification', 'disable_web_page_preview', 'link_preview_options', 'text']);
  assert.equal(body.chat_id, '@smokemesh_alerts');
  assert.equal(body.disable_web_page_preview, false);
  assert.equal(body.disable_notification, true);
  assert.match(body.text, /^\[FIRING\] someloss: \/DX\/Beijing\/core-router from agent-a\nTarget: \/DX\/Beijing\/core-router \(Core <router> & DX\)\n/);
});

test('telegram: a message too long for HTML falls back to plain text cut at 4096 characters', async (t) => {
  const rx = await startReceiver(() => OK);
  t.after(() => rx.close());
  const n = telegramKind.create('tg', { bot_token: '1:x', chat_id: 1, api_url: rx.base });
  await n.send(sampleEvent({ alert: { name: 'x', type: 'loss', comment: '<'.repeat(5000), edgetrigger: false } }), AbortSignal.timeout(5000));
  const body = JSON.parse(rx.requests[0]!.body);
  assert.equal(body.parse_mode, undefined);
  assert.equal([...body.text].length, 4096);
});

test('telegram: ok=false is a failure, with or without an HTTP error; timeouts fail', async (t) => {
  const rx = await startReceiver(() => ({ status: 400, body: '{"ok":false,"error_code":400,"description":"Bad Request: chat not found"}' }));
  t.after(() => rx.close());
  const n = telegramKind.create('tg', { bot_token: '555:hidden-token', chat_id: 1, api_url: rx.base });
  await assert.rejects(n.send(sampleEvent(), AbortSignal.timeout(5000)), (e: Error & { detail?: string }) => {
    assert.match(e.message, /^telegram notifier "tg": HTTP 400 Bad Request from http:\/\/127\.0\.0\.1:\d+$/);
    assert.match(e.detail ?? '', /chat not found/);
    assert.doesNotMatch(e.message, /hidden-token/);
    return true;
  });
  rx.answer = () => ({ body: '{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 5","parameters":{"retry_after":5}}' });
  await assert.rejects(n.send(sampleEvent(), AbortSignal.timeout(5000)), (e: Error & { detail?: string }) =>
    /rejected with code 429$/.test(e.message) && /^Too Many Requests: retry after 5/.test(e.detail ?? ''));
  rx.answer = () => ({ hang: true });
  const slow = telegramKind.create('tg', { bot_token: '1:x', chat_id: 1, api_url: rx.base });
  await assert.rejects(slow.send(sampleEvent(), AbortSignal.timeout(100)), /no answer from http:\/\/127\.0\.0\.1:\d+ within the delivery timeout/);
});

test('telegram: config errors', () => {
  assert.throws(() => telegramKind.create('tg', { chat_id: 1 }), /notifiers\.tg\.bot_token: missing required field "bot_token" \(or "bot_token_file"\)/);
  assert.throws(() => telegramKind.create('tg', { bot_token: '1:x' }), /notifiers\.tg: missing required field "chat_id"/);
  assert.throws(() => telegramKind.create('tg', { bot_token: '1:x', chat_id: 1, parse_mode: 'Markdown' }), /notifiers\.tg\.parse_mode: must be/);
});
