import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Assignment } from '../plan/assignment.ts';
import { buildJobs, nextStart, offsetFraction } from './jobs.ts';

const a = (target: string, probe: Assignment['probe'], params: Record<string, unknown> = {}): Assignment => ({
  target, host: '127.0.0.1', probe, params: { pings: 3, timeout: 500, step: 60, offset: 'random', ...params },
});

test('batch probes share one job per parameter set; others get one job per target', () => {
  const jobs = buildJobs([
    a('/a', 'icmp'), a('/b', 'icmp'), a('/c', 'icmp', { pings: 5 }), a('/d', 'tcp', { port: 1 }), a('/e', 'tcp', { port: 1 }),
  ], (t) => (t === 'icmp' ? 1000 : 1), 'agent1');
  const icmp = jobs.filter((j) => j.probe === 'icmp');
  assert.equal(icmp.length, 2);
  assert.deepEqual(icmp.map((j) => j.assignments.length).sort(), [1, 2]);
  assert.equal(jobs.filter((j) => j.probe === 'tcp').length, 2);
});

test('batches are cut at the probe batch size', () => {
  const list = Array.from({ length: 25 }, (_, i) => a(`/t${i}`, 'icmp'));
  const jobs = buildJobs(list, () => 10, 'x');
  assert.deepEqual(jobs.map((j) => j.assignments.length), [10, 10, 5]);
});

test('offsets: N% is exact; random is stable per seed and spread', () => {
  assert.equal(offsetFraction('25%', 'x'), 0.25);
  assert.equal(offsetFraction('random', 'seed'), offsetFraction('random', 'seed'));
  const spread = new Set(Array.from({ length: 100 }, (_, i) => Math.floor(offsetFraction('random', `s${i}`) * 10)));
  assert.ok(spread.size >= 8, `random offsets cover the step (${spread.size}/10 deciles)`);
});

test('nextStart lands on step boundary + offset, never in the past', () => {
  const job = { step: 60, offset: 0.5 };
  const t = nextStart(job, 1_000_000_123);
  assert.ok(t >= 1_000_000_123);
  assert.equal((t - 30_000) % 60_000, 0);
  assert.ok(t - 1_000_000_123 < 60_000);
});
