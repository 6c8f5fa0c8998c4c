import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeState, encodeState } from './persist.ts';
import { memoOf } from './memory.ts';
import { cdnWorld, roundsAt, scopeOf, seriesOf } from './testkit.ts';
import { step } from './step.ts';

test('the engine memory survives encoding: every series reads back the same', () => {
  const world = cdnWorld({ provinces: 2, idcs: 2, vipsPerIdc: 3 });
  const scope = scopeOf();
  let state;
  for (let i = 0; i < 3; i++) state = step(scope, seriesOf(world, roundsAt(world, i * 60000, [])), state, (i + 1) * 60000).state;
  const back = decodeState(encodeState(state!), state!.time);
  assert.equal(back.series.size, state!.series.size);
  for (const p of world.pairs) assert.deepEqual(memoOf(back.series, p.key), memoOf(state!.series, p.key));
  assert.throws(() => decodeState(Buffer.from('garbage'), 0), /not a localization state/);
  assert.throws(() => decodeState(encodeState(state!).subarray(0, 40), 0), /truncated/);
});
