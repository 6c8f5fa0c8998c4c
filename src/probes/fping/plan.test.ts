import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_SHARD_LIMITS, estimateShardMs, fpingArgs, planShards } from './plan.ts';
import type { IcmpParams } from '../params.ts';

const params: IcmpParams = {
  pings: 20, timeout: 1000, step: 60, offset: 'random',
  packet_size: 56, tos: 0, interval: 1000, mininterval: 0.5,
};

test('estimate: small shards are bound by -p, big ones by -i', () => {
  // 10 targets: 19 sweeps of 1000 ms (-p), then 10 × 0.5 ms, then the timeout
  assert.equal(estimateShardMs(10, params), 19 * 1000 + 5 + 1000);
  // 2500 targets: a sweep is 2500 × 0.5 ms = 1250 ms > -p
  assert.equal(estimateShardMs(2500, params), 20 * 1250 + 1000);
  assert.equal(estimateShardMs(0, params), 0);
});

test('plan: the fewest shards that fit 40 % of the step, sizes differing by at most one', () => {
  assert.deepEqual(planShards(0, params), []);
  assert.deepEqual(planShards(1, params), [1]);
  assert.deepEqual(planShards(1000, params), [1000]);
  const big = planShards(10000, params);
  assert.equal(big.reduce((a, b) => a + b, 0), 10000);
  assert.ok(Math.max(...big) - Math.min(...big) <= 1);
  for (const size of big) assert.ok(estimateShardMs(size, params) <= 24_000, `shard of ${size} fits`);
  // one shard fewer would not fit
  assert.ok(estimateShardMs(Math.ceil(10000 / (big.length - 1)), params) > 24_000);
});

test('plan: capped at maxShards and maxShardSize', () => {
  const slow = { ...params, mininterval: 10 }; // SmokePing's default -i
  assert.equal(planShards(10000, slow).length, DEFAULT_SHARD_LIMITS.maxShards);
  const shards = planShards(9000, { ...params, step: 3600 }, { maxShards: 16, maxShardSize: 2000, stepFraction: 0.5 });
  assert.deepEqual(shards, [1800, 1800, 1800, 1800, 1800]);
});

test('args: SmokePing command line, optional -O/-S, addresses last', () => {
  assert.deepEqual(fpingArgs(params, ['127.0.0.1', '::1']),
    ['-C', '20', '-q', '-i', '0.5', '-p', '1000', '-t', '1000', '-b', '56', '127.0.0.1', '::1']);
  assert.deepEqual(fpingArgs({ ...params, tos: 184, source: '127.0.0.1', mininterval: 1 / 3 }, ['127.0.0.2']),
    ['-C', '20', '-q', '-i', '0.333', '-p', '1000', '-t', '1000', '-b', '56', '-O', '184', '-S', '127.0.0.1', '127.0.0.2']);
});
