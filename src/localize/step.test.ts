import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cdnWorld, roundsAt, runEngine, scopeOf, seriesOf, type Fault, type World } from './testkit.ts';
import { emptyState, step } from './step.ts';
import { memoOf } from './memory.ts';
import { seriesKey } from './types.ts';

// A small CDN: 8 provinces × 3 ISPs × 2 agents (48) probing 4 IDCs × 6 VIPs (24): 1,152 series.
const world = cdnWorld({ provinces: 8, idcs: 4, vipsPerIdc: 6 });
const scope = scopeOf();
const K = scope.raise_after;
const T = Date.UTC(2026, 0, 5);
const M = world.step * 1000;
/** Faults start 17 s into window 15 (so part of the series see it one window later) and last 12 windows. */
const START = 15;
const fault = (name: string, f: Partial<Fault>): Fault => ({ name, from: T + START * M + 17_000, to: T + (START + 12) * M + 17_000, match: () => false, ...f });
const run = (faults: Fault[], steps = 40, w: World = world, s = scope) => runEngine(w, s, faults, T, steps);
const raised = (r: ReturnType<typeof run>) => r.events.filter((e) => e.state === 'raised');

test('a clean run raises nothing', () => {
  const r = run([], 40);
  assert.deepEqual(r.events, []);
  assert.equal(r.last.counts.series, 1152);
  assert.equal(r.last.counts.bad, 0);
});

const single: [string, Fault[], string, string][] = [
  ['one VIP down', [fault('vip', { match: (_a, t) => t.labels.vip === '10.2.0.3', loss: 100 })], 'cdn/item/10.2.0.3', 'confirmed'],
  ['one IDC down', [fault('idc', { match: (_a, t) => t.labels.idc === 'idc3', loss: 100 })], 'cdn/destination/idc3', 'confirmed'],
  ['one ISP in one province degraded (70 % loss)', [fault('cell', { match: (a) => a.labels.isp === 'unicom' && a.labels.province === 'hebei', loss: 70 })], 'cdn/cell/unicom/hebei', 'confirmed'],
  ['one ISP degraded nationwide (latency × 4)', [fault('isp', { match: (a) => a.labels.isp === 'mobile', latency: 4 })], 'cdn/network/mobile', 'confirmed'],
  ['one agent broken', [fault('agent', { match: (a) => a.name === 'telecom-jilin-2', loss: 100 })], 'cdn/vantage/telecom-jilin-2', 'confirmed'],
];
for (const [name, faults, id, confidence] of single) {
  test(`${name}: exactly one cause, raised within k+1 steps, cleared after the fault`, () => {
    const r = run(faults);
    const up = raised(r);
    assert.deepEqual(up.map((e) => e.id), [id], JSON.stringify(r.events));
    assert.equal(up[0]!.confidence, confidence);
    // Step i ends window i; the fault began inside window START: raised no later than k+1 steps on.
    assert.ok(up[0]!.step - START <= K, `raised at step ${up[0]!.step}, fault in window ${START}`);
    assert.ok(up[0]!.step - START >= K - 1, 'not before k windows of it were seen');
    const down = r.events.filter((e) => e.state === 'cleared');
    assert.deepEqual(down.map((e) => e.id), [id]);
  });
}

test('a degraded cell (70 % loss) is never one of its agents, whatever the noise: no vantage cause at any step, pending ones included', () => {
  // At 70 % loss each agent of the cell sees 75-95 % of its series bad; which side of the
  // vantage bar (0.8) each lands on is chance, and a step where one agent is above it and its
  // peer below must still read as the cell. 40 different noise draws, every step looked at.
  const cell = fault('cell', { match: (a) => a.labels.isp === 'unicom' && a.labels.province === 'hebei', loss: 70 });
  let cellSteps = 0;
  for (let n = 0; n < 40; n++) {
    let state = emptyState();
    for (let i = START - 3; i < START + 10; i++) {
      const res = step(scope, seriesOf(world, roundsAt(world, T + i * M, [cell], n * 1000 + i)), state, T + (i + 1) * M);
      state = res.state;
      for (const c of res.causes) assert.notEqual(c.kind, 'vantage', `noise ${n}, step ${i}: ${c.id}: ${c.rule}`);
      if (res.causes.some((c) => c.id === 'cdn/cell/unicom/hebei')) cellSteps++;
    }
  }
  assert.ok(cellSteps >= 40 * 8, `the cell was inferred in ${cellSteps} steps`);
});

