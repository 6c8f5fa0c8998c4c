import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LOSS_COLORS, lossBins, lossColor, pointPings, smokeShade } from '../../web/src/chart/palette.ts';
import { results } from '../../web/src/chart/results.ts';
import { isLinkLocal, splitAddresses } from '../../web/src/pages/agents.ts';
import { offsetLabel, offsetMinutes, parseLocalInput, timeTicks, zoneLabel } from '../../web/src/time.ts';
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

test('loss bins scale with the pings as SmokePing\'s do (5, 10, 100 pings), labels as its legend writes them', () => {
  const bins = (p: number) => lossBins(p).map((b) => `${b.label} ${b.color}`);
  assert.deepEqual(bins(5), ['0 #26ff00', '1 #00b8ff', '2 #0059ff', '3 #7e00ff', '4 #ff0000', '5/5 #a00000']);
  assert.deepEqual(bins(10), ['0 #26ff00', '1 #00b8ff', '2 #0059ff', '3 #7e00ff', '4 #ff00ff', '5 #ff5500', '6–9 #ff0000', '10/10 #a00000']);
  assert.deepEqual(bins(100).map((b) => b.split(' ')[0]), ['0', '1', '2–5', '6–10', '11–25', '26–50', '51–99', '100/100']);
  assert.deepEqual(bins(20).map((b) => b.split(' ')[0]), ['0', '1', '2', '3', '4–5', '6–10', '11–19', '20/20']);
  // A ping of one: answered is green (SmokePing would paint it red), lost is the outage colour.
  assert.deepEqual(bins(1), ['0 #26ff00', '1/1 #a00000']);
  // 1 of 5 lost (20 %) is the 1-of-5 colour, not the 20-ping palette's 4-of-20; 2 of 5 lost likewise.
  assert.equal(lossColor(20, 5), '#00b8ff');
  assert.equal(lossColor(40, 5), '#0059ff');
  assert.equal(lossColor(80, 5), '#ff0000');
  assert.equal(lossColor(100, 5), '#a00000');
  // A bucket's average: 0.5 of 5 lost is in the first bin, not green.
  assert.equal(lossColor(10, 5), '#00b8ff');
  // A round's own count wins over the target's: 10 pings sent in 2 rounds = 5 pings each.
  assert.equal(pointPings({ sent: 10, rounds: 2 }, 20), 5);
  assert.equal(pointPings({}, 20), 20);
});

test('time ticks: 24-hour clock in the chosen zone, the date where the day changes, dates and months for long ranges', () => {
  const t0 = Date.UTC(2026, 10, 23, 15, 0) / 1000; // 23:00 in Shanghai
  const hourly = [0, 1, 2, 3].map((i) => t0 + i * 3600);
  assert.deepEqual(timeTicks(hourly, 3600, 'Asia/Shanghai'), ['23:00\n11-23', '00:00\n11-24', '01:00', '02:00']);
  assert.deepEqual(timeTicks(hourly, 3600, 'UTC'), ['15:00', '16:00', '17:00', '18:00']);
  assert.deepEqual(timeTicks([t0, t0 + 86400], 86400, 'UTC'), ['11-23\n2026', '11-24']);
  assert.deepEqual(timeTicks([t0, t0 + 40 * 86400], 30 * 86400, 'UTC'), ['2026-11', '2027-01']);
  assert.equal(offsetMinutes(t0 * 1000, 'Asia/Shanghai'), 480);
  assert.equal(offsetLabel(t0 * 1000, 'Asia/Shanghai'), 'UTC+08:00');
  assert.equal(offsetLabel(t0 * 1000, 'America/New_York'), 'UTC−05:00');
  assert.equal(zoneLabel(t0 * 1000, 'UTC'), 'UTC');
  // Typed wall-clock times mean that zone's time (also next to a DST change).
  assert.equal(parseLocalInput('2026-11-23T23:00', 'Asia/Shanghai'), t0 * 1000);
  assert.equal(parseLocalInput('2026-03-08T03:30', 'America/New_York'), Date.UTC(2026, 2, 8, 7, 30));
  assert.ok(Number.isNaN(parseLocalInput('23.11.2026 23:00', 'UTC')));
});

test('agents: routable addresses first (two), the rest and link-local ones folded', () => {
  const many = ['192.0.2.2', 'fd00::2', ...Array.from({ length: 26 }, (_, i) => `fe80::${i + 1}`), '169.254.3.4', '10.1.1.1'];
  const { first, rest } = splitAddresses(many);
  assert.deepEqual(first, ['192.0.2.2', 'fd00::2']);
  assert.equal(rest.length, many.length - 2);
  assert.deepEqual(rest.slice(0, 1), ['10.1.1.1']);
  assert.ok(rest.filter(isLinkLocal).length === 27);
});

const hp = (over: Partial<SeriesPoint>): SeriesPoint => ({ ...pt(0, 10, 0), sent: 3, lost: 0, rounds: 1, ...over });

test('results: answers by status, failures by reason; a round\'s failed status never counts as its answer', () => {
  // Attempts 503, 200, 200: the round keeps status 200 (last) and the 503 as its error.
  const r = results([
    hp({ time: 1, status: 200, lost: 1, error: 'status 503 not in valid_status_codes [2xx]' }),
    hp({ time: 2, status: 503, lost: 1, error: 'status 503 not in valid_status_codes [2xx]' }),
    hp({ time: 3, status: 200 }),
  ], 'http');
  assert.deepEqual(r.map((x) => [x.ok, x.label, x.attempts, x.rounds]), [
    [false, 'status 503 not in valid_status_codes [2xx]', 2, 2],
    [true, 'HTTP 200', 5, 2],
    [true, 'answered', 2, 1],
  ]);
  assert.deepEqual(results([hp({ sent: 5, lost: 2 })], 'icmp').map((x) => x.label), ['no reply (timeout)', 'replies']);
});
