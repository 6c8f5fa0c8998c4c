process.env.TZ = 'Asia/Shanghai';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { slackKind } from './slack.ts';
import { sampleEvent, startReceiver } from './receiver.testkit.ts';

const FACTS = [
  '*Target:* /DX/Beijing/core-router (Core &lt;router&gt; &amp; DX)',
  '*Host:* `127.0.0.1`',
  '*Agent:* agent-a',
  '*Alert:* someloss (loss, edge-triggered)',
  '*Pattern:* `&gt;0%,*12*,&gt;0%,*12*,&gt;0%`',
  '*Comment:* loss 3 times in a row',
  '*Priority:* 1',
  '*Loss:* 0%, 20%, 100%',
  '*RTT:* 12ms, 15ms, U',
  '*Time:* 2026-11-23 09:23:10 +08:00',
  '*Link:* <http://127.0.0.1:8888/targets/DX/Beijing/core-router?agent=agent-a|open in smokemesh>',
].join('\n');

test('slack: Block Kit message POSTed as JSON to the webhook URL', async (t) => {
  const rx = await startReceiver(() => ({ status: 200, body: 'ok', headers: { 'content-type': 'text/html' } }));
  t.after(() => rx.close());
  const n = slackKind.create('ops', { url: `${rx.base}/services/T0001/B0001/secretpart?x=1` });
  await n.send(sampleEvent(), AbortSignal.timeout(5000));

  assert.equal(rx.requests.length, 1);
  const r = rx.requests[0]!;
  assert.equal(r.method, 'POST');
  assert.equal(r.url, '/services/T0001/B0001/secretpart?x=1');
  assert.equal(r.headers['content-type'], 'application/json; charset=utf-8');
  assert.deepEqual(JSON.parse(r.body), {
    text: '*[RAISED] someloss: /DX/Beijing/core-router from agent-a*\n' + FACTS,
    blocks: [
      { type: 'header', text: { type: 'plain_text', text: '[RAISED] someloss: /DX/Beijing/core-router from agent-a', emoji: true } },
      { type: 'section', text: { type: 'mrkdwn', text: FACTS } },
    ],
  });
});

test('slack: text format, cleared state, URL from a file, legacy sender fields', async (t) => {
  const rx = await startReceiver(() => ({ body: 'ok' }));
  t.after(() => rx.close());
  const dir = mkdtempSync(join(tmpdir(), 'smokemesh-slack-'));
  writeFileSync(join(dir, 'url'), `${rx.base}/services/T9/B9/filesecret\n`);
  const n = slackKind.create('ops', { url_file: join(dir, 'url'), format: 'text', username: 'smokemesh', icon_emoji: ':satellite:' });
  await n.send(sampleEvent({ state: 'cleared', url: undefined, alert: { name: 'a', type: 'rtt', comment: '', edgetrigger: true } }), AbortSignal.timeout(5000));
  const r = rx.requests[0]!;
  assert.equal(r.url, '/services/T9/B9/filesecret');
  const body = JSON.parse(r.body);
  assert.deepEqual(Object.keys(body).sort(), ['icon_emoji', 'text', 'username']);
  assert.equal(body.username, 'smokemesh');
  assert.equal(body.icon_emoji, ':satellite:');
  assert.match(body.text, /^\*\[CLEARED\] a: \/DX\/Beijing\/core-router from agent-a\*\n/);
  assert.doesNotMatch(body.text, /Link|Comment|Pattern/);
});

test('slack: HTTP error names the channel and status (the body only in the detail), never the secret path', async (t) => {
  const rx = await startReceiver(() => ({ status: 404, body: 'channel_not_found' }));
  t.after(() => rx.close());
  const n = slackKind.create('ops', { url: `${rx.base}/services/T/B/topsecret` });
  await assert.rejects(n.send(sampleEvent(), AbortSignal.timeout(5000)), (e: Error & { code?: string; detail?: string }) => {
    assert.equal(e.code, 'SMOKEMESH_E_NOTIFY');
    assert.match(e.message, /^slack notifier "ops": HTTP 404 Not Found from http:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(e.detail, 'channel_not_found');
    assert.doesNotMatch(e.message, /topsecret/);
    return true;
  });
  rx.answer = () => ({ status: 500, body: 'rollup_error' });
  await assert.rejects(n.send(sampleEvent(), AbortSignal.timeout(5000)), (e: Error & { detail?: string }) =>
    /HTTP 500 Internal Server Error from http:\/\/127\.0\.0\.1:\d+$/.test(e.message) && e.detail === 'rollup_error');
});

test('slack: a receiver that never answers times out; the caller can cancel', async (t) => {
  const rx = await startReceiver(() => ({ hang: true }));
  t.after(() => rx.close());
  const n = slackKind.create('ops', { url: `${rx.base}/hook` });
  await assert.rejects(n.send(sampleEvent(), AbortSignal.timeout(200)), /slack notifier "ops": no answer from http:\/\/127\.0\.0\.1:\d+ within the delivery timeout/);
  // On a loaded machine the first request can be cancelled before it reached the receiver.
  const seen = rx.requests.length;
  const ac = new AbortController();
  const sending = n.send(sampleEvent(), ac.signal);
  await waitFor(() => rx.requests.length > seen);
  ac.abort();
  await assert.rejects(sending, /cancelled while sending/);
});

test('slack: config errors name the notifier and field', () => {
  assert.throws(() => slackKind.create('ops', {}), /notifiers\.ops\.url: missing required field "url" \(or "url_file"\)/);
  assert.throws(() => slackKind.create('ops', { url: 'hooks.slack.com/services/x' }), /notifiers\.ops\.url: .* is not a URL/);
  assert.throws(() => slackKind.create('ops', { url: 'ftp://h/x' }), /notifiers\.ops\.url: must be an http/);
  assert.throws(() => slackKind.create('ops', { url: 'http://h/x', url_file: '/x' }), /set url or url_file, not both/);
  assert.throws(() => slackKind.create('ops', { url_file: '/nonexistent/smokemesh' }), /notifiers\.ops\.url_file: cannot read/);
  assert.throws(() => slackKind.create('ops', { url: 'http://h/x', format: 'html' }), /notifiers\.ops\.format: must be/);
  assert.throws(() => slackKind.create('ops', { url: 'http://h/x', colour: 1 }), /notifiers\.ops\.colour: unknown field/);
});

/** Polls a condition every 5 ms for at most 30 s. */
async function waitFor(cond: () => boolean): Promise<void> {
  const end = Date.now() + 30_000;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met within 30 s');
    await new Promise((r) => setTimeout(r, 5));
  }
}