test('two unrelated faults at once: two causes, each at its level', () => {
  const r = run([
    fault('idc', { match: (_a, t) => t.labels.idc === 'idc1', loss: 100 }),
    fault('agent', { match: (a) => a.name === 'unicom-shanxi-1', loss: 100 }),
  ]);
  assert.deepEqual(raised(r).map((e) => e.id).sort(), ['cdn/destination/idc1', 'cdn/vantage/unicom-shanxi-1']);
});

test('a broken agent never yields network, destination, cell or item causes (at any step)', () => {
  // Both agents of one cell? No: one agent, its peer fine. Run step by step and look at every cause, pending ones too.
  let state = emptyState();
  const f = [fault('agent', { match: (a) => a.name === 'mobile-liaoning-1', loss: 100 })];
  for (let i = 0; i < 30; i++) {
    const res = step(scope, seriesOf(world, roundsAt(world, T + i * M, f)), state, T + (i + 1) * M);
    state = res.state;
    for (const c of res.causes) assert.equal(c.kind, 'vantage', `step ${i}: ${c.id}`);
  }
});

test('a one-minute glitch of a whole IDC raises nothing', () => {
  const r = run([fault('glitch', { match: (_a, t) => t.labels.idc === 'idc2', loss: 100, to: T + START * M + 77_000 })]);
  assert.deepEqual(r.events, []);
});

test('a flapping VIP (4 bad, 2 good, five times) is raised once and cleared once', () => {
  const r = run([fault('flap', { match: (_a, t) => t.labels.vip === '10.4.0.2', loss: 100, flap: { bad: 4, good: 2 }, to: T + (START + 30) * M })], 55);
  assert.deepEqual(r.events.map((e) => `${e.state} ${e.id}`), ['raised cdn/item/10.4.0.2', 'cleared cdn/item/10.4.0.2']);
});

test('one ISP cannot reach one IDC (peering): one path cause, not six VIP causes', () => {
  const r = run([fault('peering', { match: (a, t) => a.labels.isp === 'unicom' && t.labels.idc === 'idc2', loss: 100 })]);
  assert.deepEqual(raised(r).map((e) => e.id), ['cdn/path/unicom/idc2']);
});

test('a third of an ISP\'s provinces bad: one suspected network cause, not three cell causes', () => {
  const provinces = new Set(['beijing', 'tianjin', 'hebei']); // 3 of 8 ≥ 1/3
  const r = run([fault('isp', { match: (a) => a.labels.isp === 'telecom' && provinces.has(a.labels.province!), loss: 100 })]);
  assert.deepEqual(raised(r).map((e) => `${e.id} ${e.confidence}`), ['cdn/network/telecom suspected']);
});

test('every series is explained by the cause that covers it; healthy series by none', () => {
  const r = run([
    fault('idc', { match: (_a, t) => t.labels.idc === 'idc3', loss: 100 }),
    fault('agent', { match: (a) => a.name === 'telecom-jilin-2', loss: 100 }),
  ], START + K + 2);
  const ex = r.last.explain;
  for (const p of world.pairs) {
    const got = ex.get(p.key);
    if (p.agent.name === 'telecom-jilin-2') assert.equal(got, 'cdn/vantage/telecom-jilin-2');
    else if (p.target.labels.idc === 'idc3') assert.equal(got, 'cdn/destination/idc3');
    else assert.equal(got, undefined, `${p.key} explained by ${got}`);
  }
  assert.equal(r.last.counts.unexplained, 0);
  const idc = r.last.causes.find((c) => c.id === 'cdn/destination/idc3')!;
  assert.deepEqual(idc.series, { bad: 282, total: 282 }); // 47 healthy agents × 6 VIPs (the broken agent's series are its own cause)
  assert.deepEqual(idc.networks, { seeing: ['telecom', 'unicom', 'mobile'], total: 3 });
  assert.equal(idc.loss_pct, 100);
  assert.ok(idc.first_bad >= T + START * M + 17_000 && idc.first_bad < T + (START + 1) * M + 17_000, 'first bad round right after the fault began');
  assert.equal(idc.bad_cells.length, 24); // 24 vantage cells × one IDC column
  const agent = r.last.causes.find((c) => c.kind === 'vantage')!;
  assert.deepEqual(agent.agents, ['telecom-jilin-2']);
  assert.deepEqual(agent.peers, { bad: 0, total: 1 });
  // The matrix: the IDC's column is bad and points at the cause.
  const col = r.last.matrix.filter((c) => c.column === 'idc3');
  assert.equal(col.length, 24);
  for (const c of col) assert.equal(c.cause, 'cdn/destination/idc3');
});

