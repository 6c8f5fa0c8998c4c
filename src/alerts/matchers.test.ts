import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { compileMatcher, MatcherError } from './matchers.ts';
import type { HistoryValue } from './pattern.ts';

const h = (loss: HistoryValue[], rtt: HistoryValue[] = loss.map(() => 10)) => ({ loss, rtt });

test('matchers: CheckLoss raises after x rounds at or over l, clears after x rounds under', () => {
  const m = compileMatcher('CheckLoss(l=>20,x=>3)');
  assert.equal(m.length, 3);
  assert.equal(m.test(h([0, 20, 30]), 0), 0);
  assert.equal(m.test(h([20, 30, 20]), 0), 1);
  assert.equal(m.test(h([20, 0, 0]), 1), 1, 'holds the raised state until 3 rounds under');
  assert.equal(m.test(h([0, 0, 0]), 1), 0);
  assert.equal(m.test(h(['S', 50, 50]), 0), 0, 'start marker inside the window keeps the state');
});

test('matchers: CheckLatency counts an unknown RTT as 0 like SmokePing', () => {
  const m = compileMatcher('CheckLatency(l=>100,x=>2)');
  assert.equal(m.test(h([0, 0], [150, 200]), 0), 1);
  assert.equal(m.test(h([0, 100], [150, null]), 0), 0);
  assert.equal(m.test(h([100, 100], [null, null]), 4), 0, 'two unknowns clear a raised latency alert');
});

test('matchers: ConsecutiveLoss uses separate raise and clear thresholds', () => {
  const m = compileMatcher('ConsecutiveLoss(pctlossraise=>10,stepsraise=>1,pctlossclear=>3,stepsclear=>3)');
  assert.equal(m.length, 3);
  assert.equal(m.test(h([0, 0, 10]), 0), 1);
  assert.equal(m.test(h([0, 5, 0]), 1), 1);
  assert.equal(m.test(h([2, 0, 0]), 1), 0);
});

test('matchers: Avgratio, Medratio, Median, ExpLoss', () => {
  const avg = compileMatcher("Avgratio(historic=>3,current=>1,comparator=>'>',percentage=>150)");
  assert.equal(avg.test(h([0, 0, 0, 0], [10, 10, 10, 20]), 0), 1);
  assert.equal(avg.test(h([0, 0, 0, 0], [10, 10, 10, 14]), 0), 0);
  assert.equal(avg.test(h(['S', 0, 0, 0], ['S', 10, 10, 20]), 0), 0, 'not before the window is full of data');
  const med = compileMatcher("Medratio(historic=>3,current=>1,comparator=>'>=',percentage=>200)");
  assert.equal(med.test(h([0, 0, 0, 0], [10, 90, 10, 20]), 0), 1);
  const median = compileMatcher('Median(old=>3,new=>2,diff=>0.01)');
  assert.equal(median.test(h([0, 0, 0, 0, 0], [10, 10, 10, 25, 25]), 0), 1, 'diff is in seconds as in SmokePing');
  assert.equal(median.test(h([0, 0, 0, 0, 0], [10, 10, 10, 15, 15]), 0), 0);
  const exp = compileMatcher('ExpLoss(hist=>5,rising=>50,falling=>10)');
  assert.equal(exp.test(h([0, 0, 100, 100, 100]), 0), 1);
  assert.equal(exp.test(h([100, 100, 100, 20, 20]), 1), 1, 'hysteresis holds above falling');
  assert.equal(exp.test(h([100, 100, 100, 20, 20]), 0), 0);
});

// Results computed by SmokePing 2.x's own matcher modules under perl on random histories.
test('matchers: agree with SmokePing on recorded random cases', () => {
  const file = new URL('./fixtures/matchers-smokeping.json', import.meta.url);
  const recorded = JSON.parse(readFileSync(file, 'utf8')) as { call: string; prevmatch: number; loss: HistoryValue[]; rtt: HistoryValue[]; expect: number }[];
  assert.ok(recorded.length >= 500);
  for (const c of recorded) {
    assert.equal(compileMatcher(c.call).test({ loss: c.loss, rtt: c.rtt }, c.prevmatch), c.expect, `${c.call} prev=${c.prevmatch} ${JSON.stringify(c)}`);
  }
});

test('matchers: bad calls are refused with the reason', () => {
  for (const [call, words] of [
    ['Nope(x=>1)', 'unknown matcher'],
    ['CheckLoss(l=>10)', 'missing parameter "x"'],
    ['CheckLoss(l=>10,x=>3,y=>1)', 'unknown parameter "y"'],
    ["Avgratio(historic=>10,current=>2,comparator=>'!',percentage=>150)", 'comparator'],
    ['CheckLoss l=>10', 'not a matcher call'],
  ] as const) {
    assert.throws(() => compileMatcher(call), (e: unknown) => e instanceof MatcherError && e.message.includes(words), call);
  }
});
