import { test } from 'node:test';
import assert from 'node:assert/strict';
import { atLeast, inMaintenance, labelsMatch, moreThan, pathMatches, ratio, whitelisted, windowOpen } from './select.ts';

test('fractions compare exactly: a third of 3 is a third, "1/2" of 31 needs 16', () => {
  assert.equal(atLeast(1, 3, ratio('1/3')), true);
  assert.equal(atLeast(1, 3, ratio(0.3334)), false);
  assert.equal(atLeast(15, 31, ratio('1/2')), false);
  assert.equal(atLeast(16, 31, ratio(' 1 / 2 ')), true);
  assert.equal(moreThan(1, 2, ratio('1/2')), false);
  assert.equal(moreThan(2, 3, ratio('1/2')), true);
  assert.equal(atLeast(0, 0, ratio('0/1')), false, 'nothing to count is never a match');
});

test('path patterns: exact, * for one segment, ** for a subtree', () => {
  assert.equal(pathMatches('/IDC/bj/vip1', '/IDC/bj/vip1'), true);
  assert.equal(pathMatches('/IDC/bj/vip1', '/IDC/bj/vip10'), false);
  assert.equal(pathMatches('/IDC/*/vip1', '/IDC/sh/vip1'), true);
  assert.equal(pathMatches('/IDC/*/vip1', '/IDC/sh/x/vip1'), false);
  assert.equal(pathMatches('/IDC/**', '/IDC'), true);
  assert.equal(pathMatches('/IDC/**', '/IDC/a/b/c'), true);
  assert.equal(pathMatches('/IDC/**', '/IDCX/a'), false);
  assert.equal(pathMatches('/a/**/b', '/a/x/b'), false, '** only at the end');
  // Linear: a long path against a long pattern answers at once.
  const long = '/' + Array.from({ length: 5000 }, () => '*').join('/');
  assert.equal(pathMatches(long, '/' + Array.from({ length: 5000 }, () => 'x').join('/')), true);
});

test('label matchers: a value or a list; every key must match', () => {
  assert.equal(labelsMatch({ isp: 'telecom' }, { isp: 'telecom', province: 'x' }), true);
  assert.equal(labelsMatch({ isp: ['telecom', 'unicom'] }, { isp: 'unicom' }), true);
  assert.equal(labelsMatch({ isp: 'telecom', province: 'y' }, { isp: 'telecom', province: 'x' }), false);
  assert.equal(labelsMatch({ isp: 'telecom' }, {}), false);
  assert.equal(labelsMatch(undefined, {}), true);
});

test('whitelist: by target pattern, agent, or target/agent labels', () => {
  const w = { targets: ['/Test/**'], agents: ['lab'], labels: { business: 'test' } };
  assert.equal(whitelisted(w, '/Test/a', 'x', {}, {}), true);
  assert.equal(whitelisted(w, '/Prod/a', 'lab', {}, {}), true);
  assert.equal(whitelisted(w, '/Prod/a', 'x', { business: 'test' }, {}), true);
  assert.equal(whitelisted(w, '/Prod/a', 'x', {}, { business: 'test' }), true);
  assert.equal(whitelisted(w, '/Prod/a', 'x', { business: 'pay' }, {}), false);
  assert.equal(whitelisted({}, '/Prod/a', 'x', {}, {}), false);
});

test('maintenance windows: one-off, weekly (UTC, across midnight), scoped by target, agent, labels', () => {
  const at = (iso: string) => Date.parse(iso);
  const once = { start: '2026-03-01T02:00:00Z', end: '2026-03-01T04:00:00Z', comment: '' };
  assert.equal(windowOpen(once, at('2026-03-01T01:59:59Z')), false);
  assert.equal(windowOpen(once, at('2026-03-01T02:00:00Z')), true);
  assert.equal(windowOpen(once, at('2026-03-01T04:00:00Z')), false, 'the end is exclusive');
  // 2026-03-01 is a Sunday.
  const weekly = { weekly: { days: ['sun' as const], from: '23:00', to: '01:00' }, comment: '' };
  assert.equal(windowOpen(weekly, at('2026-03-01T23:30:00Z')), true);
  assert.equal(windowOpen(weekly, at('2026-03-02T00:30:00Z')), true, 'Monday early morning belongs to Sunday night');
  assert.equal(windowOpen(weekly, at('2026-03-02T01:00:00Z')), false);
  assert.equal(windowOpen(weekly, at('2026-03-02T23:30:00Z')), false, 'Monday night is not listed');
  const day = { weekly: { days: ['mon' as const, 'tue' as const], from: '09:00', to: '10:00' }, comment: '' };
  assert.equal(windowOpen(day, at('2026-03-03T09:15:00Z')), true);
  const scoped = [{ ...once, targets: ['/IDC/bj/**'], labels: { isp: 'telecom' } }];
  const now = at('2026-03-01T03:00:00Z');
  assert.equal(inMaintenance(scoped, now, '/IDC/bj/v1', 'a', {}, { isp: 'telecom' }), true);
  assert.equal(inMaintenance(scoped, now, '/IDC/bj/v1', 'a', {}, { isp: 'mobile' }), false);
  assert.equal(inMaintenance(scoped, now, '/IDC/sh/v1', 'a', {}, { isp: 'telecom' }), false);
  assert.equal(inMaintenance([{ ...once, agents: ['a'] }], now, '/x', 'a', {}, {}), true);
  assert.equal(inMaintenance([{ ...once, agents: ['a'] }], now, '/x', 'b', {}, {}), false);
});
