import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../errors.ts';
import { parseConfig } from './loader.ts';
import { spanMs } from './presentation-schema.ts';

const TARGETS = 'targets:\n  children:\n    a: { host: 127.0.0.1 }\n';

test('presentation: defaults are SmokePing\'s (3 h, 30 h, 10 d, 360 d; 10 h overview), spans in ms', () => {
  const c = parseConfig(TARGETS);
  assert.deepEqual(c.raw.presentation, {
    time_zone: 'browser', overview: { range: '10h' }, detail: { ranges: { '3h': null, '30h': null, '10d': null, '360d': null } }, charts: { count: 8 },
  });
  const mine = parseConfig(`presentation:\n  time_zone: UTC\n  detail:\n    ranges: { 90m: Short, 7d: , 1y: Year }\n${TARGETS}`);
  assert.deepEqual(Object.keys(mine.raw.presentation.detail.ranges), ['90m', '7d', '1y']);
  assert.deepEqual(['90m', '7d', '1y', '30h'].map(spanMs), [90 * 60_000, 7 * 86_400_000, 365 * 86_400_000, 30 * 3_600_000]);
});

test('presentation: bad values are errors at file:line:column naming the field, in check-config too', () => {
  const text = `presentation:\n  time_zone: Mars\n  detail:\n    ranges:\n      3h:\n      3x: Bad\n  charts: { count: 0 }\n${TARGETS}`;
  try {
    parseConfig(text, 'p.yaml');
    assert.fail('accepted');
  } catch (e) {
    assert.ok(e instanceof ConfigError);
    const got = e.issues.map((i) => `${i.line}:${i.column} ${i.path}: ${i.message}`);
    assert.deepEqual(got, [
      '2:3 presentation.time_zone: must be ["browser","server","UTC"]',
      '6:7 presentation.detail.ranges.3x: must match ^[1-9][0-9]{0,5}[mhdwy]$',
      '7:13 presentation.charts.count: must be >= 1',
    ]);
  }
  const dir = mkdtempSync(join(tmpdir(), 'smokemesh-presentation-'));
  try {
    writeFileSync(join(dir, 'bad.yaml'), text);
    const r = spawnSync(process.execPath, ['bin/smokemesh.js', 'check-config', join(dir, 'bad.yaml')], { encoding: 'utf8' });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /bad\.yaml:6:7: presentation\.detail\.ranges\.3x: must match/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
