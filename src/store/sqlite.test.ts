import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { StoreConfig } from '../config/schema.ts';
import { SmokemeshError, UnavailableError } from '../errors.ts';
import { makeRound, type Round } from '../probes/round.ts';
import { storeContract } from './store-contract.ts';
import { DB_FILE, openStore, type SqliteStore } from './index.ts';
import { readBuckets, statementCache } from './tier-rows.ts';
import { tiersOf } from './tiers.ts';
import { SMOKE_QUANTILES } from './types.ts';

const H = 3_600_000;
const cfg: StoreConfig = {
  raw_days: 14,
  tiers: [{ bucket: 300, keep_days: 90 }, { bucket: 3600, keep_days: 730 }, { bucket: 86400, keep_days: 3650 }],
  synchronous: 'full',
};

function tempDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'smokemesh-store-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function round(target: string, agent: string, time: number, rtts: number[], sent = 20, extra: Partial<Round> = {}): Round {
  return { ...makeRound({ target, agent, probe: 'icmp', time, step: 60 }, { sent, rtts }), ...extra };
}

/** A day of rounds at 60 s, RTTs around `base`, `lost` pings lost per round. */
function day(target: string, agent: string, start: number, base: number, lost = 0): Round[] {
  return Array.from({ length: 1440 }, (_, i) => round(target, agent, start + i * 60_000,
    Array.from({ length: 20 - lost }, (_, k) => base + k * 0.1 + (i % 7) * 0.01)));
}

test('rounds are stored once; rollups count each once whatever the order', (t) => {
  const dir = tempDir(t);
  const now = Date.UTC(2025, 0, 10);
  const a = openStore(join(dir, 'a'), cfg, undefined, { now: () => now, timers: false });
  const b = openStore(join(dir, 'b'), cfg, undefined, { now: () => now, timers: false });
  t.after(() => { a.close(); b.close(); });
  const rs = day('/G/h', 'x', now - 30 * H, 20, 2);
  a.write(rs);
  // Reversed, in odd batches, every round twice: same history.
  const rev = [...rs].reverse();
  for (let i = 0; i < rev.length; i += 97) b.write(rev.slice(i, i + 97));
  b.write(rs.slice(100, 900));
  assert.equal(a.stats().rounds_written, 1440);
  assert.equal(b.stats().rounds_written, 1440);
  assert.equal(b.stats().duplicates, 800);
  for (const points of [2000, 50, 3]) {
    const q = { target: '/G/h', agent: 'x', from: now - 30 * H, to: now, points };
    const ra = a.series(q);
    assert.deepEqual(b.series(q), ra);
    assert.ok(ra.points.length <= points && ra.points.length > 0, `${ra.points.length} points`);
    assert.equal(ra.points.reduce((s, p) => s + p.rounds, 0), 1440, `tier ${ra.tier}`);
    assert.equal(ra.points.reduce((s, p) => s + p.lost, 0), 2880);
  }
});

test('step or pings changes keep the history; rounds in bad shape or out of retention are refused', (t) => {
  const now = Date.UTC(2025, 0, 10);
  const warnings: string[] = [];
  const s = openStore(tempDir(t), cfg, { info() {}, warn: (m) => warnings.push(m), error() {} }, { now: () => now, timers: false });
  t.after(() => s.close());
  s.write([round('/G/h', 'x', now - 2 * H, [5, 6])]);
  s.write([{ ...round('/G/h', 'x', now - H, [5, 6, 7], 5), step: 300 }]);
  const res = s.write([
    round('/G/h', 'x', now - 15 * 24 * H, [5]),
    round('/G/h', 'x', now + 2 * 24 * H, [5]),
    { ...round('/G/h', 'x', now - 10, [5]), rtts: [6, 5] },
    { ...round('/G/h', 'x', now - 20, [5]), time: Number.NaN },
    null as unknown as Round,
    round('/G/h', 'x', now - 30, [5]),
  ]);
  assert.equal(s.stats().refused, 5);
  assert.equal(res.stored, 1);
  assert.deepEqual(res.refused.map((r) => [r.index, r.field]), [[0, 'time'], [1, 'time'], [2, 'rtts.1'], [3, 'time'], [4, '']]);
  assert.match(res.refused[0]!.message, /older than the store keeps raw rounds \(store\.raw_days = 14\)/);
  assert.match(res.refused[1]!.message, /in the future/);
  assert.ok(warnings.some((w) => w.includes('older than the store keeps raw rounds') && w.includes('/G/h')), warnings.join('\n'));
  // The same function answers Store.check.
  assert.equal(s.check(round('/G/h', 'x', now - 15 * 24 * H, [5]))?.field, 'time');
  assert.equal(s.check(round('/G/h', 'x', now - 40, [5])), undefined);
  const pts = s.series({ target: '/G/h', agent: 'x', from: now - 3 * H, to: now }).points;
  assert.deepEqual(pts.map((p) => p.sent), [20, 5, 20]);
  assert.equal(s.latest()[0]!.step, 60);
  assert.equal(s.list()[0]!.first, now - 2 * H);
});

