import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ABORTED, attemptInterval, runAttempts, sleep, type AttemptOutcome } from './net-round.ts';

const never = new AbortController().signal;

test('default interval: one attempt per second at most, the round within a quarter of the step', () => {
  assert.equal(attemptInterval({ pings: 20, timeout: 1000, step: 300 }), 1000);
  assert.equal(attemptInterval({ pings: 20, timeout: 1000, step: 60 }), 750);
  assert.equal(attemptInterval({ pings: 10, timeout: 1000, step: 60, interval: 5 }), 5);
  assert.equal(attemptInterval({ pings: 1000, timeout: 1000, step: 1 }), 0);
});

test('folds attempts: rtts of successes, phases averaged over them, last status/error/expiry', async () => {
  const outcomes: AttemptOutcome[] = [
    { ok: true, rtt: 10, phases: { a: 2, b: 4 }, status: 200, cert_expiry: 100 },
    { ok: false, error: 'first failure', status: 500 },
    { ok: true, rtt: 20, phases: { a: 4, b: 8 }, status: 201, cert_expiry: 200 },
    { ok: false, error: 'second failure' },
  ];
  const m = await runAttempts({ pings: 4, timeout: 1000, interval: 0 }, never, async (i) => outcomes[i]!);
  assert.deepEqual(m, { sent: 4, rtts: [10, 20], phases: { a: 3, b: 6 }, status: 201, cert_expiry: 200, error: 'second failure' });
});

test('an attempt that throws is a lost ping with its message', async () => {
  const m = await runAttempts({ pings: 2, timeout: 1000, interval: 0 }, never, async (i) => {
    if (i === 0) throw new Error('boom');
    return { ok: true, rtt: 1 };
  });
  assert.deepEqual(m, { sent: 2, rtts: [1], error: 'boom' });
});

test('attempts are spaced by the interval and never overlap', async () => {
  let running = 0;
  let maxRunning = 0;
  const starts: number[] = [];
  await runAttempts({ pings: 3, timeout: 1000, interval: 20 }, never, async () => {
    starts.push(performance.now());
    running++;
    maxRunning = Math.max(maxRunning, running);
    await new Promise((r) => setImmediate(r));
    running--;
    return { ok: true, rtt: 1 };
  });
  assert.equal(maxRunning, 1);
  // Timers may fire up to 1 ms early by performance.now(); the spacing is the schedule, not a speed claim.
  assert.ok(starts[2]! - starts[0]! >= 39, `spacing ${starts[2]! - starts[0]!}`);
});

test('an abort stops the round: no further attempts, the cut one not counted', async () => {
  const ctl = new AbortController();
  let calls = 0;
  const m = await runAttempts({ pings: 5, timeout: 1000, interval: 0 }, ctl.signal, async (i) => {
    calls++;
    if (i === 1) ctl.abort();
    return { ok: true, rtt: 1 };
  });
  assert.equal(calls, 2);
  assert.deepEqual(m, { sent: 1, rtts: [1], error: ABORTED });
  assert.equal(await sleep(10_000, ctl.signal), false);
});
