import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { makeRound, type Round } from '../probes/round.ts';
import { Outbox } from './outbox.ts';
import { Spool } from './spool.ts';

const round = (i: number): Round => makeRound({ target: `/t${i % 3}`, agent: 'a', probe: 'tcp', time: 1_700_000_000_000 + i * 1000, step: 1 }, { sent: 1, rtts: [1] });
const log = pino({ level: 'silent' });

test('rounds go to the spool and leave it once delivered', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sm-outbox-'));
  const o = new Outbox({ open: () => new Spool(dir), log });
  o.add([round(0), round(1)]);
  const b = o.take(10);
  assert.equal(b.fromMemory, false);
  assert.deepEqual(b.rounds.map((r) => r.time), [round(0).time, round(1).time]);
  assert.equal(o.backlog, 2, 'taken is not delivered');
  o.done(b);
  assert.equal(o.backlog, 0);
  o.close();
});

test('while the spool cannot be written: a bounded memory queue, drops counted; on disk again once it can be', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sm-outbox-'));
  let broken = true;
  const errors: string[] = [];
  const spool = new Spool(dir);
  const realAppend = spool.append.bind(spool);
  // A spool whose writes fail, as on a full disk (the transaction throws, nothing is written).
  spool.append = (rs) => {
    if (broken) throw Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });
    return realAppend(rs);
  };
  const o = new Outbox({ open: () => spool, log: { ...log, error: (_o: unknown, m: string) => errors.push(m), warn() {}, info() {} } as never, memoryLimit: 5 });
  o.add([round(0), round(1), round(2)]);
  o.add([round(3), round(4), round(5), round(6)]);
  assert.equal(o.backlog, 5);
  assert.equal(o.status().dropped, 2);
  assert.equal(o.status().oldest, round(2).time, 'the oldest were dropped');
  assert.equal(errors.filter((m) => /cannot write the spool/.test(m)).length, 1, 'logged once');
  assert.ok(errors.some((m) => /memory queue full; dropped the oldest rounds \(2 so far\)/.test(m)));
  // Delivering from memory works while the disk refuses.
  const b = o.take(2);
  assert.equal(b.fromMemory, true);
  o.done(b);
  assert.equal(o.backlog, 3);
  broken = false;
  assert.equal(o.settle(true), 0);
  assert.equal(spool.backlog, 3);
  assert.deepEqual(o.take(10).rounds.map((r) => r.time), [4, 5, 6].map((i) => round(i).time));
  o.close();
});

test('a spool that cannot even be opened: memory until it can', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sm-outbox-'));
  let opens = 0;
  const o = new Outbox({ open: () => { if (opens++ === 0) throw new Error('cannot open'); return new Spool(dir); }, log });
  o.add([round(0)]);
  assert.equal(o.durable, undefined);
  assert.equal(o.take(5).fromMemory, true);
  o.close(); // closing tries once more: the open succeeds and the round is on disk
  const s = new Spool(dir);
  assert.equal(s.backlog, 1);
  s.close();
});
