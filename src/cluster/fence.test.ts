import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decideFence, lastPerKey, stateKey, type FenceWrite, type SharedAlertState } from './fence.ts';

const write = (expected: number, prevmatch = 1): FenceWrite => ({ target: '/t', agent: 'a1', alert: 'lossy', prevmatch, since: 1000, expected });
const row = (version: number, owner: string, prevmatch = 1): SharedAlertState => ({ target: '/t', agent: 'a1', alert: 'lossy', prevmatch, since: 1000, version, owner });

test('a write on the version it was computed from stands: the row gets the next version and the writer as owner', () => {
  assert.deepEqual(decideFence(undefined, write(0), 's1', true), { ok: true, next: row(1, 's1') });
  assert.deepEqual(decideFence(row(4, 's2', 0), write(4, 2), 's1', true), { ok: true, next: row(5, 's1', 2) });
});

test('a write computed from an older version is stale, whoever made the newer one; so is one that expects a row that is gone', () => {
  assert.deepEqual(decideFence(row(1, 's2'), write(0), 's1', true), { ok: false, why: 'stale', current: row(1, 's2') });
  assert.deepEqual(decideFence(row(3, 's1'), write(2), 's1', true), { ok: false, why: 'stale', current: row(3, 's1') }, 'its own older view too');
  assert.deepEqual(decideFence(undefined, write(2), 's1', true), { ok: false, why: 'stale', current: undefined });
});

test('a writer that is not live (its heartbeat older than dead_after) is refused even on the current version', () => {
  assert.deepEqual(decideFence(row(1, 's1'), write(1), 's1', false), { ok: false, why: 'not-live', current: row(1, 's1') });
});

test('two servers racing from one version: exactly one raise stands, and the loser\'s clear from its stale view does not either', () => {
  let shared: SharedAlertState | undefined;
  const outcomes = ['s1', 's2'].map((s) => {
    const v = decideFence(shared, write(0), s, true);
    if (v.ok) shared = v.next;
    return v.ok;
  });
  assert.deepEqual(outcomes, [true, false]);
  assert.equal(decideFence(shared, write(0, 0), 's2', true).ok, false);
  assert.equal(decideFence(shared, write(1, 0), 's1', true).ok, true, 'the winner clears on its version');
});

test('a batch writes the last change of each series × alert once', () => {
  const c = (alert: string, prevmatch: number) => ({ target: '/t', agent: 'a1', alert, prevmatch, since: 0 });
  assert.deepEqual(lastPerKey([c('x', 1), c('y', 1), c('x', 2)]).map((w) => [w.alert, w.prevmatch]), [['y', 1], ['x', 2]]);
  assert.equal(stateKey('/t', 'a1', 'x'), '/t\u0000a1\u0000x');
});
