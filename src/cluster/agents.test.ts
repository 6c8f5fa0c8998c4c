import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AgentInfo } from '../plan/agent-info.ts';
import { clusterAgentView, judgeSightings, judgeStored, livenessChanges, mergeAgents, sightingsToWrite, type LocalAgent } from './agents.ts';
import { agentOwner } from './hrw.ts';
import type { SightingRead } from './tasks-pg.ts';

const local = (name: string, alive: boolean, last_seen?: number, builtin = false): LocalAgent => ({ name, region: 'eu', labels: {}, alive, builtin, ...(last_seen ? { last_seen } : {}) });

test('rows written: alive agents only, again when their poll state changed or their row is old, not at every period', () => {
  const agents = [local('a', true, 9_000), local('b', false), local('srv', true, undefined, true)];
  const polls = new Map([['a', { polling: true, lastPoll: 9_500 }]]);
  const first = sightingsToWrite(agents, polls, 10_000, new Map(), 3000);
  assert.deepEqual(first.map((r) => [r.agent, r.seenAgoMs, r.polling, r.polledAgoMs, r.builtin]), [['a', 1000, true, 500, false], ['srv', 0, false, null, true]]);
  const written = new Map(first.map((r) => [r.agent, { at: 10_000, polling: r.polling, facts: r.facts }]));
  assert.deepEqual(sightingsToWrite(agents, polls, 11_000, written, 3000), [], 'nothing changed, rows fresh');
  const moved = [{ ...agents[0]!, intranet_address: '10.0.0.7' }, ...agents.slice(1)];
  assert.deepEqual(sightingsToWrite(moved, polls, 11_000, written, 3000).map((r) => [r.agent, r.intranet]), [['a', '10.0.0.7']], 'its address changed');
  const stopped = new Map([['a', { polling: false, lastPoll: 11_500 }]]);
  assert.deepEqual(sightingsToWrite(agents, stopped, 12_000, written, 3000).map((r) => [r.agent, r.polling]), [['a', false]], 'its poll ended');
  assert.deepEqual(sightingsToWrite(agents, polls, 13_000, written, 3000).map((r) => r.agent), ['a', 'srv'], 'rows as old as the refresh');
});

const row = (o: Partial<SightingRead>): SightingRead => ({
  agent: 'x', server: 's1', written_ago: 0, seen_ago: 0, polled_at: null, polling: false, region: 'eu', labels: {}, builtin: false, intranet: null, public: null, version: null, now: 100_000, ...o,
});

test('judged on the database clock: alive while some server wrote it recently, polling if such a row says so, the latest poll of any', () => {
  const j = judgeSightings([
    row({ server: 's1', written_ago: 50_000, polling: true, polled_at: 40_000, region: 'old' }),
    row({ server: 's2', written_ago: 1000, polling: false, polled_at: 20_000, region: 'new', labels: { k: 'v' } }),
    row({ agent: 'gone', written_ago: 30_000, polling: true, builtin: true }),
  ], 10_000);
  assert.deepEqual(j.get('x'), { name: 'x', region: 'new', labels: { k: 'v' }, builtin: false, alive: true, polling: false, lastPoll: 40_000, seenAgo: 0, server: 's1' });
  assert.deepEqual(j.get('gone'), { name: 'gone', region: 'eu', labels: {}, builtin: true, alive: false, polling: false, lastPoll: 0, seenAgo: 0, server: 's1' });
});

