import { test } from 'node:test';
import assert from 'node:assert/strict';
import { judge } from './judge.ts';
import { scopeOf } from './testkit.ts';
import type { SeriesInput, SeriesMemo } from './types.ts';

const rule = scopeOf().bad;
const round = (time: number, lost: number, median: number | null, sent = 10): SeriesInput => ({
  target: '/t', agent: 'a', targetLabels: {}, agentLabels: {}, agentRegion: 'r', time, step: 60, sent, lost, median,
});

test('loss above the threshold (article: 50 %) is bad; exactly 50 % is not', () => {
  assert.equal(judge(round(1, 6, 10), undefined, rule).bad, 'loss');
  assert.equal(judge(round(1, 5, 10), undefined, rule).bad, false);
  assert.equal(judge(round(1, 0, null, 0), undefined, rule).bad, 'loss', 'nothing sent counts as all lost');
});

test('the baseline learns from good rounds; a median far above it is bad only once it has enough samples', () => {
  let m: SeriesMemo | undefined;
  for (let i = 0; i < 9; i++) m = judge(round(i, 0, 20), m, rule);
  assert.equal(m!.samples, 9);
  assert.equal(judge(round(10, 0, 100), m, rule).bad, false, '9 samples: not yet');
  m = judge(round(11, 0, 20), m, rule);
  const slow = judge(round(12, 0, 100), m, rule);
  assert.equal(slow.bad, 'latency');
  assert.equal(slow.badSince, 12);
  assert.equal(judge(round(12, 0, 50), m, rule).bad, false, '2.5 × is under the factor 3');
  assert.equal(judge(round(12, 0, 5 * 3.5), { ...m!, base: 3.5 }, rule).bad, false, 'under the minimum increase of 20 ms');
  // Loss-bad rounds teach nothing; a lasting shift drifts the baseline ten times slower.
  const lossy = judge(round(13, 8, 500), slow, rule);
  assert.equal(lossy.base, slow.base);
  assert.ok(slow.base! > 20 && slow.base! < 20 + (100 - 20) / 60, `baseline drift ${slow.base}`);
});

test('a round already counted is not counted again; the bad run keeps its start', () => {
  const a = judge(round(100, 10, null), undefined, rule);
  assert.equal(judge(round(100, 0, 10), a, rule), a);
  const b = judge(round(160, 10, null), a, rule);
  assert.equal(b.badSince, 100);
  assert.equal(judge(round(220, 0, 10), b, rule).badSince, null);
});
