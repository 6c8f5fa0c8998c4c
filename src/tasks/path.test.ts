import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fixture } from './fixtures.testkit.ts';
import { parseMtrJson } from './mtr-parser.ts';
import { comparePaths, hopsOfMtr, hopsOfTraceroute, judgePath, summarizePath, type PathHop } from './path.ts';
import { parseTraceroute } from './traceroute-parser.ts';

const mtr = (name: string) => hopsOfMtr(parseMtrJson(fixture(name).out));
const tr = (name: string) => hopsOfTraceroute(parseTraceroute(fixture(name).out));
const T = '198.18.6.2';

test('loss injected at r2: it starts at hop 2, named by its address', () => {
  assert.equal(summarizePath(mtr('mtr-loss-r2'), T), 'loss starts at hop 2, 198.18.2.2 (20% at 198.18.6.2, hop 4)');
  assert.deepEqual(judgePath(tr('traceroute-loss-r2'), T).loss_from, { hop: 2, host: '198.18.2.2' });
});

test('a clean path: hops, no loss, the RTT at the end', () => {
  assert.equal(summarizePath(mtr('mtr-clean'), T), 'path clean: 4 hops to 198.18.6.2, no loss, 0.135 ms');
  assert.equal(summarizePath(mtr('mtr-clean6'), 'fd18:6::2'), 'path clean: 4 hops to fd18:6::2, no loss, 0.148 ms');
  assert.equal(summarizePath(tr('traceroute-clean'), T), 'path clean: 4 hops to 198.18.6.2, no loss, 0.009 ms');
});

test('ICMP rate limit at a middle hop is not loss on the path', () => {
  const v = judgePath(mtr('mtr-ratelimit'), T);
  assert.equal(v.loss_from, undefined);
  assert.deepEqual(v.rate_limited, [{ hop: 1, host: '198.18.1.1', loss_pct: 85 }]);
  assert.equal(summarizePath(mtr('mtr-ratelimit'), T), 'path clean: 4 hops to 198.18.6.2, no loss, 0.083 ms; hop 1 (198.18.1.1) drops 85% of its own answers only (ICMP rate limit, not path loss)');
});

test('a silent hop is named, and does not make loss', () => {
  assert.equal(summarizePath(mtr('mtr-unanswered'), T), 'path clean: 4 hops to 198.18.6.2, no loss, 0.102 ms; hop 3 did not answer');
  assert.match(summarizePath(tr('traceroute-unanswered'), T), /^path clean: 4 hops .*; hop 3 did not answer$/);
});

test('an unreachable host: the last hop that answered', () => {
  assert.equal(summarizePath(mtr('mtr-unreachable'), '198.18.6.99'), '198.18.6.99 not reached: last answer from hop 4, 198.18.3.2');
  assert.equal(summarizePath(tr('traceroute-unreachable'), '198.18.6.99'), '198.18.6.99 not reached: last answer from hop 3, 198.18.3.2; hops 4, 5 did not answer');
});

test('TCP mode: retransmitted SYNs are called out as loss', () => {
  assert.match(summarizePath(mtr('mtr-loss-r2-tcp'), T), /hop 3 \(198\.18\.3\.2\) has RTTs over 1 s \(1008 ms\): in tcp mode that is a retransmitted SYN/);
});

test('ECMP: a hop answered by two routers shows both', () => {
  const hops = tr('traceroute-ecmp');
  assert.deepEqual(hops[1]!.hosts, ['198.18.4.2', '198.18.2.2']);
  assert.equal(judgePath(hops, T).reached, true);
});

test('comparisons: loss gone, loss appears, path change, loss moves', () => {
  assert.deepEqual(comparePaths(mtr('mtr-loss-r2'), mtr('mtr-clean'), T), ['loss from hop 2, 198.18.2.2 is gone (198.18.6.2: 20% → 0%)']);
  assert.deepEqual(comparePaths(mtr('mtr-clean'), mtr('mtr-loss-r2'), T), ['loss starts at hop 2, 198.18.2.2 (198.18.6.2: 0% → 20%)']);
  assert.deepEqual(comparePaths(mtr('mtr-clean'), mtr('mtr-path-change'), T), ['path changed at hop 2: 198.18.2.2 → 198.18.4.2']);
  assert.deepEqual(comparePaths(mtr('mtr-clean'), mtr('mtr-clean'), T), []);
  const moved: PathHop[] = mtr('mtr-loss-r2').map((h) => (h.hop === 2 ? { ...h, loss_pct: 0 } : h));
  assert.deepEqual(comparePaths(mtr('mtr-loss-r2'), moved, T), ['loss now starts at hop 3, 198.18.3.2 (was hop 2, 198.18.2.2; 198.18.6.2: 20% → 20%)']);
  assert.deepEqual(comparePaths(mtr('mtr-clean'), mtr('mtr-unreachable'), T), ['path changed at hop 4: 198.18.6.2 → 198.18.3.2', '198.18.6.2 no longer reached']);
});
