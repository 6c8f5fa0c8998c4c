import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_SHARD_LIMITS, estimateShardMs, fpingArgs, planShards } from './plan.ts';
import type { IcmpParams } from '../params.ts';

const params: IcmpParams = {
  pings: 20, timeout: 1000, step: 60, offset: 'random',
  packet_size: 56, tos: 0, interval: 1000, mininterval: 0.2,
};

const total = (sizes: number[]): number => sizes.reduce((a, b) => a + b, 0);

test('estimate: small shards are bound by -p, big ones by -i', () => {
  // 10 targets: 19 sweeps of 1000 ms (-p), then 10 × 0.2 ms, then the timeout
  assert.equal(estimateShardMs(10, params), 19 * 1000 + 2 + 1000);
  // 10,000 targets: a sweep is 10,000 × 0.2 ms = 2 s > -p
  assert.equal(estimateShardMs(10000, params), 20 * 2000 + 1000);
  assert.equal(estimateShardMs(0, params), 0);
});

test('ping sockets: enough processes that each sweeps its targets in a quarter of the interval', () => {
  assert.deepEqual(planShards(0, params, 'ping'), []);
  assert.deepEqual(planShards(1, params, 'ping'), [1]);
  // 1,250 × 0.2 ms = 250 ms: the most one process sweeps in a quarter of 1 s
  assert.deepEqual(planShards(1000, params, 'ping'), [1000]);
  assert.deepEqual(planShards(1250, params, 'ping'), [1250]);
  assert.deepEqual(planShards(1251, params, 'ping'), [626, 625]);
  assert.deepEqual(planShards(10000, params, 'ping'), Array(8).fill(1250));
  // every process's round then lasts pings × interval (+ its last sweep and the timeout)
  assert.equal(estimateShardMs(1250, params), 19 * 1000 + 250 + 1000);
  // a longer interval leaves each process more time: fewer of them
  assert.deepEqual(planShards(10000, { ...params, interval: 2500 }, 'ping'), Array(4).fill(2500));
});

test('raw sockets: the fewest processes whose round fits 40 % of the step', () => {
  assert.deepEqual(planShards(1000, params, 'raw'), [1000]);
  // one process over 5,000 targets: 20 × 1 s + 1 s = 21 s ≤ 24 s; over 6,000: 25 s
  assert.deepEqual(planShards(5000, params, 'raw'), [5000]);
  assert.deepEqual(planShards(6000, params, 'raw'), [3000, 3000]);
  assert.deepEqual(planShards(10000, params, 'raw'), [5000, 5000]);
  assert.ok(estimateShardMs(5000, params) <= 24_000);
  assert.ok(estimateShardMs(10000, params) > 24_000, 'one process fewer would not fit');
});

test('plan: capped at maxShards and maxShardSize; sizes differ by at most one', () => {
  const slow = { ...params, mininterval: 10 }; // SmokePing's default -i
  for (const kind of ['ping', 'raw'] as const) {
    const sizes = planShards(10000, slow, kind);
    assert.equal(sizes.length, DEFAULT_SHARD_LIMITS.maxShards);
    assert.equal(total(sizes), 10000);
    assert.ok(Math.max(...sizes) - Math.min(...sizes) <= 1);
  }
  const limits = { ...DEFAULT_SHARD_LIMITS, maxShardSize: 1000, stepFraction: 0.5 };
  assert.deepEqual(planShards(4500, { ...params, step: 3600 }, 'raw', limits), [900, 900, 900, 900, 900]);
  assert.deepEqual(planShards(4500, params, 'ping', limits), [900, 900, 900, 900, 900]);
});

test('args: SmokePing command line, optional -O/-S, addresses last', () => {
  assert.deepEqual(fpingArgs(params, ['127.0.0.1', '::1']),
    ['-C', '20', '-q', '-i', '0.2', '-p', '1000', '-t', '1000', '-b', '56', '127.0.0.1', '::1']);
  assert.deepEqual(fpingArgs({ ...params, tos: 184, source: '127.0.0.1', mininterval: 1 / 3 }, ['127.0.0.2'], 'raw'),
    ['-C', '20', '-q', '-i', '0.333', '-p', '1000', '-t', '1000', '-b', '56', '-O', '184', '-S', '127.0.0.1', '127.0.0.2']);
});

test('args on ping sockets: both sockets bound, so that fping 5.1 learns its echo identifiers', () => {
  assert.deepEqual(fpingArgs(params, ['127.0.0.1'], 'ping'),
    ['-C', '20', '-q', '-i', '0.2', '-p', '1000', '-t', '1000', '-b', '56', '-S', '0.0.0.0', '-S', '::', '127.0.0.1']);
  assert.deepEqual(fpingArgs({ ...params, source: '127.0.0.1' }, ['127.0.0.2'], 'ping').slice(-5),
    ['-S', '127.0.0.1', '-S', '::', '127.0.0.2']);
  assert.deepEqual(fpingArgs({ ...params, source: '::1' }, ['::1'], 'ping').slice(-5),
    ['-S', '::1', '-S', '0.0.0.0', '::1']);
});