test('prune and rename move or remove whole subtrees, for every agent', (t) => {
  const now = Date.UTC(2025, 0, 10);
  const dir = tempDir(t);
  const s = openStore(dir, cfg, undefined, { now: () => now, timers: false });
  t.after(() => s.close());
  for (const target of ['/G/a', '/G/a/deep', '/G/ab', '/H/c']) {
    for (const agent of ['x', 'y']) s.write([round(target, agent, now - H, [10]), round(target, agent, now - 2 * H, [11])]);
  }
  assert.equal(s.rename('/G/a', '/K/a'), 4);
  assert.deepEqual([...new Set(s.list().map((x) => x.target))].sort(), ['/G/ab', '/H/c', '/K/a', '/K/a/deep']);
  const moved = s.series({ target: '/K/a/deep', agent: 'y', from: now - 3 * H, to: now, points: 1 });
  assert.equal(moved.points[0]!.rounds, 2);
  // Writing under the new name continues the same series.
  s.write([round('/K/a', 'x', now - 30 * 60_000, [12])]);
  assert.equal(s.series({ target: '/K/a', agent: 'x', from: now - 3 * H, to: now }).points.length, 3);
  // Rename onto a target with its own history merges them.
  s.write([round('/Z', 'x', now - 10 * 60_000, [40])]);
  assert.equal(s.rename('/K/a', '/Z'), 4);
  const merged = s.series({ target: '/Z', agent: 'x', from: now - 3 * H, to: now, points: 1 });
  assert.equal(merged.points[0]!.rounds, 4);
  assert.equal(s.series({ target: '/Z', agent: 'x', from: now - 3 * H, to: now }).points.length, 4);
  assert.throws(() => s.rename('/Z', '/Z/sub'), /within the source/);
  assert.throws(() => s.prune(['G']), (e: unknown) => e instanceof SmokemeshError && e.code === 'SMOKEMESH_E_USAGE');
  assert.equal(s.prune(['/G', '/H/c']), 4);
  assert.deepEqual([...new Set(s.list().map((x) => x.target))].sort(), ['/Z', '/Z/deep']);
  // Nothing of the pruned series is left behind.
  const db = new Database(join(dir, DB_FILE), { readonly: true });
  t.after(() => db.close());
  const ids = (db.prepare('SELECT id FROM series').all() as Array<{ id: number }>).map((r) => r.id);
  for (const table of ['raw', 'rollup_300', 'rollup_3600', 'rollup_86400', 'pack_300', 'pack_3600', 'pack_86400']) {
    const orphans = db.prepare(`SELECT count(*) AS n FROM ${table} WHERE series NOT IN (${ids.join(',')})`).get() as { n: number };
    assert.equal(orphans.n, 0, table);
  }
});

