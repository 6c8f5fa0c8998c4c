import { test } from 'node:test';
import assert from 'node:assert/strict';
import { globMatch } from './glob.ts';
import { silenceMatches } from './silences.ts';
import { formatHistory, perlRound } from './evaluate.ts';

test('silences: globs, labels, alert, agent and time window', () => {
  assert.ok(globMatch('/Core/*', '/Core/r1'));
  assert.ok(!globMatch('/Core/*', '/Core/fra/r1'));
  assert.ok(globMatch('/Core/**', '/Core/fra/r1'));
  assert.ok(globMatch('/Core/r?.x', '/Core/r1.x'));
  assert.ok(!globMatch('/Core/r?.x', '/Core/r1-x'), 'dots are literal');
  const s = { id: 's', created: 0, starts: 100, ends: 200, target: '/Core/**', labels: { site: 'fra' }, alert: 'lossy', comment: '' };
  const x = { target: '/Core/a/b', agent: 'srv', alert: 'lossy', labels: { site: 'fra', isp: 'x' }, time: 150 };
  assert.ok(silenceMatches(s, x));
  assert.ok(!silenceMatches(s, { ...x, time: 200 }), 'ends is exclusive');
  assert.ok(!silenceMatches(s, { ...x, time: 99 }));
  assert.ok(!silenceMatches(s, { ...x, alert: 'other' }));
  assert.ok(!silenceMatches(s, { ...x, labels: { site: 'ams' } }));
  assert.ok(!silenceMatches({ ...s, agent: 'remote' }, x));
  assert.ok(silenceMatches({ ...s, agent: 's*', alert: 'loss?' }, x), 'agent and alert are globs too');
  assert.ok(!silenceMatches({ ...s, agent: 's*', alert: 'loss' }, x));
});

test('history strings: Perl %.0f rounding (half to even), S and U', () => {
  assert.deepEqual([0.5, 1.5, 2.5, 33.333, 66.7, 12.4999].map(perlRound), ['0', '2', '2', '33', '67', '12']);
  assert.deepEqual(formatHistory({ loss: ['S', 0, 12.5, 100], rtt: ['S', 12.345, null, 7.5] }), {
    loss: ['S', '0%', '12%', '100%'], rtt: ['S', '12ms', 'U', '8ms'],
  });
});
