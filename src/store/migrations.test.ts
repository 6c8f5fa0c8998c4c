import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import Database from 'better-sqlite3';
import { makeRound } from '../probes/round.ts';
import { FIXTURE_CFG, FIXTURE_NOW, readsOf, SERIES } from '../../test/fixtures/store-v1/reads.ts';
import { DB_FILE, openStore } from './index.ts';
import { SCHEMA_VERSION } from './migrations.ts';
import { readBuckets, statementCache } from './tier-rows.ts';
import { tiersOf } from './tiers.ts';

const FIXTURE = join(import.meta.dirname, '../../test/fixtures/store-v1');

/** A copy of the schema-1 file made by the code before packs (test/fixtures/store-v1/make.ts). */
function v1Store(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'smokemesh-migrate-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, DB_FILE), gunzipSync(readFileSync(join(FIXTURE, 'smokemesh.db.gz'))), { mode: 0o600 });
  return dir;
}

interface Expected { schema_version: number; reads: Record<string, { sha256: string; count: number; first: unknown; last: unknown }> }

test('a schema-1 file (one row per bucket) migrates to packs, and every read gives what the old code read', (t) => {
  const dir = v1Store(t);
  const expected = JSON.parse(readFileSync(join(FIXTURE, 'expected.json'), 'utf8')) as Expected;
  const before = new Database(join(dir, DB_FILE), { readonly: true });
  assert.equal(before.pragma('user_version', { simple: true }), 1);
  assert.equal(expected.schema_version, 1);
  const sealedBefore = (before.prepare('SELECT count(*) FROM rollup_300 WHERE sketch IS NULL').pluck().get() as number);
  assert.ok(sealedBefore > 1000, `the fixture has sealed rows to pack (${sealedBefore})`);
  before.close();

  const logged: string[] = [];
  const log = { info: (m: string) => logged.push(m), warn: (m: string) => logged.push(m), error: (m: string) => logged.push(m) };
  const store = openStore(dir, FIXTURE_CFG, log, { now: () => FIXTURE_NOW, timers: false });
  t.after(() => store.close());
  const db = new Database(join(dir, DB_FILE), { readonly: true });
  t.after(() => db.close());
  assert.equal(db.pragma('user_version', { simple: true }), SCHEMA_VERSION);
  assert.ok(logged.some((m) => m.includes(`from schema version 1 to ${SCHEMA_VERSION}`)), logged.join('\n'));
  assert.ok(logged.some((m) => /migrated in [\d.]+ s/.test(m)), logged.join('\n'));
  for (const tier of tiersOf(FIXTURE_CFG)) {
    assert.equal(db.prepare(`SELECT count(*) FROM ${tier.table} WHERE sketch IS NULL`).pluck().get(), 0, `${tier.table}: no sealed row left unpacked`);
    assert.ok((db.prepare(`SELECT count(*) FROM ${tier.packTable}`).pluck().get() as number) > 0, `${tier.packTable} holds packs`);
  }
  const reads = readsOf(store);
  assert.deepEqual(Object.keys(reads).sort(), Object.keys(expected.reads).sort());
  for (const [name, v] of Object.entries(reads)) {
    const want = expected.reads[name]!;
    const list = Array.isArray(v) ? v : (v as { points?: unknown[] }).points ?? [v];
    // First and last in full first, so that a difference shows itself; then the digest of the whole read.
    assert.equal(list.length, want.count, name);
    assert.deepEqual(list[0] ?? null, want.first, name);
    assert.deepEqual(list[list.length - 1] ?? null, want.last, name);
    assert.equal(createHash('sha256').update(JSON.stringify(v)).digest('hex'), want.sha256, name);
  }
});

test('a round reaching a sealed bucket (raw_days raised) takes it out of its pack; retention packs it again, counted once', (t) => {
  const dir = v1Store(t);
  const wider = { ...FIXTURE_CFG, raw_days: 5 };
  const [five] = tiersOf(FIXTURE_CFG);
  const late = FIXTURE_NOW - 3 * 86_400_000 + 7_000;
  const b = Math.floor(late / five!.ms);
  let store = openStore(dir, wider, undefined, { now: () => FIXTURE_NOW, timers: false });
  const db = new Database(join(dir, DB_FILE), { readonly: true });
  t.after(() => db.close());
  const id = db.prepare('SELECT id FROM series WHERE target = ? AND agent = ?').pluck().get(SERIES[0].target, SERIES[0].agent) as number;
  const bucketOf = (d: Database.Database) => readBuckets(statementCache(d), five!, id, b, b);
  const [sealed] = bucketOf(db);
  assert.ok(sealed?.packed, 'the bucket 3 days back is sealed in a pack');
  const r = store.write([makeRound({ ...SERIES[0], probe: 'icmp', time: late, step: 60 }, { sent: 20, rtts: [1, 2, 3] })]);
  assert.equal(r.stored, 1);
  const reopened = bucketOf(db);
  assert.equal(reopened.length, 1, 'one copy of the bucket');
  assert.equal(reopened[0]!.packed, false);
  assert.equal(reopened[0]!.rounds, sealed.rounds + 1);
  store.close();
  // Back to the shipped raw_days: the next pass seals it and packs it again.
  store = openStore(dir, FIXTURE_CFG, undefined, { now: () => FIXTURE_NOW, timers: false });
  t.after(() => store.close());
  while (store.maintain(50)) { /* to the end of the pass */ }
  const repacked = bucketOf(db);
  assert.equal(repacked.length, 1);
  assert.equal(repacked[0]!.packed, true);
  assert.equal(repacked[0]!.rounds, sealed.rounds + 1);
  assert.equal(repacked[0]!.min, 1000, 'the late round is in it');
  assert.equal(db.prepare(`SELECT count(*) FROM ${five!.table} WHERE b < ?`).pluck().get(Math.floor((FIXTURE_NOW - 86_400_000) / five!.ms) - 288), 0);
});