test('retention deletes expired raw rounds and buckets and seals old buckets, history stays queryable', (t) => {
  let now = Date.UTC(2025, 0, 1);
  const c: StoreConfig = { ...cfg, raw_days: 1, tiers: [{ bucket: 3600, keep_days: 3 }, { bucket: 86400, keep_days: 30 }] };
  const dir = tempDir(t);
  const s = openStore(dir, c, undefined, { now: () => now, timers: false });
  t.after(() => s.close());
  const start = now;
  for (let d = 0; d < 5; d++) {
    now = start + (d + 1) * 24 * H;
    s.write(day('/G/h', 'x', start + d * 24 * H, 10 + d));
    while (s.maintain(5)) { /* until the pass is done */ }
  }
  const db = new Database(join(dir, DB_FILE), { readonly: true });
  t.after(() => db.close());
  const count = (sql: string) => (db.prepare(sql).get() as { n: number }).n;
  assert.equal(count(`SELECT count(*) AS n FROM raw WHERE time < ${now - 24 * H}`), 0);
  assert.notEqual(count('SELECT count(*) AS n FROM raw'), 0);
  const [hours, days] = tiersOf(c).map((tier) => readBuckets(statementCache(db), tier, null));
  // Open buckets go at their tier's retention, packed ones with their pack (64 buckets per pack for 1 h).
  const hourCut = Math.floor((now - 3 * 24 * H) / 3600e3);
  assert.equal(hours!.filter((r) => r.b < hourCut && !r.packed).length, 0);
  assert.equal(hours!.filter((r) => r.b < Math.floor(hourCut / 64) * 64).length, 0);
  assert.ok(hours!.some((r) => r.packed) && hours!.some((r) => !r.packed));
  // Sealed buckets (quantiles, no histogram) are packed; the open one is a row.
  assert.equal(days!.length, 5);
  assert.deepEqual(days!.map((r) => r.packed), [true, true, true, true, false]);
  assert.ok(days!.every((r) => r.packed === (r.sketch === null && r.q !== null)));
  assert.equal(count('SELECT count(*) AS n FROM rollup_86400'), 1);
  const month = s.series({ target: '/G/h', agent: 'x', from: start, to: now });
  assert.equal(month.tier, '1d');
  assert.deepEqual(month.points.map((p) => p.rounds), [1440, 1440, 1440, 1440, 1440]);
  assert.deepEqual(month.points.map((p) => p.smoke.length), [11, 11, 11, 11, 11]);
  assert.ok(month.points[0]!.median! < month.points[4]!.median!, 'medians follow the data');
});

test('retention hands free pages back to the file system: no growth once retention is reached, a prune shrinks the file', (t) => {
  let now = Date.UTC(2025, 0, 1);
  const c: StoreConfig = { ...cfg, raw_days: 1, tiers: [{ bucket: 3600, keep_days: 2 }], synchronous: 'normal' };
  const dir = tempDir(t);
  const s = openStore(dir, c, undefined, { now: () => now, timers: false });
  t.after(() => s.close());
  const db = new Database(join(dir, DB_FILE), { readonly: true });
  t.after(() => db.close());
  const pages = () => ({ total: db.pragma('page_count', { simple: true }) as number, free: db.pragma('freelist_count', { simple: true }) as number });
  const reserve = () => Math.max(64, pages().total / 100);
  assert.equal(db.pragma('auto_vacuum', { simple: true }), 2, 'a new file is in incremental auto-vacuum');
  const start = now;
  const sizes: number[] = [];
  for (let d = 0; d < 7; d++) {
    now = start + (d + 1) * 24 * H;
    for (let k = 0; k < 20; k++) s.write(day(`/G/h${k}`, 'x', start + d * 24 * H, 10 + k).filter((_, i) => i % 6 === 0));
    while (s.maintain(50)) { /* until the pass is done */ }
    sizes.push(pages().total);
    assert.ok(pages().free <= reserve(), `free pages ${pages().free} of ${pages().total} on day ${d}`);
  }
  // Retention is reached after day 3 (2 days of hours, 1 day raw): from then on the file holds its size.
  assert.ok(Math.max(...sizes.slice(4)) <= sizes[3]! + 64, `pages per day: ${sizes.join(' ')}`);
  const full = pages().total;
  assert.equal(s.prune(Array.from({ length: 15 }, (_, k) => `/G/h${k}`)), 15);
  while (s.maintain(50)) { /* until the pass is done */ }
  assert.ok(pages().free <= reserve(), `free pages ${pages().free} of ${pages().total} after prune`);
  // A quarter of the data is left, plus at most the reserve of free pages.
  assert.ok(pages().total <= full * 0.25 + 64, `${pages().total} pages after pruning 15 of 20 targets, ${full} before`);
});

