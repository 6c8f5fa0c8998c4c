import assert from 'node:assert/strict';
import { test } from 'node:test';
import pino from 'pino';
import Type from 'typebox';
import type { Probe } from '../probes/probe.ts';
import type { Round } from '../probes/round.ts';
import { Scheduler } from './scheduler.ts';

const log = pino({ level: 'silent' });

/** A probe whose rounds finish when the test says so: scheduling is what is under test here. */
function gatedProbe() {
  const waiting: (() => void)[] = [];
  let calls = 0;
  const probe: Probe = {
    type: 'tcp', batch: 1, paramsSchema: Type.Object({}),
    async measure(targets, signal) {
      calls++;
      await new Promise<void>((resolve) => {
        waiting.push(resolve);
        signal.addEventListener('abort', () => resolve(), { once: true });
      });
      return targets.map(() => ({ sent: 2, rtts: [1, 2] }));
    },
  };
  return { probe, release: () => waiting.splice(0).forEach((r) => r()), calls: () => calls, pending: () => waiting.length };
}

const assignment = (step: number) => ({ target: '/t', host: '127.0.0.1', probe: 'tcp' as const, params: { pings: 2, timeout: 100, step, offset: '0%', port: 1 } });

test('an overrunning round is counted and skipped, never run twice at once', async () => {
  let now = 0;
  const g = gatedProbe();
  const rounds: Round[] = [];
  const s = new Scheduler({ agent: 'a', log, emit: (r) => rounds.push(...r), probeFor: () => g.probe, now: () => now });
  await s.setPlan([assignment(1)]);
  // Drive time by hand: the first tick starts the round, the next finds it still running.
  now = 1000;
  (s as unknown as { tick(): void }).tick();
  assert.equal(g.calls(), 1);
  now = 2000;
  (s as unknown as { tick(): void }).tick();
  assert.equal(g.calls(), 1, 'no second run while the first is going');
  assert.equal(s.stats.overruns, 1);
  g.release();
  await new Promise((r) => setImmediate(r));
  assert.equal(rounds.length, 1);
  assert.deepEqual(rounds[0]!.rtts, [1, 2]);
  await s.stop();
});

test('stop() aborts rounds in flight and resolves', async () => {
  const g = gatedProbe();
  const s = new Scheduler({ agent: 'a', log, emit: () => {}, probeFor: () => g.probe });
  await s.setPlan([assignment(60)]);
  const once = s.runOnce();
  assert.equal(g.pending(), 1);
  await s.stop();
  await once;
  assert.equal(s.stats.running, 0);
});

test('a probe that cannot run reports its reason on every target; rounds still flow', async () => {
  const probe: Probe = { type: 'icmp', batch: 100, paramsSchema: Type.Object({}), unavailable: async () => 'fping not found', measure: async () => { throw new Error('must not be called'); } };
  const rounds: Round[] = [];
  const s = new Scheduler({ agent: 'a', log, emit: (r) => rounds.push(...r), probeFor: () => probe });
  await s.setPlan([{ target: '/x', host: '127.0.0.1', probe: 'icmp', params: { pings: 3, timeout: 100, step: 60, offset: 'random' } }]);
  await s.runOnce();
  assert.equal(rounds[0]!.error, 'fping not found');
  assert.equal(rounds[0]!.loss, 3);
  await s.stop();
});

test('a probe that could not run is asked again after a minute, and its rounds measure once it can', async () => {
  let now = 0;
  let why: string | undefined = 'fping not found';
  let asked = 0;
  const probe: Probe = {
    type: 'icmp', batch: 100, paramsSchema: Type.Object({}),
    unavailable: async () => { asked++; return why; },
    measure: async (targets) => targets.map(() => ({ sent: 3, rtts: [1, 2, 3] })),
  };
  const rounds: Round[] = [];
  const s = new Scheduler({ agent: 'a', log, emit: (r) => rounds.push(...r), probeFor: () => probe, now: () => now });
  await s.setPlan([{ target: '/x', host: '127.0.0.1', probe: 'icmp', params: { pings: 3, timeout: 100, step: 60, offset: 'random' } }]);
  await s.runOnce();
  assert.equal(rounds.at(-1)!.error, 'fping not found');
  why = undefined;
  now = 59_999;
  await s.runOnce();
  assert.equal(asked, 1, 'not asked again within the minute');
  assert.equal(rounds.at(-1)!.error, 'fping not found');
  now = 60_000;
  await s.runOnce();
  assert.equal(asked, 2);
  assert.equal(rounds.at(-1)!.error, undefined);
  assert.equal(rounds.at(-1)!.loss, 0);
  now = 500_000;
  await s.runOnce();
  assert.equal(asked, 2, 'a probe that runs is not asked again');
  await s.stop();
});
