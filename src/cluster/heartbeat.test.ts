import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import { parseConfig } from '../config/loader.ts';
import { defaultStallS, parseCluster } from './config.ts';
import { BeatClock, endsGap, mayBeat, outOfTouch } from './heartbeat.ts';

test('mayBeat: the heartbeat thread beats while the main thread ran within the stall bound, up to the bound itself, and not after', () => {
  const now = 1_000_000;
  assert.equal(mayBeat(now, now, 30_000), true, 'the main thread ran just now');
  assert.equal(mayBeat(now, now - 12_000, 30_000), true, 'busy for 12 s (a long read of histories): still beating');
  assert.equal(mayBeat(now, now - 30_000, 30_000), true, 'exactly at the bound');
  assert.equal(mayBeat(now, now - 30_001, 30_000), false, 'past the bound: held');
  assert.equal(mayBeat(now, 0, 30_000), false, 'no progress ever stamped');
  // A stamp from a clock step ahead of the worker's now (same machine: only by rounding) does not hold beats.
  assert.equal(mayBeat(now, now + 5, 30_000), true);
});

test('endsGap: a beat answered more than dead_after after the previous one started ends a gap; the first beat does not', () => {
  assert.equal(endsGap(0, 5_000_000, 6000), false, 'first beat');
  assert.equal(endsGap(1_000_000, 1_002_000, 6000), false, 'a beat every 2 s');
  assert.equal(endsGap(1_000_000, 1_006_000, 6000), false, 'exactly dead_after: the others still count us live');
  assert.equal(endsGap(1_000_000, 1_006_001, 6000), true, 'past dead_after: the others may have counted us dead');
});

test('outOfTouch: a beat older than dead_after, or a gap after the beat the server joined on; not a gap before it', () => {
  const dead = 6000;
  const now = 2_000_000;
  assert.equal(outOfTouch(now, { lastBeat: now - 2000, gapEnd: 0 }, now - 10_000, dead), false, 'beating');
  assert.equal(outOfTouch(now, { lastBeat: now - 6001, gapEnd: 0 }, now - 10_000, dead), true, 'no beat for dead_after');
  assert.equal(outOfTouch(now, { lastBeat: now - 6000, gapEnd: 0 }, now - 10_000, dead), false, 'exactly dead_after');
  assert.equal(outOfTouch(now, { lastBeat: 0, gapEnd: 0 }, 0, dead), true, 'no beat yet');
  assert.equal(outOfTouch(now, { lastBeat: now - 500, gapEnd: now - 500 }, now - 10_000, dead), true, 'beats resumed after a gap: fresh, yet out of touch');
  assert.equal(outOfTouch(now, { lastBeat: now - 500, gapEnd: now - 3000 }, now - 3000, dead), false, 'the gap ended on the beat the server joined on');
  assert.equal(outOfTouch(now, { lastBeat: now - 500, gapEnd: now - 9000 }, now - 3000, dead), false, 'an older gap');
});

test('BeatClock: the times are shared through the buffer with another thread, as whole ms', async () => {
  const clock = new BeatClock();
  assert.deepEqual([clock.lastBeat, clock.progress, clock.gapEnd], [0, 0, 0]);
  clock.progress = 1_764_700_000_123.9;
  assert.equal(clock.progress, 1_764_700_000_123, 'rounded down: a deadline from it comes no later');
  // Another thread writes the other slots through the same buffer.
  const w = new Worker(`
    const { workerData, parentPort } = require('node:worker_threads');
    const a = new BigInt64Array(workerData);
    Atomics.store(a, 2, 1764700000050n);
    Atomics.store(a, 0, 1764700000100n);
    parentPort.postMessage(Number(Atomics.load(a, 1)));
  `, { eval: true, workerData: clock.buffer });
  const seen = await new Promise<number>((res, rej) => { w.once('message', res); w.once('error', rej); });
  await w.terminate();
  assert.equal(seen, 1_764_700_000_123, 'the worker read the main thread\'s progress');
  assert.deepEqual([clock.lastBeat, clock.gapEnd], [1_764_700_000_100, 1_764_700_000_050]);
});

test('cluster.stall_s: defaults to the larger of 30 and 2 × dead_after_s; a bound not above dead_after_s is refused at its place', () => {
  const yaml = (extra: string) => `store:\n  backend: victoriametrics\n  url: http://127.0.0.1:8428\ncluster:\n  coordination: postgres://db.example/x\n  server_id: s1\n${extra}targets:\n  children:\n    a: { host: 127.0.0.1 }\n`;
  const read = (extra: string) => parseCluster(parseConfig(yaml(extra), 'c.yaml'));
  assert.equal(read('').cluster?.stall_s, 30, 'heartbeat 2 s, dead_after 6 s');
  assert.equal(read('  dead_after_s: 40\n').cluster?.stall_s, 80);
  assert.equal(defaultStallS(40), 80);
  assert.equal(read('  stall_s: 12\n').cluster?.stall_s, 12, 'given');
  const bad = read('  dead_after_s: 10\n  stall_s: 10\n');
  assert.equal(bad.cluster, undefined);
  assert.deepEqual(bad.issues.map((i) => [i.line, i.path]), [[8, 'cluster.stall_s']]);
  assert.match(bad.issues[0]!.message, /longer than dead_after_s \(10\)/);
  assert.deepEqual(read('  stall_s: 0.5\n').issues.map((i) => i.path), ['cluster.stall_s'], 'under the schema\'s minimum');
});