test('whitelisted targets and agents never count', () => {
  const s = scopeOf({ whitelist: { labels: { idc: 'idc3' }, agents: ['telecom-jilin-2'] } });
  const r = run([
    fault('idc', { match: (_a, t) => t.labels.idc === 'idc3', loss: 100 }),
    fault('agent', { match: (a) => a.name === 'telecom-jilin-2', loss: 100 }),
  ], 30, world, s);
  assert.deepEqual(r.events, []);
  assert.equal(r.last.counts.excluded, 48 * 6 + 24 - 6); // idc3's series, and the agent's others
});

test('a maintenance window hides a fault while open; the cause is raised once it closes', () => {
  const s = scopeOf({ maintenance: [{ start: new Date(T).toISOString(), end: new Date(T + (START + 6) * M).toISOString(), labels: { idc: 'idc3' } }] });
  const r = run([fault('idc', { match: (_a, t) => t.labels.idc === 'idc3', loss: 100 })], 40, world, s);
  const up = raised(r);
  assert.deepEqual(up.map((e) => e.id), ['cdn/destination/idc3']);
  assert.ok(up[0]!.step >= START + 6, `raised at ${up[0]!.step}, after the window`);
});

test('the state given to a step is not changed', () => {
  const first = step(scope, seriesOf(world, roundsAt(world, T, [])), undefined, T + M);
  const key = world.pairs[0]!.key;
  const before = JSON.stringify(memoOf(first.state.series, key));
  const size = first.state.series.size;
  const bad = [fault('idc', { match: () => true, loss: 100, from: T })];
  const second = step(scope, seriesOf(world, roundsAt(world, T + M, bad)), first.state, T + 2 * M);
  assert.equal(JSON.stringify(memoOf(first.state.series, key)), before);
  assert.equal(first.state.series.size, size);
  assert.equal(memoOf(second.state.series, key)!.bad, 'loss');
  // Replaying the same step from the same state gives the same result.
  const again = step(scope, seriesOf(world, roundsAt(world, T + M, bad)), first.state, T + 2 * M);
  assert.deepEqual(again.counts, second.counts);
});

test('a latency shift counts only once the baseline is learned, and a lasting one slowly becomes the new normal', () => {
  const key = seriesKey('/IDC/idc1/vip1', world.agents[0]!.name);
  // From the very first round: no baseline yet, so nothing is bad.
  const early = run([fault('slow', { from: T, to: Infinity, match: (a) => a.labels.isp === 'mobile', latency: 4 })], 12);
  assert.deepEqual(early.events, []);
  const late = run([fault('slow', { match: (a) => a.labels.isp === 'mobile', latency: 4, to: Infinity })], START + 8);
  assert.deepEqual(raised(late).map((e) => e.id), ['cdn/network/mobile']);
  const m = memoOf(late.state.series, key)!;
  assert.ok(m.samples >= 10 && m.base! > 10 && m.base! < 70, JSON.stringify(m));
});

