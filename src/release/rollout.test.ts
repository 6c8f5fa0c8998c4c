import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  advanceRollout, countOf, planRollout, rolloutAction, rolloutCounts, targetOf,
  type AgentObservation, type Rollout, type RolloutSpec,
} from './rollout.ts';

const spec = (over: Partial<RolloutSpec> = {}): RolloutSpec => ({ version: '1.1.0', canary: '2', canary_per_region: false, batch: '20%', wait_s: 60, timeout_s: 600, ...over });
const fleet = (n: number, region = (i: number) => (i % 2 ? 'east' : 'west')) =>
  Array.from({ length: n }, (_, i) => ({ name: `a${String(i).padStart(2, '0')}`, region: region(i), alive: true, version: '1.0.0' }));

/** A world the test moves: what each agent runs, its rounds, whether it is heard from, its report. */
function world(names: string[]) {
  const obs = new Map<string, AgentObservation>(names.map((n) => [n, { alive: true, version: '1.0.0', rounds: 100, targets: 5 }]));
  return {
    obs,
    observe: (n: string) => obs.get(n),
    /** The agents asked to run a version switch to it and deliver rounds. */
    obey(r: Rollout) {
      for (const n of names) {
        const t = targetOf(r, n);
        const o = obs.get(n)!;
        if (t && o.alive && !(o.upgrade?.state === 'failed' && o.upgrade.target === t.version && o.upgrade.attempt === t.attempt)) o.version = t.version;
        o.rounds += 10;
      }
    },
  };
}

function run(r: Rollout, w: ReturnType<typeof world>, from: number, to: number, step = 10_000): { r: Rollout; events: string[] } {
  const events: string[] = [];
  for (let now = from; now <= to; now += step) {
    const x = advanceRollout(r, w.observe, now);
    r = x.rollout;
    events.push(...x.events);
    w.obey(r);
  }
  return { r, events };
}

test('counts: a number is capped by the total, a percentage rounds up to at least one', () => {
  assert.equal(countOf('2', 10), 2);
  assert.equal(countOf('20', 10), 10);
  assert.equal(countOf('20%', 10), 2);
  assert.equal(countOf('25%', 10), 3);
  assert.equal(countOf('1%', 10), 1);
  assert.equal(countOf('100%', 7), 7);
  assert.equal(countOf('3', 0), 0);
});

test('canary 2, batches of 20%: waves of 2, 3, 3, 2 for 10 agents to upgrade of 11; live agents go first; agents already on the version are done', () => {
  const agents = fleet(11);
  agents[0]!.alive = false;
  agents[10]!.version = '1.1.0';
  const r = planRollout(1, spec(), agents, 0);
  assert.equal(r.waves, 4);
  assert.deepEqual([0, 1, 2, 3].map((w) => r.agents.filter((a) => a.wave === w && a.state === 'pending').length), [2, 3, 3, 2]);
  assert.deepEqual(r.agents.filter((a) => a.wave === 0 && a.state === 'pending').map((a) => a.name), ['a01', 'a02']);
  assert.equal(r.agents.find((a) => a.name === 'a10')!.state, 'done');
  // The agent not heard from comes last.
  assert.equal(r.agents.find((a) => a.name === 'a00')!.wave, 3);
  const perRegion = planRollout(2, spec({ canary: '1', canary_per_region: true }), fleet(10), 0);
  assert.deepEqual(perRegion.agents.filter((a) => a.wave === 0).map((a) => a.region).sort(), ['east', 'west']);
  assert.throws(() => planRollout(3, spec({ regions: ['mars'] }), fleet(3), 0), /SMOKEMESH_E_RELEASE|no remote agent/);
  assert.throws(() => planRollout(3, spec({ agents: ['nobody'] }), fleet(3), 0), /no remote agent named nobody/);
});

