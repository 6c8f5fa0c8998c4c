import { test } from 'node:test';
import assert from 'node:assert/strict';
import { foundSeries } from './rebuild.ts';
import { groupReads } from './query.ts';

const at = (target: string, agent: string, probe: string, f: string, v: number) => ({ metric: { target, agent, probe, f }, value: [0, String(v)] as [number, string] });

test('foundSeries: first, last, step and probe per series; a series measured by two probes takes the later probe and the earlier first', () => {
  const rows = foundSeries([
    at('/a', 'x', 'icmp', 'first', 100), at('/a', 'x', 'icmp', 'last', 500), at('/a', 'x', 'icmp', 'step', 60),
    at('/a', 'x', 'tcp', 'first', 600), at('/a', 'x', 'tcp', 'last', 900), at('/a', 'x', 'tcp', 'step', 30),
    at('/b', 'y', 'http', 'first', 10), at('/b', 'y', 'http', 'last', 10), at('/b', 'y', 'http', 'step', 300),
    // Incomplete (no step sample answered): not a series.
    at('/c', 'y', 'icmp', 'first', 10), at('/c', 'y', 'icmp', 'last', 10),
  ]);
  assert.deepEqual(rows.sort((p, q) => p.target.localeCompare(q.target)), [
    { target: '/a', agent: 'x', probe: 'tcp', step: 30, first: 100_000, last: 900_000 },
    { target: '/b', agent: 'y', probe: 'http', step: 300, first: 10_000, last: 10_000 },
  ]);
});

test('groupReads: one group per agent, at most maxTargets each, split where the ranges lie far apart', () => {
  const r = (target: string, agent: string, t: number) => ({ target, agent, from: t, to: t });
  const groups = groupReads([r('/a', 'x', 0), r('/b', 'x', 60_000), r('/c', 'x', 10_000_000), r('/a', 'y', 0), r('/b', 'y', 0), r('/c', 'y', 0)], 2, 120_000);
  assert.deepEqual(groups.map((g) => [g.agent, g.from, g.to, g.reads.map((x) => x.target).join()]), [
    ['x', 0, 60_000, '/a,/b'], ['x', 10_000_000, 10_000_000, '/c'], ['y', 0, 0, '/a,/b'], ['y', 0, 0, '/c'],
  ]);
});
