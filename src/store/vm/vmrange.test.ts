import { test } from 'node:test';
import assert from 'node:assert/strict';
import { histogramOf, LOWER_RANGE, rangeBounds, samplesOf, vmrangeOf } from './vmrange.ts';

test('values fall in the buckets VictoriaMetrics names (measured on 1.79.5)', () => {
  assert.equal(vmrangeOf(1), '8.799e-01...1.000e+00');
  assert.equal(vmrangeOf(20), '1.896e+01...2.154e+01');
  assert.equal(vmrangeOf(0), LOWER_RANGE);
  assert.equal(vmrangeOf(-1), undefined);
  assert.equal(vmrangeOf(Number.NaN), undefined);
  assert.equal(vmrangeOf(1e19), '1.000e+18...+Inf');
});

test('every value lies inside its bucket and buckets are about 13.6 % wide', () => {
  for (let v = 0.001; v < 1e6; v *= 1.0371) {
    const [lo, hi] = rangeBounds(vmrangeOf(v)!);
    assert.ok(lo <= v * 1.0005 && v <= hi * 1.0005, `${v} in ${lo}..${hi}`);
    assert.ok(hi / lo < 1.14, `${lo}..${hi}`);
  }
});

test('a histogram counts every value; its stand-in samples keep count, order, min and max', () => {
  const rtts = [1.2, 1.25, 3, 3.01, 40, 40.5, 41];
  const h = histogramOf(rtts);
  assert.equal([...h.values()].reduce((a, b) => a + b, 0), rtts.length);
  const s = samplesOf(h, 1.2, 41);
  assert.equal(s.length, rtts.length);
  assert.equal(s[0], 1.2);
  assert.equal(s[s.length - 1], 41);
  for (let i = 0; i < s.length; i++) assert.ok(Math.abs(s[i]! - rtts[i]!) / rtts[i]! < 0.137, `${s[i]} vs ${rtts[i]}`);
});
