import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeRound, type Round } from '../../probes/round.ts';
import type { WriteResult } from '../../store/types.ts';
import { UnavailableError } from '../../errors.ts';
import { GroupCommit } from './group-commit.ts';

const r = (i: number): Round => makeRound({ target: '/t', agent: 'a', probe: 'tcp', time: i, step: 60 }, { sent: 1, rtts: [1] });
const ok = (rounds: Round[]): WriteResult => ({ stored: rounds.length, duplicates: [], refused: [] });

test('pushes of the same moment reach the ingest in one call, in arrival order; each resolves after the commit', async () => {
  const calls: number[][] = [];
  const g = new GroupCommit((rounds) => { calls.push(rounds.map((x) => x.time)); return ok(rounds); }, 5);
  let resolved = 0;
  const a = g.add([r(1), r(2)]).then(() => resolved++);
  const b = g.add([r(3)]).then(() => resolved++);
  assert.equal(resolved, 0);
  await Promise.all([a, b]);
  assert.deepEqual(calls, [[1, 2, 3]]);
  await g.add([r(4)]);
  assert.deepEqual(calls, [[1, 2, 3], [4]]);
});

test("each push gets its own part of the store's answer, re-indexed", async () => {
  const g = new GroupCommit((rounds) => ({
    stored: rounds.length - 3,
    duplicates: [1, 3],
    refused: [{ index: 4, field: 'rtts', message: 'bad' }],
  }), 5);
  const [a, b] = await Promise.all([g.add([r(1), r(2)]), g.add([r(3), r(4), r(5)])]);
  assert.deepEqual(a, { stored: 1, duplicates: [1], refused: [] });
  assert.deepEqual(b, { stored: 1, duplicates: [1], refused: [{ index: 2, field: 'rtts', message: 'bad' }] });
});

test('a full queue is committed at once; a failing commit rejects every push it held', async () => {
  const calls: number[] = [];
  const g = new GroupCommit((rounds) => { calls.push(rounds.length); return ok(rounds); }, 10_000, 3);
  await g.add([r(1), r(2), r(3)]);
  assert.deepEqual(calls, [3]);
  const bad = new GroupCommit(() => { throw new UnavailableError('disk full', 500); }, 5);
  const held = [bad.add([r(1)]), bad.add([r(2)]), bad.add([r(3)])];
  const outcomes = await Promise.allSettled(held);
  assert.deepEqual(outcomes.map((o) => o.status), ['rejected', 'rejected', 'rejected']);
  for (const o of outcomes) assert.match(String((o as PromiseRejectedResult).reason), /disk full/);
  const slow = new GroupCommit(async () => { throw new UnavailableError('locked', 500); }, 1);
  await assert.rejects(slow.add([r(1)]), (e: unknown) => e instanceof UnavailableError);
});
