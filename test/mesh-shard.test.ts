import { test } from 'node:test';
import assert from 'node:assert/strict';
import { shardOwner, splitTargets } from '../src/plan/shard.ts';
import { planFor, type AgentIdentity } from '../src/plan/plan.ts';
import { parseConfig } from '../src/config/loader.ts';
import { prng } from './fixtures/prng.ts';

const names = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

test('every target goes to exactly one candidate, and the union is every target', () => {
  for (let seed = 1; seed <= 50; seed++) {
    const r = prng(seed);
    const targets = names('/g/t', 1 + Math.floor(r() * 300));
    const agents = names(`agent-${seed}-`, 1 + Math.floor(r() * 12));
    const split = splitTargets(targets, agents);
    const seen = new Map<string, number>();
    for (const list of split.values()) for (const t of list) seen.set(t, (seen.get(t) ?? 0) + 1);
    assert.equal(seen.size, targets.length, `seed ${seed}: coverage`);
    for (const [t, n] of seen) assert.equal(n, 1, `seed ${seed}: ${t} assigned ${n} times`);
    for (const t of targets) assert.ok(split.get(shardOwner(t, agents)!)!.includes(t), 'splitTargets agrees with shardOwner');
  }
});

test('the split does not depend on the order of the candidates', () => {
  const targets = names('/x/', 200);
  const a = names('a', 7);
  const fwd = splitTargets(targets, a);
  const rev = splitTargets(targets, [...a].reverse());
  for (const n of a) assert.deepEqual(rev.get(n), fwd.get(n));
});

test('a joining agent takes targets only from others; nothing else moves', () => {
  for (let seed = 1; seed <= 30; seed++) {
    const r = prng(seed);
    const targets = names('/t/', 500);
    const before = names(`s${seed}-`, 2 + Math.floor(r() * 8));
    const joiner = `new-${seed}`;
    const b = new Map(targets.map((t) => [t, shardOwner(t, before)]));
    const a = new Map(targets.map((t) => [t, shardOwner(t, [...before, joiner])]));
    let moved = 0;
    for (const t of targets) {
      if (a.get(t) !== b.get(t)) {
        assert.equal(a.get(t), joiner, `seed ${seed}: ${t} moved between old agents`);
        moved++;
      }
    }
    // Balance: the newcomer wins roughly its fair share (binomial; bounds far beyond 6 sigma).
    const fair = targets.length / (before.length + 1);
    assert.ok(moved > fair * 0.3 && moved < fair * 2, `seed ${seed}: joiner took ${moved}, fair ${fair.toFixed(0)}`);
  }
});

test('a leaving agent hands over only its own targets', () => {
  for (let seed = 1; seed <= 30; seed++) {
    const r = prng(seed);
    const targets = names('/t/', 400);
    const agents = names(`l${seed}-`, 2 + Math.floor(r() * 8));
    const gone = agents[Math.floor(r() * agents.length)]!;
    const rest = agents.filter((x) => x !== gone);
    for (const t of targets) {
      const b = shardOwner(t, agents);
      const a = shardOwner(t, rest);
      if (b !== gone) assert.equal(a, b, `seed ${seed}: ${t} moved though its owner stayed`);
      else assert.notEqual(a, gone);
    }
  }
});

test('no candidates: nobody owns the target', () => {
  assert.equal(shardOwner('/t', []), undefined);
  assert.equal([...splitTargets(['/t'], []).values()].length, 0);
});

const CONFIG = `
targets:
  children:
    Big:
      shard: per_region
      agents: { region: [eu, us] }
      server_probes: false
      children:
${names('h', 60).map((h, i) => `        ${h}: { host: 127.0.0.${i + 1} }`).join('\n')}
    Everyone:
      host: 127.0.1.1
`;

test('planFor: within each region every sharded target is probed by exactly one live agent', () => {
  const tree = parseConfig(CONFIG).targets;
  const agent = (name: string, region: string): AgentIdentity => ({ name, region, labels: {}, builtin: false });
  const live = [agent('eu1', 'eu'), agent('eu2', 'eu'), agent('eu3', 'eu'), agent('us1', 'us'), agent('ap1', 'ap')];
  const plans = new Map(live.map((a) => [a.name, planFor(tree, a, live).assignments.map((x) => x.target)]));
  const big = (list: string[]) => list.filter((t) => t.startsWith('/Big/'));
  for (const region of ['eu', 'us']) {
    const counts = new Map<string, number>();
    for (const a of live.filter((x) => x.region === region)) for (const t of big(plans.get(a.name)!)) counts.set(t, (counts.get(t) ?? 0) + 1);
    assert.equal(counts.size, 60, `${region}: every target covered`);
    assert.ok([...counts.values()].every((n) => n === 1), `${region}: exactly once`);
  }
  assert.deepEqual(big(plans.get('ap1')!), [], 'a region the selection excludes gets nothing');
  assert.deepEqual(big(plans.get('us1')!).length, 60, 'alone in its region: all of them');
  for (const a of live) assert.ok(plans.get(a.name)!.includes('/Everyone'), 'unsharded targets still go to every agent');
  assert.ok(big(plans.get('eu1')!).length > 0 && big(plans.get('eu2')!).length > 0 && big(plans.get('eu3')!).length > 0);

  // eu2 leaves: only its targets move, to eu1/eu3.
  const after = live.filter((a) => a.name !== 'eu2');
  const eu1 = new Set(big(planFor(tree, live[0]!, after).assignments.map((x) => x.target)));
  const eu3 = new Set(big(planFor(tree, live[2]!, after).assignments.map((x) => x.target)));
  for (const t of big(plans.get('eu1')!)) assert.ok(eu1.has(t), 'eu1 keeps its targets');
  for (const t of big(plans.get('eu3')!)) assert.ok(eu3.has(t), 'eu3 keeps its targets');
  assert.equal(eu1.size + eu3.size, 60);
});

test('planFor without peers: the agent probes every sharded target it is selected for', () => {
  const tree = parseConfig(CONFIG).targets;
  const plan = planFor(tree, { name: 'x', region: 'eu', labels: {}, builtin: false });
  assert.equal(plan.assignments.filter((a) => a.target.startsWith('/Big/')).length, 60);
});

test('planVersion digests exactly the JSON of the assignments (the shared-params shortcut changes nothing)', async () => {
  const { createHash } = await import('node:crypto');
  const { planVersion } = await import('../src/plan/plan.ts');
  const shared = { pings: 3, x: [1, 'q"'] };
  const a = [
    { target: '/a"b', host: 'h', probe: 'icmp' as const, params: shared },
    { target: '/c', host: 'h2', probe: 'tcp' as const, params: { port: 1 } },
    { target: '/d', host: 'h3', probe: 'icmp' as const, params: shared },
  ];
  const digest = (v: unknown) => createHash('sha256').update(JSON.stringify(v)).digest('base64url').slice(0, 16);
  assert.equal(planVersion(a), digest(a));
  assert.equal(planVersion([]), digest([]));
});
