import { test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { SendQueue, type SendOutcome } from './send-queue.ts';

const silent = pino({ level: 'silent' });

test('a retry after the backoff is sent even when its timer fires before Date.now() reaches the end of the wait', async (t) => {
  // Node's timers run on a monotonic clock and may fire a millisecond before Date.now() says
  // the wait is over; a frozen Date.now() makes that moment last.
  const frozen = Date.now();
  t.mock.method(Date, 'now', () => frozen);
  const calls: number[][] = [];
  let second!: () => void;
  const retried = new Promise<void>((r) => (second = r));
  const q = new SendQueue<number>({ name: 'test', batch: 10, flushSeconds: 3600, maxPending: 100, backoffMs: 20 }, async (b): Promise<SendOutcome> => {
    calls.push([...b]);
    if (calls.length === 1) return { retry: 'HTTP 503' };
    second();
    return { sent: true };
  }, silent);
  t.after(() => q.close());
  q.push([1, 2, 3]);
  await q.flush();
  assert.equal(q.stats.failed_requests, 1);
  // Real timers still run: the retry comes 20 ms later, not at the next flush tick (an hour).
  // The queue's own timers are unref'd: this one keeps the process alive while it waits.
  let timer: NodeJS.Timeout | undefined;
  const guard = new Promise<'stuck'>((r) => (timer = setTimeout(() => r('stuck'), 10_000)));
  const outcome = await Promise.race([retried.then(() => 'sent' as const), guard]);
  clearTimeout(timer);
  assert.equal(outcome, 'sent', 'the retry was never sent');
  assert.deepEqual(calls, [[1, 2, 3], [1, 2, 3]], 'the same batch, whole');
  await q.settled();
  assert.equal(q.stats.sent, 3);
  assert.equal(q.stats.pending, 0);
});
