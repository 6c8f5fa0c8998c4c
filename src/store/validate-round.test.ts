import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GeneralSchema } from '../config/schema.ts';
import { CommonParamsSchema } from '../probes/params.ts';
import { clipText, makeRound, ROUND_LIMITS, type Round } from '../probes/round.ts';
import { checkRound, FUTURE_MS, type RoundWindow } from './validate-round.ts';

const now = Date.UTC(2025, 0, 10);
const window: RoundWindow = { oldest: now - 14 * 86_400_000, newest: now + FUTURE_MS, retention: 'store.raw_days = 14' };
const good = (over: Partial<Round> = {}): Round => ({
  ...makeRound({ target: '/G/h', agent: 'a1', probe: 'http', time: now - 60_000, step: 60 }, { sent: 3, rtts: [3, 1, 2], phases: { connect: 1 }, status: 200 }),
  ...over,
});
const field = (r: unknown) => checkRound(r, window)?.field;

test('a round made by makeRound passes; the limits are the config maxima', () => {
  assert.equal(checkRound(good(), window), undefined);
  assert.equal(checkRound(makeRound({ target: '/x', agent: 'a', probe: 'icmp', time: now, step: ROUND_LIMITS.step }, { sent: ROUND_LIMITS.pings, rtts: Array.from({ length: ROUND_LIMITS.pings }, (_, i) => i) }), window), undefined);
  // One number for both: a config cannot ask for more pings or a longer step than a round may carry.
  const max = (s: unknown) => (s as { maximum?: number }).maximum;
  assert.equal(max(GeneralSchema.properties.pings), ROUND_LIMITS.pings);
  assert.equal(max(GeneralSchema.properties.step), ROUND_LIMITS.step);
  assert.equal(max(CommonParamsSchema.pings), ROUND_LIMITS.pings);
  assert.equal(max(CommonParamsSchema.step), ROUND_LIMITS.step);
});

test('the attacks of issue 10 are refused, each naming its field', () => {
  const million = Array.from({ length: 1_000_000 }, (_, i) => i / 1000);
  assert.equal(field(good({ sent: 1_000_000, rtts: million, loss: 0, min: 0, max: million.at(-1)!, median: million[500_000]! })), 'sent');
  assert.equal(field(good({ rtts: million, loss: 0 })), 'rtts');
  const e = checkRound(good({ error: 'x'.repeat(1_000_000) }), window)!;
  assert.deepEqual([e.field, e.message], ['error', 'must NOT have more than 512 characters']);
  const phases = Object.fromEntries(Array.from({ length: 10_000 }, (_, i) => [`p${i}`, 1]));
  assert.equal(field(good({ phases })), 'phases');
  assert.deepEqual(checkRound(good({ phases: { ['x'.repeat(33)]: 1 } }), window), { field: 'phases.' + 'x'.repeat(33), message: 'key must NOT have more than 32 characters' });
  assert.equal(field(good({ sent: 1e15 })), 'sent');
  assert.equal(field(good({ step: 1e15 })), 'step');
  assert.equal(field(good({ step: 0 })), 'step');
  assert.equal(field(good({ status: 1e9 })), 'status');
  assert.equal(field(good({ cert_expiry: 1e300 })), 'cert_expiry');
  assert.equal(field(good({ target: '/' + 'a'.repeat(5000) })), 'target');
  assert.equal(field(good({ target: 'relative' })), 'target');
  assert.equal(field(good({ agent: 'a'.repeat(129) })), 'agent');
});

test('non-finite, unsorted or inconsistent RTTs and statistics are refused', () => {
  for (const v of [NaN, Infinity, -Infinity, -1, 3_600_001]) {
    assert.equal(field(good({ rtts: [1, 2, v] })), 'rtts.2', `RTT ${v}`);
  }
  assert.deepEqual(checkRound(good({ rtts: [1, 3, 2] }), window), { field: 'rtts.2', message: 'RTTs must be sorted ascending' });
  assert.equal(field(good({ sent: 2 })), 'rtts');
  assert.equal(field(good({ loss: 1 })), 'loss');
  assert.equal(field(good({ min: 0.5 })), 'min');
  assert.equal(field(good({ max: 9 })), 'max');
  assert.equal(field(good({ median: 1 })), 'median');
  assert.equal(field(good({ mean: 50 })), 'mean');
  assert.equal(field(good({ stddev: 5 })), 'stddev');
  assert.equal(field(good({ mean: NaN })), 'mean');
  assert.equal(field({ ...good(), rtts: [], loss: 3, min: null, max: null, median: null, mean: 1, stddev: null }), 'mean');
  assert.equal(field({ ...good(), rtts: [], loss: 3, min: null, max: null, median: null, mean: null, stddev: null }), undefined);
  assert.equal(field(good({ phases: { connect: NaN } })), 'phases.connect');
});

test('the time window: raw retention behind, ten minutes ahead', () => {
  const old = checkRound(good({ time: window.oldest - 1 }), window)!;
  assert.equal(old.field, 'time');
  assert.match(old.message, /older than the store keeps raw rounds \(store\.raw_days = 14\)/);
  assert.equal(checkRound(good({ time: window.oldest }), window), undefined);
  assert.equal(checkRound(good({ time: now + FUTURE_MS }), window), undefined);
  assert.match(checkRound(good({ time: now + FUTURE_MS + 1 }), window)!.message, /in the future \(check the agent's clock\)/);
  assert.equal(field(good({ time: 1.5 })), 'time');
});

test('shapes that are not rounds: a clear field, never a crash', () => {
  for (const v of [null, 1, 'x', [], true]) assert.ok(checkRound(v, window), JSON.stringify(v));
  const { rtts: _r, ...noRtts } = good();
  assert.deepEqual(checkRound(noRtts, window), { field: 'rtts', message: 'is missing' });
  assert.equal(field(good({ probe: 'smtp' as never })), 'probe');
  let deep: unknown = 1;
  for (let i = 0; i < 10_000; i++) deep = [deep];
  assert.equal(field(good({ target: deep as never })), 'target');
  assert.equal(field(good({ phases: deep as never })), 'phases');
});

test('makeRound cuts a long error to the bound instead of producing a round the store refuses', () => {
  const r = makeRound({ target: '/G/h', agent: 'a', probe: 'http', time: now, step: 60 }, { sent: 1, rtts: [], error: 'e'.repeat(5000) });
  assert.equal(r.error!.length, ROUND_LIMITS.text);
  assert.ok(r.error!.endsWith('…'));
  assert.equal(checkRound(r, window), undefined);
  assert.equal(clipText('short'), 'short');
});
