import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { SeriesSummary } from '../../store/types.ts';
import { JsonText } from './json-text.ts';
import { encodeSummary, OVERVIEW_LEVELS, writeSeries } from './overview.ts';

/**
 * The overview writes its answer as JSON text without building it as objects first: the text
 * must be exactly what JSON.stringify makes of the same values (encodeSummary's object, which
 * the charts route and the web UI's decoder share).
 */

test('numbers are written as JSON.stringify writes them', () => {
  const values = [0, -0, 1, -1, 9, 10, 11, 99, 100, 101, 109, 110, 300, 999, 1000, 12345, -98765, 2 ** 31 - 1, -(2 ** 31), 2 ** 31, -(2 ** 31) - 1,
    2 ** 53, 1e21, 1e-7, 0.1, 5.3, -0.05, 0.001, 0.0001, 12.5, NaN, Infinity, -Infinity, 123456789012];
  for (const v of values) {
    const w = new JsonText(1);
    w.number(v);
    assert.equal(w.view().toString(), JSON.stringify(v), `number ${v}`);
  }
  const w = new JsonText(1);
  w.char(0x5b);
  w.string('/北京/"a"\\\n');
  w.char(0x2c);
  w.nullable(null);
  w.char(0x2c);
  w.nullable(7);
  w.char(0x5d);
  assert.equal(w.view().toString(), JSON.stringify(['/北京/"a"\\\n', null, 7]));
});

/** A summary of `n` points (deterministic pseudo-random), with gaps, loss, empty smoke and a few far-off values. */
function summary(n: number, seed: number, base: number): SeriesSummary {
  let x = seed;
  const rnd = () => ((x = (x * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
  const s: SeriesSummary = { target: '/G/北京', agent: seed % 2 ? 'local' : 'tōkyō "x"', tier: '5m', resolution: 300, time: [], loss_pct: [], median: [], smoke: [] };
  let t = 1_700_000_000_000 + seed * 1000;
  for (let i = 0; i < n; i++) {
    t += rnd() < 0.05 ? 900_000 : 300_000;
    const sent = rnd() < 0.03 ? 0 : 20;
    const lost = sent && rnd() < 0.2 ? Math.floor(rnd() * sent) : sent === 0 ? 0 : 0;
    const median = sent === 0 || lost === sent ? null : base * (0.5 + rnd()) * (rnd() < 0.02 ? 40 : 1);
    s.time.push(t);
    s.loss_pct.push(sent ? (100 * lost) / sent : null);
    s.median.push(median);
    s.smoke.push(median === null ? [] : OVERVIEW_LEVELS.map((l) => median * (0.6 + l * 0.8) + rnd() * base * 0.01));
  }
  return s;
}

test('a series written as text is JSON.stringify of encodeSummary, whatever its figures', () => {
  const cases: SeriesSummary[] = [
    { target: '/G/a', agent: 'local', tier: 'raw', resolution: 0, time: [], loss_pct: [], median: [], smoke: [] },
    { target: '/G/a', agent: 'local', tier: 'raw', resolution: 60, time: [1000], loss_pct: [100], median: [null], smoke: [[]] },
  ];
  for (let seed = 1; seed <= 60; seed++) cases.push(summary(1 + (seed * 37) % 400, seed, [0.0004, 0.02, 0.9, 7, 55, 380, 2900][seed % 7]!));
  for (const s of cases) {
    const w = new JsonText(8);
    writeSeries(w, s, new Float64Array(OVERVIEW_LEVELS.length));
    assert.equal(w.view().toString(), JSON.stringify(encodeSummary(s)), `${s.agent} ${s.time.length} points`);
  }
});
