import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cdnWorld, roundsAt, runEngine, scopeOf, seriesOf, type Fault } from './testkit.ts';
import { traceChoice } from './trace.ts';
import { vantageOf } from './select.ts';

// 4 provinces × 3 ISPs × 2 agents probing 3 IDCs × 4 VIPs.
const world = cdnWorld({ provinces: 4, idcs: 3, vipsPerIdc: 4 });
const scope = scopeOf();
const T = Date.UTC(2026, 0, 5);
const M = world.step * 1000;
const STEPS = 20;
const fault = (f: Partial<Fault>): Fault => ({ name: 'f', from: T + 8 * M + 17_000, to: Infinity, match: () => false, ...f });

/** The engine after the fault was raised, and the inputs of its last step. */
function raisedBy(f: Fault) {
  const r = runEngine(world, scope, [f], T, STEPS);
  const inputs = seriesOf(world, roundsAt(world, T + (STEPS - 1) * M, [f]));
  const id = r.events.find((e) => e.state === 'raised')!.id;
  return { id, explain: r.last.explain, inputs };
}

test('an IDC cause is traced from two agents of different vantage cells toward one of its VIPs', () => {
  const { id, explain, inputs } = raisedBy(fault({ match: (_a, t) => t.labels.idc === 'idc2', loss: 100 }));
  assert.equal(id, 'cdn/destination/idc2');
  const c = traceChoice(id, explain, inputs, scope.roles, 2)!;
  assert.ok(c.target.startsWith('/IDC/idc2/'), c.target);
  assert.equal(c.agents.length, 2);
  const cells = c.agents.map((a) => vantageOf(scope.roles, inputs.find((s) => s.agent === a)!).join(' / '));
  assert.notEqual(cells[0], cells[1], 'two views, not two agents of one site');
  // Every chosen series is one the cause explains.
  for (const a of c.agents) assert.equal(explain.get(`${c.target}\u0000${a}`), id);
  assert.deepEqual(traceChoice(id, explain, inputs, scope.roles, 2), c, 'the same evidence gives the same choice');
});

test('a broken agent is traced from itself; a VIP cause toward that VIP; none for 0 agents or an unknown cause', () => {
  const broken = world.agents[5]!.name;
  const v = raisedBy(fault({ match: (a) => a.name === broken, loss: 100 }));
  assert.equal(v.id, `cdn/vantage/${broken}`);
  assert.deepEqual(traceChoice(v.id, v.explain, v.inputs, scope.roles, 2)!.agents, [broken]);

  const vip = world.targets[7]!;
  const i = raisedBy(fault({ match: (_a, t) => t.path === vip.path, loss: 100 }));
  assert.equal(i.id, `cdn/item/${vip.labels.vip}`);
  const c = traceChoice(i.id, i.explain, i.inputs, scope.roles, 1)!;
  assert.equal(c.target, vip.path);
  assert.equal(c.agents.length, 1);

  assert.equal(traceChoice(i.id, i.explain, i.inputs, scope.roles, 0), undefined);
  assert.equal(traceChoice('cdn/item/nothing', i.explain, i.inputs, scope.roles, 2), undefined);
});
