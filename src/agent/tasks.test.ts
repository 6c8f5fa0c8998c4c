import { test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import type { TaskAssignment, TaskReport } from '../tasks/task.ts';
import { waitFor } from '../../test/wait.ts';
import { TaskRunner, type TaskSource } from './tasks.ts';

/** A source that hands out a fixed list once, then long-polls (waits for the abort). */
function source(jobs: TaskAssignment[]): TaskSource & { reports: TaskReport[]; inFlight: () => number } {
  const reports: TaskReport[] = [];
  let given = false;
  let started = 0;
  return {
    reports,
    inFlight: () => started - reports.length,
    async next(signal) {
      if (!given) {
        given = true;
        started = jobs.length;
        return jobs;
      }
      await new Promise<void>((r) => signal.addEventListener('abort', () => r(), { once: true }));
      return [];
    },
    async report(r) {
      reports.push(r);
    },
  };
}

const job = (id: string, kind: string, params: Record<string, unknown>, timeout_ms = 30_000): TaskAssignment =>
  ({ id, kind: kind as TaskAssignment['kind'], params, timeout_ms, max_output_bytes: 1 << 20 });

test('runs real tasks on loopback and reports each: mtr, traceroute, ping, tcp refused port', { timeout: 60_000 }, async () => {
  const src = source([
    job('m', 'mtr', { host: '127.0.0.1', count: 2, interval: 0.2, grace: 0.5 }),
    job('t', 'traceroute', { host: '::1', queries: 1, wait: 0.5, max_ttl: 2 }),
    job('p', 'ping', { host: '127.0.0.1', count: 3, interval_ms: 20 }),
    job('c', 'tcp', { host: '127.0.0.1', port: 1, count: 1 }),
  ]);
  const runner = new TaskRunner({ source: src, log: pino({ level: 'silent' }), concurrency: 4 });
  runner.start();
  await waitFor('four results', () => src.reports.length === 4, 50_000);
  await runner.stop();
  const by = Object.fromEntries(src.reports.map((r) => [r.id, r]));
  assert.equal(by.m!.ok, true);
  assert.deepEqual((by.m!.output as { hops: { host: string }[] }).hops.map((h) => h.host), ['127.0.0.1']);
  assert.deepEqual((by.t!.output as { hops: { addresses: string[] }[] }).hops[0]!.addresses, ['::1']);
  assert.equal((by.p!.output as { received: number }).received, 3);
  assert.equal(by.c!.ok, true, 'a refused connection is a result, not a failure to run');
  assert.match((by.c!.output as { error: string }).error, /connection refused/);
  assert.ok(src.reports.every((r) => r.finished >= r.started));
});

test('unknown kinds, bad parameters and timeouts are reported as failures with their reason', { timeout: 30_000 }, async () => {
  const src = source([
    job('k', 'bash' as string, { host: 'x' }),
    job('b', 'mtr', { host: '127.0.0.1', count: 0 }),
    job('s', 'mtr', { host: '127.0.0.1', count: 100, interval: 1 }, 300),
  ]);
  const runner = new TaskRunner({ source: src, log: pino({ level: 'silent' }) });
  runner.start();
  await waitFor('three results', () => src.reports.length === 3, 20_000);
  await runner.stop();
  const by = Object.fromEntries(src.reports.map((r) => [r.id, r]));
  assert.deepEqual([by.k!.ok, by.k!.error], [false, 'this agent does not know task kind "bash" (older version?)']);
  assert.deepEqual([by.b!.ok, by.b!.error], [false, 'params.count: must be >= 1']);
  assert.equal(by.s!.ok, false);
  assert.match(by.s!.error!, /^timed out after 300 ms: mtr was stopped/);
});

test('at most `concurrency` tasks run at once; stop() aborts those in flight', { timeout: 30_000 }, async () => {
  const jobs = [1, 2, 3].map((i) => job(`j${i}`, 'ping', { host: '127.0.0.1', count: 50, interval_ms: 200 }));
  let fetched = 0;
  const reports: TaskReport[] = [];
  const src: TaskSource = {
    async next(signal) {
      if (fetched < jobs.length) return [jobs[fetched++]!];
      await new Promise<void>((r) => signal.addEventListener('abort', () => r(), { once: true }));
      return [];
    },
    async report(r) { reports.push(r); },
  };
  const runner = new TaskRunner({ source: src, log: pino({ level: 'silent' }), concurrency: 2 });
  runner.start();
  await waitFor('two fetched', () => fetched === 2);
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(fetched, 2, 'the third is not fetched while two run');
  await runner.stop();
  assert.equal(reports.length, 2);
  assert.ok(reports.every((r) => !r.ok || (r.output as { sent: number }).sent < 50), 'stopped early');
});
