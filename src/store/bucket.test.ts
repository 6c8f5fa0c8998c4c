import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeRound } from '../probes/round.ts';
import { ALPHA, addRound, emptyBucket, fromRow, mergeBucket, quantilesUs, seal, summaryOf, toPoint, toRow } from './bucket.ts';
import { packAscending, unpackAscending } from './codec.ts';
import { SMOKE_QUANTILES } from './types.ts';
import { prng } from '../../test/fixtures/prng.ts';

function rounds(seed: number, count: number, base: number) {
  const rand = prng(seed);
  return Array.from({ length: count }, (_, i) => {
    const received = Math.floor(rand() * 21);
    const rtts = Array.from({ length: received }, () => base * Math.exp(rand() * rand() * 2) + rand());
    return makeRound({ target: '/t', agent: 'a', probe: 'icmp', time: i * 60_000, step: 60 }, { sent: 20, rtts });
  });
}

test('varint delta packing round-trips sorted RTTs at µs precision', () => {
  const v = [0, 0.001, 0.5, 12.345, 12.345, 999.999, 60000];
  assert.deepEqual(unpackAscending(packAscending(v)), v);
  assert.deepEqual(unpackAscending(null), []);
});

test('quantiles are within ALPHA of the exact sample at that rank', () => {
  for (const seed of [1, 2, 3]) {
    const rs = rounds(seed, 300, 5 + seed * 20);
    const b = emptyBucket();
    for (const r of rs) addRound(b, r);
    const all = rs.flatMap((r) => r.rtts).sort((x, y) => x - y).map((v) => Math.round(v * 1000));
    const q = quantilesUs(b);
    assert.equal(q.length, SMOKE_QUANTILES.length);
    SMOKE_QUANTILES.forEach((level, i) => {
      const exact = all[Math.floor(level * (all.length - 1))]!;
      const err = Math.abs(q[i]! - exact) / exact;
      assert.ok(err <= ALPHA + 1e-9, `seed ${seed} q${level}: ${q[i]} vs exact ${exact} (${err})`);
    });
    assert.equal(b.n, all.length);
    assert.equal(b.lost, rs.reduce((a, r) => a + r.loss, 0));
    const mean = all.reduce((a, v) => a + v, 0) / all.length;
    assert.ok(Math.abs(b.sum / b.n - mean) < 1e-6, 'exact mean');
  }
});

test('a bucket does not depend on arrival order, and merging equals adding', () => {
  const rs = rounds(7, 120, 30);
  const inOrder = emptyBucket();
  for (const r of rs) addRound(inOrder, r);
  const shuffled = emptyBucket();
  const rand = prng(9);
  for (const r of [...rs].sort(() => rand() - 0.5)) addRound(shuffled, r);
  const halves = [emptyBucket(), emptyBucket()];
  rs.forEach((r, i) => addRound(halves[i % 2]!, r));
  mergeBucket(halves[0]!, halves[1]!);
  for (const other of [shuffled, halves[0]!]) {
    assert.deepEqual(quantilesUs(other), quantilesUs(inOrder));
    assert.deepEqual({ ...toRow(other), sketch: null }, { ...toRow(inOrder), sketch: null });
  }
});

test('stored rows decode to the same bucket, open or sealed', () => {
  const b = emptyBucket();
  for (const r of rounds(11, 50, 12)) addRound(b, r);
  addRound(b, makeRound({ target: '/t', agent: 'a', probe: 'http', time: 1, step: 60 }, { sent: 1, rtts: [50], phases: { connect: 3, tls: 8 }, status: 200 }));
  const open = fromRow(toRow(b));
  assert.deepEqual(quantilesUs(open), quantilesUs(b));
  assert.deepEqual(toPoint(0, open), toPoint(0, b));
  const q = quantilesUs(b);
  seal(open);
  assert.equal(open.bins, null);
  const sealed = fromRow(toRow(open));
  assert.deepEqual(quantilesUs(sealed), q);
  const p = toPoint(0, sealed);
  assert.deepEqual(p.phases, { connect: 3, tls: 8 });
  assert.equal(p.status, 200);
  assert.equal(p.rounds, 51);
});

test('a late round does not overwrite the status of a newer one', () => {
  const b = emptyBucket();
  addRound(b, makeRound({ target: '/t', agent: 'a', probe: 'http', time: 2000, step: 60 }, { sent: 1, rtts: [], error: 'timeout', status: 0 }));
  addRound(b, makeRound({ target: '/t', agent: 'a', probe: 'http', time: 1000, step: 60 }, { sent: 1, rtts: [5], status: 200 }));
  const p = toPoint(0, b);
  assert.equal(p.error, 'timeout');
  assert.equal(p.status, 0);
  assert.equal(p.loss_pct, 50);
});

test('an open row keeps the quantiles sealing would keep; summaryOf reads them, or the histogram when a row has none', () => {
  for (let seed = 1; seed <= 50; seed++) {
    const b = emptyBucket();
    for (const r of rounds(seed, 1 + (seed % 7), 5 + seed)) addRound(b, r);
    const open = toRow(b);
    const sealed = fromRow(open);
    seal(sealed);
    assert.deepEqual(open.q, toRow(sealed).q, `seed ${seed}`);
    const levels = [0, 1, 3, 5, 7, 10];
    const all = quantilesUs(b);
    const want = { rounds: b.rounds, sent: b.sent, lost: b.lost, median: open.median, q: b.n ? levels.map((i) => all[i]!) : [] };
    assert.deepEqual(summaryOf(open, levels), want, `seed ${seed}`);
    assert.deepEqual(summaryOf({ ...open, q: null }, levels), want, `seed ${seed} (histogram only)`);
    assert.deepEqual(summaryOf(toRow(sealed), levels), want, `seed ${seed} (sealed)`);
  }
});
