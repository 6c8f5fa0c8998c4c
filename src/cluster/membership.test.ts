import { test } from 'node:test';
import assert from 'node:assert/strict';
import { liveSet, membershipChange, type ServerBeat } from './membership.ts';

const beat = (server_id: string, beat_at: number): ServerBeat => ({ server_id, url: `http://${server_id}`, beat_at, started_at: 0 });

test('live = heartbeats at most dead_after old on the database clock, sorted', () => {
  const rows = [beat('c', 10_000), beat('a', 9_000), beat('b', 3_999), beat('d', 4_000)];
  assert.deepEqual(liveSet(rows, 10_000, 6_000), ['a', 'c', 'd']);
  assert.deepEqual(liveSet(rows, 20_000, 6_000), []);
  assert.deepEqual(liveSet([], 0, 1), []);
});

test('a change names who joined and who left', () => {
  assert.deepEqual(membershipChange(['a', 'b', 'c'], ['a', 'c', 'd']), { joined: ['d'], left: ['b'] });
  assert.deepEqual(membershipChange(['a'], ['a']), { joined: [], left: [] });
  assert.deepEqual(membershipChange([], ['a']), { joined: ['a'], left: [] });
});
