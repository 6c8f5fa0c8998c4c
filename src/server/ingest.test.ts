import { test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { UnavailableError } from '../errors.ts';
import { makeRound, type Round } from '../probes/round.ts';
import type { WriteResult } from '../store/types.ts';
import { Ingest } from './ingest.ts';

const r = (i: number): Round => makeRound({ target: `/t${i}`, agent: 'a', probe: 'tcp', time: 1000 + i, step: 60 }, { sent: 1, rtts: [1] });
const log = pino({ level: 'silent' });

test('the store first; the other sinks get only what it newly committed', async () => {
  const order: string[] = [];
  const seen: number[][] = [];
  const store = { write: (rounds: readonly Round[]): WriteResult => { order.push('store'); return { stored: 1, duplicates: [0], refused: [{ index: 2, field: 'rtts', message: 'bad' }] }; } };
  const ingest = new Ingest(store, [{ name: 'alerts', write: (rs) => { order.push('alerts'); seen.push(rs.map((x) => x.time)); } }], log);
  const res = await ingest.accept([r(0), r(1), r(2)]);
  assert.deepEqual(res.refused.map((x) => x.index), [2]);
  assert.deepEqual(order, ['store', 'alerts']);
  assert.deepEqual(seen, [[1001]]);
  assert.equal(ingest.stats.rounds, 1);
});

test("the store's failure reaches the caller and no other sink sees the rounds", async () => {
  let sinkCalls = 0;
  const store = { write: (): WriteResult => { throw new UnavailableError('disk full', 250); } };
  const ingest = new Ingest(store, [{ name: 'alerts', write: () => { sinkCalls++; } }], log);
  await assert.rejects(ingest.accept([r(0)]), (e: unknown) => e instanceof UnavailableError && e.code === 'SMOKEMESH_E_UNAVAILABLE');
  assert.equal(sinkCalls, 0);
  assert.equal(ingest.stats.rounds, 0);
});

test('a failing other sink is counted and stops nobody', async () => {
  const got: string[] = [];
  const store = { write: (rs: readonly Round[]): WriteResult => ({ stored: rs.length, duplicates: [], refused: [] }) };
  const ingest = new Ingest(store, [
    { name: 'bad', write: () => { throw new Error('boom'); } },
    { name: 'export', write: () => { got.push('export'); } },
  ], log);
  const res = await ingest.accept([r(0)]);
  assert.equal(res.stored, 1);
  assert.deepEqual(got, ['export']);
  assert.equal(ingest.stats.sink_errors.bad, 1);
});
