import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeRound, type Round } from '../probes/round.ts';
import { Spool } from './spool.ts';

const round = (i: number): Round => makeRound({ target: `/t${i % 3}`, agent: 'a', probe: 'tcp', time: 1_700_000_000_000 + i * 1000, step: 1 }, { sent: 3, rtts: [1, 2, 3] });

test('rounds survive a reopen and leave only when acknowledged', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sm-spool-'));
  let s = new Spool(dir);
  s.append([round(0), round(1), round(2)]);
  s.close();
  s = new Spool(dir);
  assert.equal(s.status().backlog, 3);
  const batch = s.take(10);
  assert.deepEqual(batch.map((b) => b.round.time), [0, 1, 2].map((i) => round(i).time));
  s.remove([batch[1]!.id]);
  s.close();
  s = new Spool(dir);
  assert.deepEqual(s.take(10).map((b) => b.round.time), [round(0).time, round(2).time]);
  assert.equal(s.status().oldest, round(0).time);
  s.close();
});

test('with a backlog, a batch holds the oldest and the newest rounds; draining keeps order', () => {
  const s = new Spool(mkdtempSync(join(tmpdir(), 'sm-spool-')));
  s.append(Array.from({ length: 20 }, (_, i) => round(i)));
  const b = s.take(6);
  assert.deepEqual(b.map((x) => x.round.time - round(0).time), [0, 1000, 2000, 17000, 18000, 19000]);
  s.remove(b.map((x) => x.id));
  const next = s.take(6);
  assert.deepEqual(next.map((x) => x.round.time - round(0).time), [3000, 4000, 5000, 14000, 15000, 16000]);
  s.close();
});

test('past the quota the oldest rounds go first and are counted across restarts', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sm-spool-'));
  const one = Buffer.byteLength(JSON.stringify(round(0)));
  let s = new Spool(dir, one * 10 + one / 2);
  for (let i = 0; i < 15; i++) s.append([round(i)]);
  assert.equal(s.status().backlog, 10);
  assert.equal(s.status().dropped, 5);
  assert.equal(s.take(1)[0]!.round.time, round(5).time);
  s.close();
  s = new Spool(dir, one * 10 + one / 2);
  assert.equal(s.status().dropped, 5);
  assert.ok(s.status().bytes <= one * 10 + one / 2);
  s.close();
});
