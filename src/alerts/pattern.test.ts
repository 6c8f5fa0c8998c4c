import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { MAX_ALERT_HISTORY, MAX_STAR_PRODUCT, compilePattern, matchPattern, PatternError, type HistoryValue, type PatternType } from './pattern.ts';
import { prng } from '../../test/fixtures/prng.ts';

const zeros = (n: number): number[] => new Array(n).fill(0);

function m(type: PatternType, pattern: string, history: HistoryValue[]): boolean {
  return matchPattern(compilePattern(type, pattern), history);
}

// The measured cases of ../shared/reference/smokeping.md, plus SmokePing's documented examples.
const cases: { name: string; type: PatternType; pattern: string; history: HistoryValue[]; expect: boolean }[] = [
  { name: '*3* gap of 2 matches', type: 'loss', pattern: '>10%,*3*,>10%', history: [...zeros(5), 20, 0, 0, 20], expect: true },
  { name: '*3* gap of 3 does not', type: 'loss', pattern: '>10%,*3*,>10%', history: [...zeros(5), 20, 0, 0, 0, 20], expect: false },
  { name: '*3* gap of 0', type: 'loss', pattern: '>10%,*3*,>10%', history: [...zeros(5), 20, 20], expect: true },
  { name: 'history no longer than minimum length', type: 'loss', pattern: '>0%,*12*,>0%,*12*,>0%', history: [5, 5, 5], expect: false },
  { name: 'long enough history', type: 'loss', pattern: '>0%,*12*,>0%,*12*,>0%', history: [...zeros(30), 5, 5, 5], expect: true },
  { name: '==S fires on a condition present at start', type: 'loss', pattern: '==S,>20%', history: ['S', 30], expect: true },
  { name: '==S needs the marker right before', type: 'loss', pattern: '==S,>20%', history: ['S', 0, 30], expect: false },
  { name: 'two conditions: inside', type: 'loss', pattern: '>45%<=55%', history: [50], expect: true },
  { name: 'two conditions: upper bound included', type: 'loss', pattern: '>45%<=55%', history: [55], expect: true },
  { name: 'two conditions: lower bound excluded', type: 'loss', pattern: '>45%<=55%', history: [45], expect: false },
  { name: 'two conditions: above', type: 'loss', pattern: '>45%<=55%', history: [56], expect: false },
  { name: 'aligned to the newest round', type: 'loss', pattern: '>20%', history: [50, 0], expect: false },
  { name: '==U on a lost round', type: 'rtt', pattern: '!=U,==U', history: [12, null], expect: true },
  { name: '==U is not the start marker', type: 'rtt', pattern: '==U', history: ['S'], expect: false },
  { name: '!=U holds on the start marker', type: 'rtt', pattern: '!=U', history: ['S'], expect: true },
  { name: 'numeric conditions fail on unknown', type: 'rtt', pattern: '<100', history: [null], expect: false },
  { name: '==* matches anything, even unknown', type: 'rtt', pattern: '==*,>100', history: [null, 150], expect: true },
  { name: 'rtt in ms of the median', type: 'rtt', pattern: '<10,<10,<10,<10,<10,<100,>100,>100,>100', history: [5, 5, 5, 5, 5, 50, 150, 120, 101], expect: true },
  { name: 'SmokePing doc: bigloss', type: 'loss', pattern: '==0%,==0%,==0%,==0%,>20%,>20%,>20%', history: [0, 0, 0, 0, 25, 50, 100], expect: true },
  { name: 'SmokePing doc: bigloss one round early', type: 'loss', pattern: '==0%,==0%,==0%,==0%,>20%,>20%,>20%', history: [0, 0, 0, 0, 0, 50, 100], expect: false },
  { name: 'SmokePing doc: startloss', type: 'loss', pattern: '==S,>0%,>0%,>0%', history: ['S', 10, 10, 10], expect: true },
  { name: 'SmokePing doc: noresponse at start', type: 'rtt', pattern: '==S,==U', history: ['S', null], expect: true },
];

test('pattern: measured and documented cases', () => {
  for (const c of cases) assert.equal(m(c.type, c.pattern, c.history), c.expect, `${c.name}: ${c.pattern} on ${JSON.stringify(c.history)}`);
});

test('pattern: two *12* match iff g1 ≤ 11, g2 ≤ 11 and 2·g1 + g2 < 27', () => {
  const p = compilePattern('loss', '>0%,*12*,>0%,*12*,>0%');
  for (let g1 = 0; g1 <= 20; g1++) {
    for (let g2 = 0; g2 <= 20; g2++) {
      const history = [...zeros(40), 5, ...zeros(g1), 5, ...zeros(g2), 5];
      const expect = g1 <= 11 && g2 <= 11 && 2 * g1 + g2 < 27;
      assert.equal(matchPattern(p, history), expect, `g1=${g1} g2=${g2}`);
    }
  }
});