test('this server\'s own view over the cluster\'s: alive here is alive, polling here polls, configured but never seen is known and down', () => {
  const shared = judgeSightings([row({ agent: 'elsewhere', region: 'far' }), row({ agent: 'here', written_ago: 99_000 })], 10_000);
  const m = mergeAgents([local('here', true, 1), local('elsewhere', false), local('never', false)], new Map([['here', { polling: true, lastPoll: 9_000 }]]), shared, 10_000, 100_000);
  assert.deepEqual(m.get('here'), { name: 'here', region: 'eu', labels: {}, builtin: false, alive: true, polling: true, lastPoll: 99_000, seenAgo: 0, server: 's1' });
  assert.equal(m.get('elsewhere')!.alive, true);
  assert.equal(m.get('elsewhere')!.region, 'far', 'the region its server saw');
  assert.deepEqual(m.get('never'), { name: 'never', region: 'eu', labels: {}, builtin: false, alive: false, polling: false, lastPoll: 0 });
  assert.equal(m.has('nobody'), false);
});

const info = (name: string, alive: boolean, o: Partial<AgentInfo> = {}): AgentInfo => ({ name, region: 'eu', labels: {}, addresses: [], alive, builtin: false, ...o });

test('the cluster\'s view: alive here talks to this server; alive elsewhere takes that server\'s facts; down everywhere stays down, last seen by any', () => {
  const shared = judgeSightings([
    row({ agent: 'far', server: 's2', seen_ago: 500, region: 'us', labels: { k: 'v' }, intranet: '10.0.0.2', public: '192.0.2.2', version: '1.2.3' }),
    row({ agent: 'far', server: 's3', seen_ago: 40_000, written_ago: 30_000, region: 'stale' }),
    row({ agent: 'here', server: 's2', seen_ago: 9_000 }),
    row({ agent: 'gone', server: 's2', seen_ago: 60_000, written_ago: 50_000 }),
    row({ agent: 'srv-s2', server: 's2', builtin: true, intranet: '10.0.0.9' }),
  ], 10_000);
  const local = [
    info('srv-s1', true, { builtin: true, last_seen: 99_000 }),
    info('here', true, { last_seen: 99_900, intranet_address: '10.0.0.1', addresses: ['10.0.0.1'] }),
    info('far', false, { display_name: 'Far away', upgrade: { state: 'idle' } as AgentInfo['upgrade'] }),
    info('gone', false, { last_seen: 20_000 }),
    info('never', false),
  ];
  const view = clusterAgentView(local, shared, 's1', 100_000);
  const by = new Map(view.map((a) => [a.name, a]));
  assert.deepEqual(view.map((a) => a.name), ['srv-s1', 'here', 'far', 'gone', 'never', 'srv-s2'], 'own list in order, then the agents only others know');
  assert.equal(by.get('here')!.server, 's1');
  assert.equal(by.get('here')!.intranet_address, '10.0.0.1', 'alive here: its own facts');
  assert.deepEqual(by.get('far'), {
    name: 'far', display_name: 'Far away', region: 'us', labels: { k: 'v' }, addresses: ['10.0.0.2', '192.0.2.2'], intranet_address: '10.0.0.2',
    public_address: '192.0.2.2', version: '1.2.3', last_seen: 99_500, alive: true, builtin: false, server: 's2',
  });
  assert.deepEqual(by.get('gone'), { ...local[3], last_seen: 40_000, server: 's2' }, 'down: last seen by any server');
  assert.deepEqual(by.get('never'), local[4]);
  assert.equal(by.get('srv-s2')!.alive, true);
  assert.equal(by.get('srv-s2')!.intranet_address, '10.0.0.9');
  assert.deepEqual(clusterAgentView(local, undefined, 's1', 0), local, 'no fresh read: the own list');
  assert.equal(local[2]!.alive, false, 'the own list is not changed');
});