test('a file from before incremental vacuum is converted once at open, history intact', (t) => {
  const dir = tempDir(t);
  const now = Date.UTC(2025, 0, 10);
  const a = openStore(dir, cfg, undefined, { now: () => now, timers: false });
  a.write(day('/G/h', 'x', now - 30 * H, 20, 2));
  const before = a.series({ target: '/G/h', agent: 'x', from: now - 30 * H, to: now });
  a.close();
  const old = new Database(join(dir, DB_FILE));
  old.pragma('auto_vacuum = NONE');
  old.exec('VACUUM');
  assert.equal(old.pragma('auto_vacuum', { simple: true }), 0);
  old.close();
  const logged: string[] = [];
  const log = { info: (m: string) => logged.push(m), warn: (m: string) => logged.push(m), error: (m: string) => logged.push(m) };
  const b = openStore(dir, cfg, log, { now: () => now, timers: false });
  t.after(() => b.close());
  assert.ok(logged.some((m) => /converting .*smokemesh\.db .* to incremental vacuum/.test(m)), logged.join('\n'));
  assert.ok(logged.some((m) => /converted in/.test(m)), logged.join('\n'));
  assert.deepEqual(b.series({ target: '/G/h', agent: 'x', from: now - 30 * H, to: now }), before);
  const db = new Database(join(dir, DB_FILE), { readonly: true });
  t.after(() => db.close());
  assert.equal(db.pragma('auto_vacuum', { simple: true }), 2);
});

test('a corrupt file or a newer schema is a clear error naming the file', (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, DB_FILE), Buffer.alloc(8192, 0x5a));
  assert.throws(() => openStore(dir, cfg), (e: unknown) => e instanceof SmokemeshError && e.code === 'SMOKEMESH_E_STORE'
    && e.message.includes(join(dir, DB_FILE)) && /not a database|damaged/.test(e.message));
  const dir2 = tempDir(t);
  openStore(dir2, cfg, undefined, { timers: false }).close();
  const db = new Database(join(dir2, DB_FILE));
  db.pragma('user_version = 99');
  db.close();
  assert.throws(() => openStore(dir2, cfg), /newer than this smokemesh/);
});

test('a locked database: write throws SMOKEMESH_E_UNAVAILABLE, commits nothing, fails fast, then commits again', async (t) => {
  const dir = tempDir(t);
  const now = Date.now();
  const errors: string[] = [];
  const s: SqliteStore = openStore(dir, cfg, { info() {}, warn() {}, error: (m) => errors.push(m) }, { busyTimeoutMs: 10 });
  t.after(() => s.close());
  assert.equal(s.write([round('/G/h', 'x', now - 10 * 60_000, [10])]).stored, 1);
  const other = new Database(join(dir, DB_FILE));
  t.after(() => other.close());
  other.exec('BEGIN EXCLUSIVE');
  const unavailable = (e: unknown) => e instanceof UnavailableError && e.code === 'SMOKEMESH_E_UNAVAILABLE' && e.retryAfterMs > 0
    && /smokemesh\.db: cannot commit: .*(locked|busy)/i.test(e.message) && /nothing of the batch was stored/.test(e.message);
  assert.throws(() => s.write([round('/G/h', 'x', now - 5 * 60_000, [11]), round('/G/h', 'y', now - 5 * 60_000, [11])]), unavailable);
  // Within the backoff the next write fails at once, without trying the file again.
  assert.throws(() => s.write([round('/G/h', 'x', now - 4 * 60_000, [12])]), unavailable);
  assert.equal(s.stats().unavailable, true);
  assert.equal(s.stats().write_failures, 2);
  assert.match(s.stats().last_error ?? '', /SMOKEMESH_E_UNAVAILABLE: .*smokemesh\.db/);
  assert.equal(errors.length, 1, 'logged once, not per write');
  other.exec('COMMIT');
  assert.equal(s.series({ target: '/G/h', agent: 'x', from: now - H, to: now }).points.length, 1, 'nothing of the failed batches was stored');
  // The caller retries (as agents do) once the backoff has passed.
  let res: ReturnType<SqliteStore['write']> | undefined;
  await until(() => {
    try {
      res = s.write([round('/G/h', 'x', now - 5 * 60_000, [11]), round('/G/h', 'x', now - 4 * 60_000, [12]), round('/G/h', 'x', now - 10 * 60_000, [10])]);
      return true;
    } catch (e) {
      if (!(e instanceof UnavailableError)) throw e;
      return false;
    }
  });
  assert.deepEqual(res, { stored: 2, duplicates: [2], refused: [] });
  assert.equal(s.stats().unavailable, false);
  assert.equal(s.stats().last_error, undefined);
  assert.equal(s.series({ target: '/G/h', agent: 'x', from: now - H, to: now }).points.length, 3);
  assert.equal((other.pragma('integrity_check', { simple: true })), 'ok');
});