test('office → cloud: one vantage network, destinations are cloud regions, items are targets', () => {
  // One office with 3 agents probing 3 regions × 4 endpoints; one region down → one destination cause.
  const w: World = {
    ...world,
    agents: [1, 2, 3].map((i) => ({ name: `office-${i}`, region: 'hq', labels: { office: 'hq' } })),
    targets: ['eu', 'us', 'ap'].flatMap((r) => [1, 2, 3, 4].map((i) => ({ path: `/Cloud/${r}/ep${i}`, host: `10.9.${i}.1`, labels: { cloud_region: r } }))),
    pairs: [],
  };
  w.pairs = w.agents.flatMap((agent) => w.targets.map((target) => ({ agent, target, offset: 1000, base: 30, key: seriesKey(target.path, agent.name) })));
  const s = scopeOf({ name: 'office', roles: { vantage: ['office'], destination: ['cloud_region'] } });
  const r = run([fault('region', { match: (_a, t) => t.labels.cloud_region === 'us', loss: 100 })], 30, w, s);
  assert.deepEqual(raised(r).map((e) => e.id), ['office/destination/us']);
  // The office's own uplink down: every endpoint bad from it → its network (there is no other vantage to blame the clouds).
  const up = run([fault('uplink', { match: () => true, loss: 100 })], 30, w, s);
  assert.deepEqual(raised(up).map((e) => e.id), ['office/network/hq']);
});

test('region → region: a destination region down from every source region is one cause', () => {
  const regions = ['r1', 'r2', 'r3', 'r4'];
  const agents = regions.flatMap((r) => [1, 2].map((i) => ({ name: `${r}-a${i}`, region: r, labels: {} })));
  const targets = agents.map((a) => ({ path: `/Mesh/${a.region}/${a.name}`, host: '10.0.0.1', labels: { region: a.region } }));
  const w: World = { ...world, agents, targets, pairs: [] };
  w.pairs = agents.flatMap((agent) => targets.filter((t) => t.labels.region !== agent.region).map((target) => ({ agent, target, offset: 2000, base: 40, key: seriesKey(target.path, agent.name) })));
  const s = scopeOf({ name: 'mesh', roles: { vantage: ['region'], destination: ['region'] }, thresholds: { vantage: { min_series: 2 } } });
  const r = run([fault('r3', { match: (_a, t) => t.labels.region === 'r3', loss: 100 })], 30, w, s);
  assert.deepEqual(raised(r).map((e) => e.id), ['mesh/destination/r3']);
});

test('series without vantage or destination labels are counted as unlabelled and left out', () => {
  const agent = world.agents[0]!.name;
  const series = seriesOf(world, roundsAt(world, T, [])).map((s) => (s.agent === agent ? { ...s, agentLabels: { isp: 'telecom' } } : s));
  const r = step(scope, series, undefined, T + M);
  assert.equal(r.counts.unlabelled, 24);
  assert.equal(r.counts.series, 1152 - 24);
});

test('stale series (no round for stale_steps) are left out', () => {
  const series = seriesOf(world, roundsAt(world, T, []));
  const r = step(scope, series, undefined, T + 10 * M);
  assert.equal(r.counts.stale, 1152);
});

/** Regions r1…r4 with three agents each; every agent probes the agents of the other regions (mesh targets carry `region`). */
function meshWorld(): World {
  const regions = ['r1', 'r2', 'r3', 'r4'];
  const agents = regions.flatMap((r) => [1, 2, 3].map((i) => ({ name: `${r}-a${i}`, region: r, labels: {} })));
  const targets = agents.map((a) => ({ path: `/Mesh/${a.region}/${a.name}`, host: '10.0.0.1', labels: { region: a.region } }));
  const w: World = { ...world, agents, targets, pairs: [] };
  w.pairs = agents.flatMap((agent) => targets.filter((t) => t.labels.region !== agent.region).map((target) => ({ agent, target, offset: 2000, base: 40, key: seriesKey(target.path, agent.name) })));
  return w;
}
const meshScope = (pairs?: Record<string, unknown>) => scopeOf({ name: 'mesh', roles: { vantage: ['region'], destination: ['region'] }, ...(pairs ? { region_pairs: pairs } : {}) });

