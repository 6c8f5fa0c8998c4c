import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeRound, type Round } from '../../probes/round.ts';
import { GroupCommit } from './group-commit.ts';

const r = (i: number): Round => makeRound({ target: '/t', agent: 'a', probe: 'tcp', time: i, step: 60 }, { sent: 1, rtts: [1] });

test('pushes of the same moment reach the ingest in one call, in arrival order; each resolves after', async () => {
  const calls: number[][] = [];
  const g = new GroupCommit((rounds) => calls.push(rounds.map((x) => x.time)), 5);
  let resolved = 0;
  const a = g.add([r(1), r(2)]).then(() => resolved++);
  const b = g.add([r(3)]).then(() => resolved++);
  assert.equal(resolved, 0);
  await Promise.all([a, b]);
  assert.deepEqual(calls, [[1, 2, 3]]);
  await g.add([r(4)]);
  assert.deepEqual(calls, [[1, 2, 3], [4]]);
});

test('a full queue is flushed at once; a failing ingest rejects the pushes it held', async () => {
  const calls: number[] = [];
  const g = new GroupCommit((rounds) => calls.push(rounds.length), 10_000, 3);
  await g.add([r(1), r(2), r(3)]);
  assert.deepEqual(calls, [3]);
  const bad = new GroupCommit(() => { throw new Error('disk full'); }, 1);
  await assert.rejects(bad.add([r(1)]), /disk full/);
});
