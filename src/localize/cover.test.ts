import { test } from 'node:test';
import assert from 'node:assert/strict';
import { coveringCause, raisedByGenerality } from './cover.ts';
import { emptyState, step } from './step.ts';
import { cdnWorld, roundsAt, scopeOf, seriesOf, type Fault } from './testkit.ts';

test('the shared causes explain a series by their keys as the owner\'s step does', () => {
  // One IDC down and one agent broken at once: 6 provinces × 3 ISPs × 2 agents → 4 IDCs × 4 VIPs.
  const world = cdnWorld({ provinces: 6, idcs: 4, vipsPerIdc: 4 });
  const scope = scopeOf();
  const T = Date.UTC(2026, 0, 5);
  const M = world.step * 1000;
  const faults: Fault[] = [
    { name: 'idc', from: T, to: T + 1e9, match: (_a, t) => t.labels.idc === 'idc2', loss: 100 },
    { name: 'agent', from: T, to: T + 1e9, match: (a) => a.name === 'unicom-hebei-2', loss: 100 },
  ];
  let state = emptyState();
  let last;
  for (let i = 0; i < 5; i++) {
    last = step(scope, seriesOf(world, roundsAt(world, T + i * M, faults)), state, T + (i + 1) * M);
    state = last.state;
  }
  const raised = raisedByGenerality(last!.causes);
  assert.deepEqual(raised.map((c) => c.id), ['cdn/vantage/unicom-hebei-2', 'cdn/destination/idc2']);
  let explained = 0;
  for (const s of seriesOf(world, roundsAt(world, T + 4 * M, faults))) {
    const want = last!.explain.get(s.key!);
    const got = coveringCause(raised, scope.roles, s);
    if (want) explained++;
    assert.equal(got, want, `${s.target} from ${s.agent}`);
  }
  assert.equal(explained, 4 * 36 + 16 - 4, 'every series toward idc2 and every series of the broken agent');
});
