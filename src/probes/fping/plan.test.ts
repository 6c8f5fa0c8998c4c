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
  // 5000 targets at -i 0.5: a sweep is 2500 ms > -p
  assert.equal(estimateShardMs(5000, params, 0.5), 20 * 2500 + 1000);
  assert.equal(estimateShardMs(0, params), 0);
});

test('ping sockets: enough processes that each sweeps its targets in half the interval', () => {
  assert.deepEqual(planShards(0, params, 'ping'), { sizes: [], gap: 0.2 });
  // one target: nothing to spread, the gap is half the interval
  assert.deepEqual(planShards(1, params, 'ping'), { sizes: [1], gap: 500 });
  // 1,000 targets fit one process; packets spread over half the interval, not bunched at 0.2 ms
  assert.deepEqual(planShards(1000, params, 'ping'), { sizes: [1000], gap: 0.5 });
  // 2,500 × 0.2 ms = 500 ms: the most one process sweeps in half of 1 s
  assert.deepEqual(planShards(2500, params, 'ping'), { sizes: [2500], gap: 0.2 });
  assert.deepEqual(planShards(2501, params, 'ping').sizes, [1251, 1250]);
  const big = planShards(10000, params, 'ping');
  assert.deepEqual(big, { sizes: [2500, 2500, 2500, 2500], gap: 0.2 });
  // every process's round then lasts pings × interval (+ its last sweep and the timeout)
  assert.equal(estimateShardMs(2500, params, big.gap), 19 * 1000 + 500 + 1000);
  // a longer interval leaves each process more time: fewer of them
  assert.deepEqual(planShards(10000, { ...params, interval: 2500 }, 'ping'), { sizes: [5000, 5000], gap: 0.25 });
});

test('raw sockets: the fewest processes whose round fits 40 % of the step', () => {
  assert.deepEqual(planShards(1000, params, 'raw'), { sizes: [1000], gap: 0.5 });
  // one process over 6,000 targets at 0.2 ms: 20 × 1.2 s + 1 s = 25 s > 24 s
  assert.deepEqual(planShards(5000, params, 'raw').sizes, [5000]);
  assert.deepEqual(planShards(6000, params, 'raw').sizes, [3000, 3000]);
  const big = planShards(10000, params, 'raw');
  assert.deepEqual(big, { sizes: [5000, 5000], gap: 0.2 });
  assert.ok(estimateShardMs(5000, params, big.gap) <= 24_000);
  assert.ok(estimateShardMs(10000, params, big.gap) > 24_000, 'one process fewer would not fit');
});

test('plan: capped at maxShards and maxShardSize; sizes differ by at most one', () => {
  const slow = { ...params, mininterval: 10 }; // SmokePing's default -i
  for (const kind of ['ping', 'raw'] as const) {
    const plan = planShards(10000, slow, kind);
    assert.equal(plan.sizes.length, DEFAULT_SHARD_LIMITS.maxShards);
    assert.equal(total(plan.sizes), 10000);
    assert.ok(Math.max(...plan.sizes) - Math.min(...plan.sizes) <= 1);
    assert.equal(plan.gap, 10, 'never below mininterval');
  }
  const limits = { ...DEFAULT_SHARD_LIMITS, maxShardSize: 2000, stepFraction: 0.5 };
  assert.deepEqual(planShards(9000, { ...params, step: 3600 }, 'raw', limits).sizes, [1800, 1800, 1800, 1800, 1800]);
  assert.deepEqual(planShards(9000, params, 'ping', limits).sizes, [1800, 1800, 1800, 1800, 1800]);
});

test('args: SmokePing command line, optional -O/-S, addresses last', () => {
  assert.deepEqual(fpingArgs(params, ['127.0.0.1', '::1']),
    ['-C', '20', '-q', '-i', '0.2', '-p', '1000', '-t', '1000', '-b', '56', '127.0.0.1', '::1']);
  assert.deepEqual(fpingArgs({ ...params, tos: 184, source: '127.0.0.1' }, ['127.0.0.2'], 'raw', 1 / 3),
    ['-C', '20', '-q', '-i', '0.333', '-p', '1000', '-t', '1000', '-b', '56', '-O', '184', '-S', '127.0.0.1', '127.0.0.2']);
});

test('args on ping sockets: both sockets bound, so that fping 5.1 learns its echo identifiers', () => {
  assert.deepEqual(fpingArgs(params, ['127.0.0.1'], 'ping', 0.5),
    ['-C', '20', '-q', '-i', '0.5', '-p', '1000', '-t', '1000', '-b', '56', '-S', '0.0.0.0', '-S', '::', '127.0.0.1']);
  assert.deepEqual(fpingArgs({ ...params, source: '127.0.0.1' }, ['127.0.0.2'], 'ping').slice(-5),
    ['-S', '127.0.0.1', '-S', '::', '127.0.0.2']);
  assert.deepEqual(fpingArgs({ ...params, source: '::1' }, ['::1'], 'ping').slice(-5),
    ['-S', '::1', '-S', '0.0.0.0', '::1']);
});