test('region pairs: one region → region cell down is one region_pair cause (raised after k steps, cleared), not a path', () => {
  const w = meshWorld();
  const f = [fault('pair', { match: (a, t) => a.region === 'r1' && t.labels.region === 'r3', loss: 100 })];
  const r = run(f, 40, w, meshScope({}));
  assert.deepEqual(r.events.map((e) => `${e.state} ${e.id} ${e.confidence}`), ['raised mesh/region_pair/r1/r3 confirmed', 'cleared mesh/region_pair/r1/r3 confirmed']);
  const up = raised(r)[0]!;
  assert.ok(up.step - START <= K && up.step - START >= K - 1, `raised at ${up.step}`);
  assert.match(up.rule, /^down: 9 of 9 series bad \(≥ 1\/2\)$/);
  // Without region_pairs the same fault is the path from r1 to r3.
  assert.deepEqual(raised(run(f, 40, w, meshScope())).map((e) => e.id), ['mesh/path/r1/r3']);
  // The cause names its pair and explains its series.
  const mid = run(f, START + K + 1, w, meshScope({}));
  const c = mid.last.causes.find((x) => x.kind === 'region_pair')!;
  assert.deepEqual(c.key, { source_region: 'r1', target_region: 'r3' });
  assert.deepEqual(c.series, { bad: 9, total: 9 });
  assert.equal(mid.last.explain.get(seriesKey('/Mesh/r3/r3-a2', 'r1-a1')), 'mesh/region_pair/r1/r3');
  assert.equal(mid.last.explain.get(seriesKey('/Mesh/r2/r2-a2', 'r1-a1')), undefined);
});

test('region pairs: a degraded pair (a third of its series bad) raises only with alert: degraded, as suspected', () => {
  const w = meshWorld();
  const f = [fault('one agent to r3', { match: (a, t) => a.name === 'r1-a1' && t.labels.region === 'r3', loss: 100 })];
  assert.deepEqual(raised(run(f, 40, w, meshScope({}))).map((e) => e.id), []);
  const r = run(f, 40, w, meshScope({ alert: 'degraded' }));
  assert.deepEqual(raised(r).map((e) => `${e.id} ${e.confidence} ${e.rule}`), ['mesh/region_pair/r1/r3 suspected degraded: 3 of 9 series bad (≥ 1/3)']);
  // A stricter quorum: not even degraded.
  assert.deepEqual(raised(run(f, 40, w, meshScope({ alert: 'degraded', degraded: 0.4 }))).map((e) => e.id), []);
});

test('region pairs: faults a more general cause explains raise no pair alerts (a region down for everyone, a broken agent, a region cut off)', () => {
  const w = meshWorld();
  const s = meshScope({ alert: 'degraded' });
  const ids = (f: Fault[]) => raised(run(f, 40, w, s)).map((e) => e.id);
  assert.deepEqual(ids([fault('r3 down', { match: (_a, t) => t.labels.region === 'r3', loss: 100 })]), ['mesh/destination/r3']);
  assert.deepEqual(ids([fault('agent', { match: (a) => a.name === 'r2-a2', loss: 100 })]), ['mesh/vantage/r2-a2']);
  assert.deepEqual(ids([fault('r4 cut off', { match: (a) => a.region === 'r4', loss: 100 })]), ['mesh/network/r4']);
});

/** The test world with a `site` label: in each province, the first agent of every ISP stands in `<province>-pop-1`, the second in `-pop-2`. */
function siteWorld(): World {
  const agents = world.agents.map((a) => ({ ...a, labels: { ...a.labels, site: `${a.labels.province}-pop-${a.name.slice(-1)}` } }));
  const byName = new Map(agents.map((a) => [a.name, a]));
  return { ...world, agents, pairs: world.pairs.map((p) => ({ ...p, agent: byName.get(p.agent.name)! })) };
}

