import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rankChange } from './charts.ts';

const row = (target: string, value: number) => ({ target, agent: 'a', value, loss_pct: 0, median: value, time: 0 });

test('rankChange: the largest move of the median either way first; series missing from a period are left out', () => {
  const now = [row('/up', 30), row('/down', 5), row('/flat', 10), row('/new', 99)];
  const before = [row('/up', 10), row('/down', 40), row('/flat', 10), row('/gone', 1)];
  assert.deepEqual(rankChange(now, before, 10).map((r) => [r.target, r.value, r.previous]), [['/down', -35, 40], ['/up', 20, 10], ['/flat', 0, 10]]);
  assert.equal(rankChange(now, before, 1).length, 1);
});
