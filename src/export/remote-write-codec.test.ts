import assert from 'node:assert/strict';
import { test } from 'node:test';
import { uncompressSync } from 'snappy';
import { makeRound } from '../probes/round.ts';
import { roundsToSeries } from './remote-write.ts';
import { encodeWriteRequest, snappyBlock } from './remote-write-codec.ts';

test('a batch of rounds is snappy-compressed several times smaller and decodes back to the same protobuf', () => {
  const rounds = [];
  for (let t = 0; t < 50; t++) {
    for (let i = 0; i < 10; i++) {
      rounds.push(makeRound({ target: `/Region/site-${i}`, agent: 'builtin', probe: 'icmp', time: 1_700_000_000_000 + t * 60_000, step: 60 },
        { sent: 20, rtts: Array.from({ length: 20 }, (_, k) => 10 + i + k / 100) }));
    }
  }
  const proto = encodeWriteRequest(roundsToSeries(rounds, { job: 'smokemesh' }));
  const body = snappyBlock(proto);
  assert.ok(body.length * 3 < proto.length, `${body.length} bytes compressed from ${proto.length}`);
  assert.deepEqual(new Uint8Array(uncompressSync(body) as Buffer), proto);
});

test('an empty request is a valid snappy block of an empty protobuf', () => {
  const body = snappyBlock(encodeWriteRequest([]));
  assert.equal((uncompressSync(body) as Buffer).length, 0);
});