test('a whole site down (all its agents, of three ISPs, see everything bad): one vantage cause for the site, not one per agent', () => {
  const w = siteWorld();
  const down = [fault('site', { match: (a) => a.labels.site === 'hebei-pop-1', loss: 100 })];
  const siteScope = scopeOf({ roles: { vantage: ['isp', 'province'], destination: ['idc'], item: 'vip', site: 'site' } });
  const r = run(down, START + K + 2, w, siteScope);
  assert.deepEqual(raised(r).map((e) => e.id), ['cdn/vantage/hebei-pop-1']);
  const c = r.last.causes.find((x) => x.id === 'cdn/vantage/hebei-pop-1')!;
  assert.deepEqual(c.key, { site: 'hebei-pop-1' });
  assert.deepEqual(c.agents, ['mobile-hebei-1', 'telecom-hebei-1', 'unicom-hebei-1']);
  assert.deepEqual(c.series, { bad: 72, total: 72 });
  assert.deepEqual(c.peers, { bad: 0, total: 1 }); // hebei-pop-2, in the same three cells, is fine
  assert.equal(r.last.counts.unexplained, 0);
  // Without the site role the same outage is one cause per agent.
  assert.deepEqual(raised(run(down, START + K + 2, w)).map((e) => e.id).sort(), ['cdn/vantage/mobile-hebei-1', 'cdn/vantage/telecom-hebei-1', 'cdn/vantage/unicom-hebei-1']);
  // One agent of a site broken, the site's others fine: that agent is the cause (not its cell).
  const one = run([fault('agent', { match: (a) => a.name === 'unicom-hebei-1', loss: 100 })], 40, w, siteScope);
  assert.deepEqual(one.events.map((e) => `${e.state} ${e.id}`), ['raised cdn/vantage/unicom-hebei-1', 'cleared cdn/vantage/unicom-hebei-1']);
  // Both sites of a province down: each site's peer is down too, so it is the province's cells, not our probes.
  const both = run([fault('province', { match: (a) => a.labels.province === 'hebei', loss: 100 })], START + K + 2, w, siteScope);
  assert.ok(raised(both).every((e) => !e.id.includes('/vantage/')), JSON.stringify(raised(both)));
});

test('a raised cause that escalates (degraded → down) is updated once, not raised again; it de-escalates after clear_after steps; a one-step spike changes nothing', () => {
  const w = meshWorld();
  const s = meshScope({ alert: 'degraded' });
  const at = (n: number) => T + (START + n) * M + 17_000;
  const toR3 = (_a: { region: string }, t: { labels: Record<string, string> }) => t.labels.region === 'r3';
  const f: Fault[] = [
    { name: 'one agent to r3 (degraded)', from: at(0), to: at(24), match: (a, t) => a.name === 'r1-a1' && toR3(a, t), loss: 100 },
    { name: 'one-step spike: all of r1 to r3', from: at(4), to: at(5), match: (a, t) => a.region === 'r1' && toR3(a, t), loss: 100 },
    { name: 'all of r1 to r3 (down)', from: at(8), to: at(16), match: (a, t) => a.region === 'r1' && toR3(a, t), loss: 100 },
  ];
  const r = run(f, START + 34, w, s);
  const seen = r.events.map((e) => `${e.state} ${e.id} ${e.confidence}`);
  assert.deepEqual(seen, [
    'raised mesh/region_pair/r1/r3 suspected',
    'updated mesh/region_pair/r1/r3 confirmed',
    'updated mesh/region_pair/r1/r3 suspected',
    'cleared mesh/region_pair/r1/r3 suspected',
  ]);
  const [, up, down] = r.events;
  // Up after raise_after steps of "down" (the window the fault starts in counts when it catches the rounds), down after clear_after.
  assert.ok(up!.step - (START + 8) >= K - 1 && up!.step - (START + 8) <= K, `escalated at ${up!.step}`);
  assert.ok(down!.step - (START + 16) >= s.clear_after - 1 && down!.step - (START + 16) <= s.clear_after, `de-escalated at ${down!.step}`);
  assert.match(up!.rule, /^down: 9 of 9 series bad/);
  // Between the spike and the escalation the cause held its confidence and its rule.
  const mid = run(f, START + 7, w, s);
  assert.deepEqual(mid.last.causes.map((c) => `${c.id} ${c.confidence} ${c.raised !== null}`), ['mesh/region_pair/r1/r3 suspected true']);
  assert.match(mid.last.causes[0]!.rule, /^degraded: 3 of 9 series bad/);
});