test('a batch SQLite fails on for another reason: the rounds it fails on are refused, the rest committed in one transaction', (t) => {
  const dir = tempDir(t);
  const now = Date.now();
  const s: SqliteStore = openStore(dir, cfg, undefined, { timers: false });
  t.after(() => s.close());
  const poison = now - 7 * 60_000;
  // A real SQLite failure that is neither storage nor a bad round, injected by another connection.
  const other = new Database(join(dir, DB_FILE));
  other.exec(`CREATE TRIGGER poison BEFORE INSERT ON raw WHEN NEW.time = ${poison} BEGIN SELECT RAISE(ABORT, 'poisoned row'); END`);
  other.close();
  const res = s.write([round('/G/h', 'x', now - 8 * 60_000, [1]), round('/G/h', 'x', poison, [2]), round('/G/h', 'x', now - 6 * 60_000, [3])]);
  assert.equal(res.stored, 2);
  assert.deepEqual(res.refused.map((r) => r.index), [1]);
  assert.match(res.refused[0]!.message, /poisoned row/);
  const pts = s.series({ target: '/G/h', agent: 'x', from: now - H, to: now }).points;
  assert.deepEqual(pts.map((p) => p.time), [now - 8 * 60_000, now - 6 * 60_000]);
  const db = new Database(join(dir, DB_FILE), { readonly: true });
  t.after(() => db.close());
  assert.equal((db.prepare('SELECT sum(rounds) AS n FROM rollup_300').get() as { n: number }).n, 2, 'the rollups count exactly the stored rounds');
});

/** Waits for a condition, polling, at most `ms`. */
export async function until(cond: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}

// The store contract's suite, shared with the VictoriaMetrics backend (victoriametrics.test.ts).
storeContract({
  name: 'sqlite',
  open: async (t, c, now, log) => {
    const store = openStore(tempDir(t), c, log, { now, timers: false });
    t.after(() => store.close());
    return { store, settle: async () => {} };
  },
});

test('open buckets keep their quantiles beside the histogram; summaries read them, or the histogram of rows written without them', (t) => {
  const dir = tempDir(t);
  const now = Date.UTC(2025, 0, 10);
  const s = openStore(dir, cfg, undefined, { now: () => now, timers: false });
  t.after(() => s.close());
  const rs = day('/G/h', 'x', now - 24 * H, 10, 2);
  s.write(rs.slice(0, 700));
  s.write(rs.slice(700));
  const db = new Database(join(dir, DB_FILE));
  t.after(() => db.close());
  const count = (sql: string) => (db.prepare(sql).get() as { n: number }).n;
  for (const table of ['rollup_300', 'rollup_3600', 'rollup_86400']) {
    assert.notEqual(count(`SELECT count(*) AS n FROM ${table} WHERE sketch IS NOT NULL`), 0, table);
    assert.equal(count(`SELECT count(*) AS n FROM ${table} WHERE q IS NULL`), 0, table);
  }
  const q = { targets: ['/G/h'], from: now - 24 * H, to: now, points: 300, levels: [0, 0.1, 0.5, 0.9, 1] };
  const kept = s.summaries(q);
  assert.equal(kept[0]!.tier, '5m');
  assert.equal(kept[0]!.time.length, 288);
  // Rows as an older smokemesh left them (histogram only): same summaries, from the histogram.
  db.prepare('UPDATE rollup_300 SET q = NULL WHERE sketch IS NOT NULL').run();
  assert.deepEqual(s.summaries(q), kept);
  // A series that never got a reply: empty buckets, loss 100 %, no median, no smoke.
  s.write(Array.from({ length: 12 }, (_, i) => round('/G/dark', 'x', now - H + i * 60_000, [], 20)));
  const dark = s.summaries({ ...q, targets: ['/G/dark'] })[0]!;
  const darkSeries = s.series({ target: '/G/dark', agent: 'x', from: q.from, to: now, points: 300 });
  assert.equal(dark.tier, '5m');
  assert.deepEqual(dark.time, darkSeries.points.map((p) => p.time));
  assert.deepEqual([new Set(dark.loss_pct), new Set(dark.median), new Set(dark.smoke.map((x) => x.length))], [new Set([100]), new Set([null]), new Set([0])]);
  // The next round rewrites its bucket with the quantiles beside the histogram again.
  s.write([round('/G/h', 'x', now - 30_000, [10, 11])]);
  assert.equal(count('SELECT count(*) AS n FROM rollup_300 WHERE q IS NOT NULL'), 1);
});