test('a wave starts only when every agent of the previous one ran the version with rounds flowing for wait_s', () => {
  const agents = fleet(10);
  const w = world(agents.map((a) => a.name));
  let r = planRollout(1, spec(), agents, 0);
  r = advanceRollout(r, w.observe, 0).rollout;
  assert.deepEqual(r.agents.filter((a) => a.state === 'upgrading').map((a) => a.name), ['a00', 'a01']);
  assert.equal(targetOf(r, 'a00')?.version, '1.1.0');
  assert.equal(targetOf(r, 'a05'), undefined, 'later waves are not asked yet');
  // The canary switches but delivers no rounds: not healthy, no second wave.
  w.obs.get('a00')!.version = '1.1.0';
  w.obs.get('a01')!.version = '1.1.0';
  r = advanceRollout(r, w.observe, 10_000).rollout;
  r = advanceRollout(r, w.observe, 100_000).rollout;
  assert.equal(r.wave, 0);
  const done = run(r, w, 110_000, 1_000_000);
  assert.equal(done.r.state, 'done', done.events.join('\n'));
  assert.deepEqual(rolloutCounts(done.r), { pending: 0, upgrading: 0, done: 10, failed: 0, skipped: 0, rolling_back: 0, rolled_back: 0 });
  assert.ok(done.events.includes('batch 1 started') && done.events.includes('batch 4 started'));
  assert.equal(targetOf(done.r, 'a00'), undefined, 'a finished rollout asks nothing');
});

test('a failed canary pauses the rollout; resume retries it with a new attempt; abort asks nothing more', () => {
  const agents = fleet(10);
  const w = world(agents.map((a) => a.name));
  let r = advanceRollout(planRollout(4, spec(), agents, 0), w.observe, 0).rollout;
  // a01 reports that the new version failed and it rolled back on its own.
  w.obs.get('a01')!.upgrade = { state: 'failed', target: '1.1.0', rollout: 4, attempt: 1, error: 'self-test failed: exit 1', at: 5000, arch: 'x64' };
  const x = run(r, w, 10_000, 300_000);
  r = x.r;
  assert.equal(r.state, 'paused');
  assert.match(r.reason!, /canary failed: a01: self-test failed/);
  assert.equal(r.agents.find((a) => a.name === 'a00')!.state, 'done', 'the other canary still finished');
  assert.equal(r.agents.filter((a) => a.wave === 1 && a.state !== 'pending').length, 0, 'no batch started');
  r = rolloutAction(r, 'resume', 300_000);
  assert.equal(r.agents.find((a) => a.name === 'a01')!.attempt, 2);
  assert.equal(r.agents.find((a) => a.name === 'a01')!.state, 'pending');
  r = advanceRollout(r, w.observe, 300_000).rollout;
  assert.deepEqual(targetOf(r, 'a01'), { version: '1.1.0', attempt: 2, rollback: false });
  r = rolloutAction(r, 'abort', 310_000);
  assert.equal(targetOf(r, 'a01'), undefined);
  assert.throws(() => rolloutAction(r, 'resume', 320_000), /is aborted: cannot resume/);
});

test('an agent that never becomes healthy fails at the timeout; an agent not heard from when its wave starts is skipped', () => {
  const agents = fleet(4);
  const w = world(agents.map((a) => a.name));
  w.obs.get('a03')!.alive = false;
  let r = planRollout(5, spec({ canary: '1', batch: '3', timeout_s: 100 }), agents, 0);
  r = advanceRollout(r, w.observe, 0).rollout;
  // The canary stays on 1.0.0 (e.g. its upgrade is stuck).
  r = advanceRollout(r, w.observe, 101_000).rollout;
  assert.equal(r.state, 'paused');
  assert.match(r.reason!, /a00: not healthy on 1\.1\.0 within 100 s: runs 1\.0\.0/);
  r = rolloutAction(r, 'resume', 102_000);
  const x = run(r, w, 102_000, 400_000);
  assert.equal(x.r.state, 'done', x.events.join('\n'));
  assert.equal(x.r.agents.find((a) => a.name === 'a03')!.state, 'skipped');
});

test('roll back returns every agent the rollout touched to its previous version', () => {
  const agents = fleet(5);
  const w = world(agents.map((a) => a.name));
  let r = planRollout(6, spec({ canary: '1', batch: '2', wait_s: 0 }), agents, 0);
  r = run(r, w, 0, 30_000).r;
  const touched = r.agents.filter((a) => a.state !== 'pending').map((a) => a.name);
  assert.ok(touched.length >= 2 && touched.length < 5, touched.join());
  r = rolloutAction(r, 'rollback', 40_000);
  assert.equal(r.state, 'rolling_back');
  assert.deepEqual(targetOf(r, touched[0]!), { version: '1.0.0', attempt: 1, rollback: true });
  assert.equal(targetOf(r, 'a04'), undefined, 'an agent never upgraded is left alone');
  const x = run(r, w, 40_000, 100_000);
  assert.equal(x.r.state, 'rolled_back');
  for (const n of touched) assert.equal(w.obs.get(n)!.version, '1.0.0');
  assert.throws(() => rolloutAction(x.r, 'rollback', 200_000), /cannot rollback/);
});