test('pattern: lengths are SmokePing minlength / maxlength', () => {
  const p = compilePattern('loss', '>0%,*12*,>0%,*12*,>0%');
  assert.equal(p.minLength, 3);
  assert.equal(p.maxLength, 27);
});

// Cases whose expected result was computed by SmokePing 2.x itself (its init_alerts compiler
// run under perl on random patterns and histories); see docs/alerts.md.
test('pattern: agrees with SmokePing on recorded random cases', () => {
  const file = new URL('./fixtures/pattern-smokeping.json', import.meta.url);
  const recorded = JSON.parse(readFileSync(file, 'utf8')) as { type: PatternType; pattern: string; history: HistoryValue[]; expect: boolean | 'invalid' }[];
  assert.ok(recorded.length >= 500);
  for (const c of recorded) {
    const what = `${c.type} ${c.pattern} on ${JSON.stringify(c.history)}`;
    if (c.expect === 'invalid') {
      assert.throws(() => compilePattern(c.type, c.pattern), PatternError, what);
    } else {
      assert.equal(m(c.type, c.pattern, c.history), c.expect, what);
    }
  }
});

test('pattern: invalid elements are rejected naming the element', () => {
  const bad: [PatternType, string, string][] = [
    ['loss', '>10', '>10'],
    ['loss', '>10%,*0*,>10%', '*0*'],
    ['rtt', '<U', '<U'],
    ['rtt', '!=S', '!=S'],
    ['rtt', '>=*', '>=*'],
    ['rtt', '>10,,>10', ''],
    ['rtt', 'abc', 'abc'],
    ['loss', '>10%<20', '>10%<20'],
    ['rtt', '==3*', '==3*'],
  ];
  for (const [type, pattern, element] of bad) {
    assert.throws(() => compilePattern(type, pattern), (e: unknown) => e instanceof PatternError && e.element === element, pattern);
  }
});

test('pattern fuzz: valid patterns never throw, invalid ones are rejected', () => {
  // Deterministic, so that a failing fuzz case can be replayed.
  const rnd = prng(20240605);
  const pick = <T>(a: readonly T[]): T => a[Math.floor(rnd() * a.length)]!;
  const ops = ['==', '!=', '<', '>', '<=', '>='];
  for (let k = 0; k < 3000; k++) {
    const type: PatternType = rnd() < 0.5 ? 'loss' : 'rtt';
    const pc = type === 'loss' ? '%' : '';
    let product = 1;
    const elements = Array.from({ length: 1 + Math.floor(rnd() * 8) }, () => {
      const r = rnd();
      const x = 1 + Math.floor(rnd() * 20);
      // Valid patterns stay within the bound on the stars' work (tested on its own below).
      if (r < 0.2 && product * x <= MAX_STAR_PRODUCT) {
        product *= x;
        return `*${x}*`;
      }
      if (r < 0.3) return pick(['==U', '!=U', '==S', '==*']);
      let e = pick(ops) + (rnd() * 200).toFixed(pick([0, 1, 2])) + pc;
      if (rnd() < 0.2) e += pick(['<', '>', '<=', '>=']) + Math.floor(rnd() * 200) + pc;
      return e;
    });
    const history: HistoryValue[] = rnd() < 0.3 ? ['S'] : [];
    const len = Math.floor(rnd() * 60);
    while (history.length < len) history.push(rnd() < 0.1 ? null : Math.floor(rnd() * 150));
    const pattern = elements.join(',');
    const p = compilePattern(type, pattern);
    assert.equal(typeof matchPattern(p, history), 'boolean');

    // Corrupt one element: the pattern must be refused, naming that element.
    const broken = [...elements];
    const at = Math.floor(rnd() * broken.length);
    broken[at] = pick(['>', '=>5', '*0*', '<U', '>S', '**', '*x*', '5', '>5%5', '>=abc', '~1']);
    assert.throws(() => compilePattern(type, broken.join(',')), (e: unknown) => e instanceof PatternError && e.element === broken[at], broken.join(','));
  }
});

test('a pattern may not look at more history than an alert keeps, nor make the gap search explode', () => {
  assert.throws(() => compilePattern('loss', '>10%,*999999999*,>10%'), (e: unknown) => e instanceof PatternError && e.element === '*999999999*' && /at most 1000 are kept/.test(e.message));
  assert.throws(() => compilePattern('loss', Array(MAX_ALERT_HISTORY + 1).fill('>1%').join(',')), /at most 1000/);
  assert.equal(compilePattern('loss', `>1%,*${MAX_ALERT_HISTORY - 2}*,>1%`).maxLength, MAX_ALERT_HISTORY);
  assert.throws(() => compilePattern('rtt', '>1,*100*,>1,*100*,>1,*11*,>1'), (e: unknown) => e instanceof PatternError && e.element === '*11*' && /100,000 gap combinations/.test(e.message));
  assert.doesNotThrow(() => compilePattern('rtt', '>1,*100*,>1,*100*,>1,*10*,>1'));
});