test('summaries read every bucket a tier holds, open and packed: a year of history gives what series() gives', (t) => {
  let now = Date.UTC(2025, 0, 1);
  // Raw kept a day, so that retention seals and packs all but the last day or two of every tier.
  const c: StoreConfig = { ...cfg, raw_days: 1, tiers: [{ bucket: 3600, keep_days: 400 }, { bucket: 86400, keep_days: 3650 }] };
  const dir = tempDir(t);
  const s = openStore(dir, c, undefined, { now: () => now, timers: false });
  t.after(() => s.close());
  const start = now;
  const days = 370;
  for (let d = 0; d < days; d++) {
    now = start + (d + 1) * 24 * H;
    // A round every 30 minutes, RTTs moving with the day; a few rounds lose pings, one gets no reply.
    const rounds = Array.from({ length: 48 }, (_, i) => {
      const rtts = i === 7 && d % 5 === 0 ? [] : Array.from({ length: 20 - (i % 11 === 0 ? 3 : 0) }, (_, k) => 10 + (d % 37) + k * 0.3 + (i % 5) * 0.07);
      return round('/G/year', 'x', start + d * 24 * H + i * 30 * 60_000, rtts);
    });
    s.write(rounds);
    s.write(rounds.filter((_, i) => i % 2 === 0).map((r) => ({ ...r, agent: 'y' })));
    while (s.maintain(50)) { /* until the pass is done */ }
  }
  const db = new Database(join(dir, DB_FILE), { readonly: true });
  t.after(() => db.close());
  const tiers = tiersOf(c);
  for (const tier of tiers) {
    const all = readBuckets(statementCache(db), tier, null);
    assert.ok(all.filter((r) => r.packed).length > all.length * 0.9, `${tier.name}: most buckets are packed (${all.length} in all)`);
    assert.ok(all.some((r) => !r.packed), `${tier.name}: the newest are open`);
  }
  const levels = [0, 0.1, 0.5, 0.9, 1];
  const idx = levels.map((l) => SMOKE_QUANTILES.indexOf(l as (typeof SMOKE_QUANTILES)[number]));
  const from = now - 360 * 24 * H;
  const seen: string[] = [];
  for (const points of [400, 10_000, 30]) {
    const sums = s.summaries({ targets: ['/G/year'], from, to: now, points, levels });
    assert.deepEqual(sums.map((x) => x.agent), ['x', 'y']);
    for (const sum of sums) {
      const ser = s.series({ target: '/G/year', agent: sum.agent, from, to: now, points });
      const what = `${sum.agent}, ${points} points, tier ${ser.tier}`;
      assert.ok(ser.points.length > 0.9 * Math.min(points, (360 * 24 * H) / (ser.resolution * 1000)), `${what}: ${ser.points.length} points`);
      assert.equal(sum.tier, ser.tier, what);
      assert.equal(sum.resolution, ser.resolution, what);
      assert.deepEqual(sum.time, ser.points.map((p) => p.time), what);
      assert.deepEqual(sum.loss_pct, ser.points.map((p) => p.loss_pct), what);
      if (ser.resolution === tiers.find((x) => x.name === ser.tier)!.bucket) {
        assert.deepEqual(sum.median, ser.points.map((p) => p.median), what);
        assert.deepEqual(sum.smoke, ser.points.map((p) => (p.median === null ? [] : idx.map((i) => p.smoke[i]))), what);
      } else {
        // Neighbours merged past the coarsest tier: min and max exact.
        sum.smoke.forEach((q, i) => {
          const p = ser.points[i]!;
          assert.deepEqual([q[0], q[q.length - 1]], [p.smoke[0], p.smoke[p.smoke.length - 1]], what);
        });
      }
      seen.push(`${ser.tier}/${ser.resolution}`);
    }
  }
  assert.deepEqual([...new Set(seen)], ['1d/86400', '1h/3600', '1d/1036800']);
});
