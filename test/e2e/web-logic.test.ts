import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LOSS_COLORS, lossColor, smokeShade } from '../../web/src/chart/palette.ts';
import { legendStats } from '../../web/src/chart/stats.ts';
import { align } from '../../web/src/chart/align.ts';
import { parseRoute, targetHref } from '../../web/src/route.ts';
import type { SeriesPoint } from '../../src/server/api/schemas.ts';

// The UI's pure logic, run in Node: colours, legend figures, alignment, URLs.

test('loss colours: SmokePing\'s 20-ping palette exactly, other ping counts by lost fraction', () => {
  const byLost20 = ['#26ff00', '#00b8ff', '#0059ff', '#7e00ff', '#ff00ff', '#ff00ff', '#ff5500', '#ff5500', '#ff5500', '#ff5500', '#ff5500',
    '#ff0000', '#ff0000', '#ff0000', '#ff0000', '#ff0000', '#ff0000', '#ff0000', '#ff0000', '#ff0000', '#a00000'];
  for (let lost = 0; lost <= 20; lost++) assert.equal(lossColor((100 * lost) / 20), byLost20[lost], `${lost}/20 lost`);
  // 1 of 5 lost = 4 of 20; 1 of 100 lost is not green; 3 of 10 lost = 6 of 20.
  assert.equal(lossColor(20), '#ff00ff');
  assert.equal(lossColor(1), '#00b8ff');
  assert.equal(lossColor(30), '#ff5500');
  assert.equal(lossColor(99), '#ff0000');
  assert.equal(LOSS_COLORS.length, 8);
});

test('smoke shades get darker toward the median (light theme)', () => {
  const lum = (c: string) => c.match(/\d+/g)!.map(Number).reduce((a, b) => a + b, 0);
  const shades = [0, 1, 2, 3, 4].map((i) => lum(smokeShade('#ffffff', '#000000', i, 5)));
  for (let i = 1; i < shades.length; i++) assert.ok(shades[i]! < shades[i - 1]!, `pair ${i} darker than pair ${i - 1}`);
});

const pt = (time: number, median: number | null, loss: number | null): SeriesPoint => ({
  time, rounds: 1, sent: 20, lost: 0, loss_pct: loss, median, mean: median, min: median, max: median, stddev: 0, smoke: [],
});

test('legend: median and loss avg/min/max/now over the points, sd of the median, nulls skipped', () => {
  const s = legendStats([pt(0, 10, 0), pt(1, 20, 10), pt(2, null, 100), pt(3, 30, 5)]);
  assert.deepEqual(s.median, { avg: 20, min: 10, max: 30, now: 30 });
  assert.equal(s.stddev, Math.sqrt(200 / 3));
  assert.deepEqual(s.loss, { avg: 115 / 4, min: 0, max: 100, now: 5 });
  assert.deepEqual(legendStats([]).median, { avg: null, min: null, max: null, now: null });
});

test('align: several agents on the union of their times', () => {
  const a = align([[pt(1000, 1, 0), pt(3000, 3, 0)], [pt(2000, 2, 0), pt(3000, 4, 0)]]);
  assert.deepEqual(a.xs, [1, 2, 3]);
  assert.deepEqual(a.rows.map((r) => r.map((p) => p?.median ?? null)), [[1, null, 3], [null, 2, 4]]);
});

test('URLs: target paths with Unicode, spaces and quotes round-trip with their range', () => {
  const path = '/华东 East/t0-上海/"x" <y>';
  const href = targetHref(path, { range: '30h', from: 5, to: undefined });
  const r = parseRoute(href);
  assert.equal(r.page, 't');
  assert.equal(r.path, path);
  assert.equal(r.params.get('range'), '30h');
  assert.equal(r.params.get('from'), '5');
  assert.equal(r.params.has('to'), false);
  assert.deepEqual(parseRoute('').path, '/');
});
