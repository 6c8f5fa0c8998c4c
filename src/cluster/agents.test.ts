import { test } from 'node:test';
import assert from 'node:assert/strict';
import { judgeSightings, mergeAgents, sightingsToWrite, type LocalAgent } from './agents.ts';
import type { SightingRead } from './tasks-pg.ts';

const local = (name: string, alive: boolean, last_seen?: number, builtin = false): LocalAgent => ({ name, region: 'eu', labels: {}, alive, builtin, ...(last_seen ? { last_seen } : {}) });

test('rows written: alive agents only, again when their poll state changed or their row is old, not at every period', () => {
  const agents = [local('a', true, 9_000), local('b', false), local('srv', true, undefined, true)];
  const polls = new Map([['a', { polling: true, lastPoll: 9_500 }]]);
  const first = sightingsToWrite(agents, polls, 10_000, new Map(), 3000);
  assert.deepEqual(first.map((r) => [r.agent, r.seenAgoMs, r.polling, r.polledAgoMs, r.builtin]), [['a', 1000, true, 500, false], ['srv', 0, false, null, true]]);
  const written = new Map(first.map((r) => [r.agent, { at: 10_000, polling: r.polling }]));
  assert.deepEqual(sightingsToWrite(agents, polls, 11_000, written, 3000), [], 'nothing changed, rows fresh');
  const stopped = new Map([['a', { polling: false, lastPoll: 11_500 }]]);
  assert.deepEqual(sightingsToWrite(agents, stopped, 12_000, written, 3000).map((r) => [r.agent, r.polling]), [['a', false]], 'its poll ended');
  assert.deepEqual(sightingsToWrite(agents, polls, 13_000, written, 3000).map((r) => r.agent), ['a', 'srv'], 'rows as old as the refresh');
});

const row = (o: Partial<SightingRead>): SightingRead => ({
  agent: 'x', server: 's1', written_ago: 0, seen_ago: 0, polled_at: null, polling: false, region: 'eu', labels: {}, builtin: false, now: 100_000, ...o,
});

test('judged on the database clock: alive while some server wrote it recently, polling if such a row says so, the latest poll of any', () => {
  const j = judgeSightings([
    row({ server: 's1', written_ago: 50_000, polling: true, polled_at: 40_000, region: 'old' }),
    row({ server: 's2', written_ago: 1000, polling: false, polled_at: 20_000, region: 'new', labels: { k: 'v' } }),
    row({ agent: 'gone', written_ago: 30_000, polling: true, builtin: true }),
  ], 10_000);
  assert.deepEqual(j.get('x'), { name: 'x', region: 'new', labels: { k: 'v' }, builtin: false, alive: true, polling: false, lastPoll: 40_000 });
  assert.deepEqual(j.get('gone'), { name: 'gone', region: 'eu', labels: {}, builtin: true, alive: false, polling: false, lastPoll: 0 });
});

test('this server\'s own view over the cluster\'s: alive here is alive, polling here polls, configured but never seen is known and down', () => {
  const shared = judgeSightings([row({ agent: 'elsewhere', region: 'far' }), row({ agent: 'here', written_ago: 99_000 })], 10_000);
  const m = mergeAgents([local('here', true, 1), local('elsewhere', false), local('never', false)], new Map([['here', { polling: true, lastPoll: 9_000 }]]), shared, 10_000, 100_000);
  assert.deepEqual(m.get('here'), { name: 'here', region: 'eu', labels: {}, builtin: false, alive: true, polling: true, lastPoll: 99_000 });
  assert.equal(m.get('elsewhere')!.alive, true);
  assert.equal(m.get('elsewhere')!.region, 'far', 'the region its server saw');
  assert.deepEqual(m.get('never'), { name: 'never', region: 'eu', labels: {}, builtin: false, alive: false, polling: false, lastPoll: 0 });
  assert.equal(m.has('nobody'), false);
});
