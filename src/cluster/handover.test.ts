import { test } from 'node:test';
import assert from 'node:assert/strict';
import { handover } from './handover.ts';
import { seriesOwner, seriesKey } from './hrw.ts';

const keys = Array.from({ length: 300 }, (_, i) => seriesKey(`/t${i}`, `a${i % 60}`));

test('after a server dies, each survivor adopts exactly the dead server\'s series it owns now, and drops nothing it still owns', () => {
  const before = ['s1', 's2', 's3'];
  const after = ['s1', 's3'];
  const heldBy = (s: string) => keys.filter((k) => seriesOwner(k, before) === s);
  const adopted = new Set<string>();
  for (const me of after) {
    const h = handover(heldBy(me), keys, after, me);
    assert.deepEqual(h.drop, [], `${me} keeps its own series`);
    for (const k of h.adopt) {
      assert.equal(seriesOwner(k, before), 's2', 'only the dead server\'s series are adopted');
      assert.ok(!adopted.has(k), 'no series is adopted twice');
      adopted.add(k);
    }
  }
  assert.deepEqual([...adopted].sort(), heldBy('s2').sort(), 'every series of the dead server has one new owner');
});

test('a server joining: the others drop what it owns now, it adopts the shared state of exactly those', () => {
  const before = ['s1', 's2'];
  const after = ['s1', 's2', 's3'];
  const dropped: string[] = [];
  for (const me of before) {
    const held = keys.filter((k) => seriesOwner(k, before) === me);
    const h = handover(held, keys, after, me);
    assert.deepEqual(h.adopt, []);
    dropped.push(...h.drop);
  }
  const joined = handover([], keys, after, 's3');
  assert.deepEqual(joined.drop, []);
  assert.deepEqual(joined.adopt.sort(), dropped.sort());
});

test('a series without shared state is not adopted (it starts from the store when its round comes)', () => {
  const h = handover([], [keys[0]!], ['only'], 'only');
  assert.deepEqual(h.adopt, [keys[0]]);
  assert.deepEqual(handover([], [], ['only'], 'only').adopt, []);
});
