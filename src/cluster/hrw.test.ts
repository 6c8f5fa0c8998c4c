import { test } from 'node:test';
import assert from 'node:assert/strict';
import { agentOwner, ownerOf, placementKey, seriesKey, seriesOwner } from './hrw.ts';

const keys = Array.from({ length: 6000 }, (_, i) => seriesKey(`/g${i % 97}/t${i}`, `agent-${i % 31}`));
const owners = (servers: string[]) => new Map(keys.map((k) => [k, ownerOf(k, servers)!]));

test('no server, no owner; one server owns everything; the answer does not depend on the order of the list', () => {
  assert.equal(ownerOf(keys[0]!, []), undefined);
  assert.ok(keys.every((k) => ownerOf(k, ['s1']) === 's1'));
  const a = owners(['s1', 's2', 's3']);
  const b = owners(['s3', 's1', 's2']);
  assert.deepEqual([...a], [...b]);
});

test('series split evenly: each of 3 servers owns a third within 5 %', () => {
  const count = new Map<string, number>();
  for (const o of owners(['s1', 's2', 's3']).values()) count.set(o, (count.get(o) ?? 0) + 1);
  assert.deepEqual([...count.keys()].sort(), ['s1', 's2', 's3']);
  for (const [s, n] of count) assert.ok(Math.abs(n / keys.length - 1 / 3) < 0.05, `${s}: ${n} of ${keys.length}`);
});

test('a server leaving moves only its own series, spread over the others', () => {
  const before = owners(['s1', 's2', 's3']);
  const after = owners(['s1', 's3']);
  let moved = 0;
  const to = new Map<string, number>();
  for (const [k, o] of before) {
    if (o === 's2') {
      moved++;
      to.set(after.get(k)!, (to.get(after.get(k)!) ?? 0) + 1);
    } else assert.equal(after.get(k), o, 'a series of a server that stayed keeps its owner');
  }
  assert.ok(moved > 0);
  for (const s of ['s1', 's3']) assert.ok((to.get(s) ?? 0) / moved > 0.4, `${s} takes about half of s2's series: ${to.get(s)} of ${moved}`);
});

test('a server joining takes about 1/N of the series, only from the others, and no series moves between the others', () => {
  const before = owners(['s1', 's2', 's3']);
  const after = owners(['s1', 's2', 's3', 's4']);
  let taken = 0;
  for (const [k, o] of before) {
    const n = after.get(k)!;
    if (n !== o) {
      assert.equal(n, 's4', 'a series that moves goes to the new server');
      taken++;
    }
  }
  assert.ok(Math.abs(taken / keys.length - 0.25) < 0.05, `s4 took ${taken} of ${keys.length}`);
});

test('series are placed by their agent: all of an agent\'s series on one server; a target evaluated whole by its target', () => {
  const live = ['s1', 's2', 's3'];
  const byAgent = new Map<string, Set<string>>();
  for (const k of keys) {
    const agent = k.split('\u0000')[1]!;
    assert.equal(placementKey(k), `agent\u0000${agent}`);
    if (!byAgent.has(agent)) byAgent.set(agent, new Set());
    byAgent.get(agent)!.add(seriesOwner(k, live)!);
  }
  for (const [agent, servers] of byAgent) {
    assert.equal(servers.size, 1, `${agent}'s series on one server`);
    assert.equal([...servers][0], agentOwner(agent, live));
  }
  assert.equal(new Set([...byAgent.keys()].map((a) => agentOwner(a, live))).size, 3, '31 agents spread over the three servers');
  const whole = seriesKey('/g1/t1', '*');
  assert.equal(placementKey(whole), 'target\u0000/g1/t1');
  assert.equal(seriesOwner(whole, live), ownerOf('target\u0000/g1/t1', live));
  // an agent named like a target path is still placed as an agent
  assert.equal(placementKey(seriesKey('/x', '/g1/t1')), 'agent\u0000/g1/t1');
});