test('agent-down and agent-up: told by the agent\'s owner among the live servers, once per change, never for built-in agents', () => {
  const live = ['s1', 's2', 's3'];
  const names = Array.from({ length: 40 }, (_, i) => `a${i}`);
  const view = names.map((n, i) => info(n, i % 2 === 0, i % 4 === 1 ? {} : { last_seen: 1 }));
  const down = new Set(names.filter((_, i) => i % 3 === 0));
  const told = live.map((me) => livenessChanges(view, down, live, me, false));
  const all = told.flat();
  assert.equal(new Set(all.map((c) => c.agent.name)).size, all.length, 'each change told by one server');
  for (const [i, n] of names.entries()) {
    const a = view[i]!;
    const expected = a.alive ? down.has(n) : !down.has(n) && a.last_seen !== undefined;
    const c = all.find((x) => x.agent.name === n);
    assert.equal(c !== undefined, expected, `${n}: alive ${a.alive}, recorded down ${down.has(n)}`);
    if (c) {
      assert.equal(c.down, !a.alive);
      assert.equal(told[live.indexOf(agentOwner(n, live)!)]!.includes(c), true, `${n}: told by its owner`);
    }
  }
  const never = view.filter((a) => !a.alive && a.last_seen === undefined && !down.has(a.name)).map((a) => a.name);
  assert.ok(never.length > 0);
  const afterGrace = live.flatMap((me) => livenessChanges(view, down, live, me, true)).map((c) => c.agent.name);
  for (const n of never) assert.ok(afterGrace.includes(n), `${n}: never heard from, down after the grace`);
  assert.deepEqual(livenessChanges([info('srv', false, { builtin: true, last_seen: 1 })], new Set(), live, agentOwner('srv', live)!, true), []);
  assert.deepEqual(livenessChanges(view, down, [], 's1', true), [], 'no live set: nothing is told');
});

test('judged over the rows kept in memory (absolute times) as over rows read with their ages', () => {
  const reads = [
    row({ server: 's1', written_ago: 50_000, seen_ago: 100, polling: true, polled_at: 40_000, region: 'old', intranet: '10.0.0.1' }),
    row({ server: 's2', written_ago: 1000, seen_ago: 900, polled_at: 20_000, region: 'new', labels: { k: 'v' }, version: '2' }),
    row({ agent: 'gone', written_ago: 30_000, polling: true, builtin: true }),
    row({ agent: 'y', server: 's3', written_ago: 5000, seen_ago: 5000, public: '192.0.2.1' }),
  ];
  const dbNow = 1_000_000;
  const stored = reads.map(({ written_ago, seen_ago, now: _n, ...r }) => ({ ...r, written_at: dbNow - written_ago, seen_at: dbNow - seen_ago }));
  assert.deepEqual(judgeStored(stored, dbNow, 10_000), judgeSightings(reads, 10_000));
});

test('judged as the rule says, over random rows of a few agents (brute force)', () => {
  let seed = 11;
  const rand = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  for (let run = 0; run < 100; run++) {
    const rows = Array.from({ length: 1 + rand(12) }, () => row({
      agent: `a${rand(3)}`, server: `s${rand(4)}`, written_ago: rand(20_000), seen_ago: rand(20_000), polling: rand(2) === 0,
      polled_at: rand(3) ? rand(50_000) : null, region: `r${rand(4)}`, builtin: rand(5) === 0, version: rand(2) ? '1' : null,
    }));
    const judged = judgeSightings(rows, 10_000);
    for (const name of new Set(rows.map((r) => r.agent))) {
      const mine = rows.filter((r) => r.agent === name);
      const fresh = mine.filter((r) => r.written_ago <= 10_000);
      const facts = mine.reduce((a, b) => (b.written_ago < a.written_ago ? b : a));
      const seen = mine.reduce((a, b) => (b.seen_ago < a.seen_ago ? b : a));
      const want = {
        name, region: facts.region, labels: facts.labels, builtin: mine[0]!.builtin, alive: fresh.length > 0, polling: fresh.some((r) => r.polling),
        lastPoll: Math.max(0, ...mine.map((r) => r.polled_at ?? 0)), seenAgo: seen.seen_ago, server: seen.server, ...(facts.version ? { version: facts.version } : {}),
      };
      assert.deepEqual(judged.get(name), want, `run ${run}, agent ${name}`);
    }
  }
});
