import assert from 'node:assert/strict';
import { test } from 'node:test';
import { validate } from '../config/validate.ts';
import { lossPct, makeRound, RoundSchema, smokepingMedian } from './round.ts';

const base = { target: '/a', agent: 'x', probe: 'icmp' as const, time: 1, step: 60 };

test("median follows SmokePing's rule: sorted[floor(n/2)], the upper median for even counts", () => {
  assert.equal(smokepingMedian([1, 2, 3]), 2);
  assert.equal(smokepingMedian([1, 2, 3, 4]), 3);
  assert.equal(smokepingMedian([5]), 5);
  assert.equal(smokepingMedian([]), null);
});

test('makeRound sorts, keeps µs precision and derives loss, mean, stddev', () => {
  const r = makeRound(base, { sent: 5, rtts: [0.0456, 0.0121, 0.0333] });
  assert.deepEqual(r.rtts, [0.012, 0.033, 0.046]);
  assert.equal(r.loss, 2);
  assert.equal(r.median, 0.033);
  assert.equal(r.min, 0.012);
  assert.equal(r.max, 0.046);
  assert.equal(r.mean, 0.030);
  assert.ok(r.stddev! > 0.013 && r.stddev! < 0.015);
  assert.equal(lossPct(r), 40);
});

test('no reply at all: loss = sent and every statistic unknown', () => {
  const r = makeRound(base, { sent: 20, rtts: [], error: 'timeout' });
  assert.equal(r.loss, 20);
  assert.equal(r.median, null);
  assert.equal(r.mean, null);
  assert.equal(r.error, 'timeout');
  assert.equal(lossPct(r), 100);
});

test('RoundSchema (the wire format) names the bad statistic: not a number, or negative', () => {
  const bad = { target: '/a', agent: 'x', probe: 'icmp', time: 1, step: 60, sent: 1, rtts: [], loss: 1, median: 'fast', mean: null, stddev: null, min: -1, max: null };
  const issues = validate(RoundSchema, bad);
  assert.deepEqual(issues.map((i) => i.path.join('.')).sort(), ['median', 'min']);
  assert.match(issues.find((i) => i.path[0] === 'median')!.message, /number,null/);
  assert.deepEqual(validate(RoundSchema, makeRound(base, { sent: 3, rtts: [1, 2] })), []);
});
