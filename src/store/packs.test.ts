import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeRound } from '../probes/round.ts';
import { addRound, emptyBucket, encodeQuantiles, seal, toRow, type BucketRow } from './bucket.ts';
import { decodePack, encodePack, packCount, packFirst } from './packs.ts';
import { prng } from '../../test/fixtures/prng.ts';

/** A sealed bucket of `rounds` rounds as retention writes it. */
function sealedRow(rand: () => number, rounds: number, base: number, extra: boolean): BucketRow {
  const b = emptyBucket();
  for (let i = 0; i < rounds; i++) {
    const lost = rand() < 0.1 ? Math.floor(rand() * 21) : 0;
    const rtts = Array.from({ length: 20 - lost }, () => Math.round((base * (1 + rand() * 0.3) + rand() * 50) * 1000) / 1000).sort((x, y) => x - y);
    const r = makeRound({ target: '/t', agent: 'a', probe: 'http', time: i * 60_000, step: 60 }, { sent: 20, rtts });
    addRound(b, extra ? { ...r, phases: { dns: rand() * 3, connect: rand() * 9 }, status: rand() < 0.5 ? 200 : 500, ...(rand() < 0.3 ? { error: 'timeout « 5 s »' } : {}) } : r);
  }
  seal(b);
  return toRow(b);
}

test('a pack reads back every column exactly: sealed histograms, imported quantiles, empty buckets, extras, gaps', () => {
  const rand = prng(3);
  const rows: Array<BucketRow & { b: number }> = [];
  let b = 1_000_000;
  for (let i = 0; i < 400; i++) {
    b += 1 + (rand() < 0.1 ? Math.floor(rand() * 50) : 0);
    const kind = rand();
    let row: BucketRow;
    if (kind < 0.05) row = sealedRow(rand, 3, 0, false); // all lost or zero RTTs
    else if (kind < 0.1) row = { ...sealedRow(rand, 5, 1 + rand() * 500, false), median: null };
    else if (kind < 0.2) {
      // Imported: quantiles are samples, not bin centres, and need not ascend.
      const base = sealedRow(rand, 12, 30, false);
      row = { ...base, q: encodeQuantiles(base.min!, Array.from({ length: 9 }, () => base.min! + Math.floor(rand() * 5000))) };
    } else if (kind < 0.25) row = { rounds: 2, sent: 40, lost: 40, n: 0, min: null, max: null, mean: null, median: null, stddev: null, sketch: null, q: null, extra: rand() < 0.5 ? '{"s":503,"e":"HTTP 503","t":5}' : null };
    else row = sealedRow(rand, 1 + Math.floor(rand() * 12), 0.05 + rand() * rand() * 400, rand() < 0.3);
    rows.push({ ...row, b });
  }
  const blob = encodePack(rows);
  assert.equal(packFirst(blob), rows[0]!.b);
  assert.equal(packCount(blob), rows.length);
  const back = decodePack(7, blob);
  assert.deepEqual(back, rows.map((r) => ({ ...r, series: 7, packed: true })));
  assert.ok(blob.length < rows.length * 40, `${blob.length} bytes for ${rows.length} buckets`);
});

test('packs refuse what they cannot hold: open buckets, unordered rows, damaged blobs', () => {
  const rand = prng(5);
  const open = { ...toRow(emptyBucket()), b: 1 };
  const b = emptyBucket();
  addRound(b, makeRound({ target: '/t', agent: 'a', probe: 'icmp', time: 0, step: 60 }, { sent: 20, rtts: [1, 2] }));
  assert.throws(() => encodePack([{ ...toRow(b), b: 1 }]), /open/);
  const row = sealedRow(rand, 2, 10, false);
  assert.throws(() => encodePack([{ ...row, b: 2 }, { ...row, b: 2 }]), /ascending/);
  assert.throws(() => encodePack([]), /empty/);
  const blob = encodePack([{ ...row, b: 5 }, { ...row, b: 9 }, { ...open, b: 10, sketch: null }]);
  assert.throws(() => decodePack(1, blob.subarray(0, blob.length - 3)));
  assert.throws(() => decodePack(1, Buffer.from([9, 1, 1])), /format/);
});
