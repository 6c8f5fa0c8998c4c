import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { StoreConfig } from '../config/schema.ts';
import { makeRound, type Round } from '../probes/round.ts';
import { addRound, emptyBucket, toRow, type BucketRow } from './bucket.ts';
import { toUs } from './codec.ts';
import { DB_FILE, openStore, type SqliteStore } from './index.ts';
import { roundFromRaw } from './raw.ts';
import { RecentIndex } from './recent.ts';
import type { TopMetric, TopRow } from './types.ts';
import { prng } from '../../test/fixtures/prng.ts';

/**
 * The writer's caches (per-series open buckets, the recent index behind windowed top-N) must
 * give exactly what the file says: checked against the SQL path on the same writes, against a
 * brute-force computation from the rounds, and by rebuilding every open bucket from raw rows.
 */

const MIN = 60_000;
const H = 3_600_000;
const cfg: StoreConfig = {
  raw_days: 14,
  tiers: [{ bucket: 300, keep_days: 90 }, { bucket: 3600, keep_days: 730 }, { bucket: 86400, keep_days: 3650 }],
  synchronous: 'normal',
};
const METRICS: TopMetric[] = ['loss', 'median', 'max', 'stddev'];

function tempDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'smokemesh-recent-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Random rounds: `series` targets × one per minute over [start, end), some lossy, some empty. */
function randomRounds(rand: () => number, series: number, start: number, end: number): Round[] {
  const out: Round[] = [];
  for (let t = start; t < end; t += MIN) {
    for (let s = 0; s < series; s++) {
      const sent = 20;
      const lost = rand() < 0.15 ? Math.floor(rand() * 21) : 0;
      const base = 5 + s * 3;
      const rtts = Array.from({ length: sent - lost }, () => base + rand() * rand() * 40);
      out.push(makeRound({ target: `/g${s % 3}/t${s}`, agent: s % 4 === 0 ? 'b' : 'a', probe: 'icmp', time: t + (s % 7) * 1000, step: 60 }, { sent, rtts }));
    }
  }
  return out;
}

/** Writes in random batch sizes, a share of rounds delayed (late, out of order) and some resent. */
function feed(rand: () => number, stores: SqliteStore[], rounds: Round[]): void {
  const late: Round[] = [];
  let i = 0;
  while (i < rounds.length) {
    const n = 1 + Math.floor(rand() * 40);
    const batch: Round[] = [];
    for (const r of rounds.slice(i, i + n)) (rand() < 0.1 ? late : batch).push(r);
    if (rand() < 0.3 && late.length) batch.push(...late.splice(0, 1 + Math.floor(rand() * late.length)));
    if (rand() < 0.2 && i > 0) batch.push(rounds[Math.floor(rand() * i)]!); // a resend
    for (const s of stores) s.write(batch);
    i += n;
  }
  for (const s of stores) s.write(late);
}

/** Top-N over [from, to] computed from the rounds themselves (raw windows: rounds inside it). */
function bruteRaw(rounds: Round[], metric: TopMetric, from: number, to: number): Map<string, number> {
  const by = new Map<string, Round[]>();
  for (const r of rounds) {
    if (r.time < from || r.time > to) continue;
    const k = `${r.target} ${r.agent}`;
    by.set(k, [...(by.get(k) ?? []), r]);
  }
  const out = new Map<string, number>();
  for (const [k, rs] of by) {
    const us = rs.map((r) => r.rtts.map(toUs));
    const all = us.flat();
    const sent = rs.reduce((a, r) => a + r.sent, 0);
    const lost = rs.reduce((a, r, i) => a + r.sent - us[i]!.length, 0);
    const meds = us.filter((u) => u.length).map((u) => u[Math.floor(u.length / 2)]! / 1000);
    const mean = all.reduce((a, v) => a + v / 1000, 0) / all.length;
    const value = metric === 'loss' ? (100 * lost) / sent
      : metric === 'median' ? (meds.length ? meds.reduce((a, v) => a + v, 0) / meds.length : null)
      : metric === 'max' ? (all.length ? Math.max(...all) / 1000 : null)
      : all.length ? Math.sqrt(all.reduce((a, v) => a + (v / 1000 - mean) ** 2, 0) / all.length) : null;
    if (value !== null) out.set(k, value);
  }
  return out;
}

/** Top-N over whole 5-minute buckets touching [from, to], from buckets rebuilt from the rounds. */
function bruteBuckets(rounds: Round[], metric: TopMetric, from: number, to: number): Map<string, number> {
  const ms = 300_000;
  const buckets = new Map<string, ReturnType<typeof emptyBucket>>();
  for (const r of rounds) {
    const b = Math.floor(r.time / ms);
    if (b < Math.floor(from / ms) || b > Math.floor(to / ms)) continue;
    const k = `${r.target} ${r.agent}|${b}`;
    if (!buckets.has(k)) buckets.set(k, emptyBucket());
    addRound(buckets.get(k)!, r);
  }
  const sums = new Map<string, { sent: number; lost: number; medSum: number; medN: number; max: number; n: number; sum: number; sumsq: number }>();
  for (const [key, state] of buckets) {
    const k = key.split('|')[0]!;
    const row = toRow(state);
    const a = sums.get(k) ?? { sent: 0, lost: 0, medSum: 0, medN: 0, max: -1, n: 0, sum: 0, sumsq: 0 };
    a.sent += row.sent;
    a.lost += row.lost;
    if (row.median !== null) { a.medSum += row.median * row.rounds; a.medN += row.rounds; }
    if (row.max !== null) a.max = Math.max(a.max, row.max);
    a.n += row.n;
    if (row.mean !== null) { a.sum += row.n * row.mean; a.sumsq += row.n * (row.stddev! ** 2 + row.mean ** 2); }
    sums.set(k, a);
  }
  const out = new Map<string, number>();
  for (const [k, a] of sums) {
    const value = metric === 'loss' ? (100 * a.lost) / a.sent
      : metric === 'median' ? (a.medN ? a.medSum / 1000 / a.medN : null)
      : metric === 'max' ? (a.max >= 0 ? a.max / 1000 : null)
      : a.n ? Math.sqrt(Math.max(0, a.sumsq / 1e6 / a.n - (a.sum / 1000 / a.n) ** 2)) : null;
    if (value !== null) out.set(k, value);
  }
  return out;
}

function asMap(rows: TopRow[]): Map<string, number> {
  return new Map(rows.map((r) => [`${r.target} ${r.agent}`, r.value]));
}

function assertClose(got: Map<string, number>, want: Map<string, number>, what: string): void {
  assert.deepEqual([...got.keys()].sort(), [...want.keys()].sort(), `${what}: series`);
  for (const [k, v] of want) assert.ok(Math.abs(got.get(k)! - v) <= 1e-9 * Math.max(1, Math.abs(v)), `${what}: ${k} ${got.get(k)} vs ${v}`);
}

/** Every bucket starting at or after `since` (raw rounds still all there) equals the bucket rebuilt from them. */
function assertRollupsMatchRaw(dir: string, since = 0): void {
  const db = new Database(join(dir, DB_FILE), { readonly: true });
  try {
    const raws = db.prepare('SELECT s.target, s.agent, s.probe, s.id, r.* FROM raw r JOIN series s ON s.id = r.series').all() as Array<{ id: number; target: string; agent: string; probe: string; time: number; step: number; sent: number; rtts: Buffer | null; extra: string | null }>;
    for (const { bucket } of cfg.tiers) {
      const ms = bucket * 1000;
      const want = new Map<string, ReturnType<typeof emptyBucket>>();
      for (const r of raws) {
        if (Math.floor(r.time / ms) * ms < since) continue;
        const k = `${r.id}:${Math.floor(r.time / ms)}`;
        if (!want.has(k)) want.set(k, emptyBucket());
        addRound(want.get(k)!, roundFromRaw(r, r));
      }
      const rows = db.prepare(`SELECT * FROM rollup_${bucket} WHERE b * ? >= ?`).all(ms, since) as Array<BucketRow & { series: number; b: number }>;
      assert.equal(rows.length, want.size, `tier ${bucket}: one bucket per covered (series, bucket)`);
      for (const row of rows) {
        const { series, b, ...stored } = row;
        assert.deepEqual(stored, toRow(want.get(`${series}:${b}`)!), `tier ${bucket} series ${series} bucket ${b}`);
      }
    }
  } finally {
    db.close();
  }
}

test('windowed top-N from memory equals SQLite and a brute-force computation on random data', (t) => {
  const dir = tempDir(t);
  const rand = prng(11);
  const start = Date.UTC(2025, 2, 1, 10);
  let now = start;
  const mem = openStore(join(dir, 'mem'), cfg, undefined, { now: () => now, timers: false });
  const sql = openStore(join(dir, 'sql'), cfg, undefined, { now: () => now, timers: false, recentIndex: false });
  t.after(() => { mem.close(); sql.close(); });
  const all: Round[] = [];
  // Three hours in 20-minute chunks; the first windowed query (after the first hour) loads the index.
  for (let chunk = 0; chunk < 9; chunk++) {
    const rounds = randomRounds(rand, 40, start + chunk * 20 * MIN, start + (chunk + 1) * 20 * MIN);
    now = start + (chunk + 1) * 20 * MIN;
    feed(rand, [mem, sql], rounds);
    all.push(...rounds);
    if (chunk < 3) continue;
    const windows = [
      { from: now - 5 * MIN, to: now }, { from: now - 9 * MIN, to: now - 2 * MIN }, // raw
      { from: now - H, to: now }, { from: now - 100 * MIN, to: now - 30 * MIN }, // 5-minute tier
      { from: now - 3 * H, to: now }, // longer than memory holds: SQLite
    ];
    for (const w of windows) {
      for (const m of METRICS) {
        const a = mem.top(m, 1000, w);
        assert.deepEqual(a, sql.top(m, 1000, w), `chunk ${chunk} ${m} ${JSON.stringify(w)}: memory = SQLite`);
        const brute = w.to - w.from < 10 * MIN ? bruteRaw(all, m, w.from, w.to) : bruteBuckets(all, m, w.from, w.to);
        assertClose(asMap(a), brute, `chunk ${chunk} ${m} ${JSON.stringify(w)}: brute force`);
        assert.deepEqual(mem.top(m, 3, w), a.slice(0, 3), 'top-3 is the head of the ranking');
      }
    }
  }
  assert.ok(mem.top('loss', 5, { from: now - H, to: now }).length === 5);
  assertRollupsMatchRaw(join(dir, 'mem'));
});

test('the caches stay right across late rounds, prune, rename, retention and another process changing the file', (t) => {
  const dir = tempDir(t);
  const rand = prng(5);
  const start = Date.UTC(2025, 5, 1, 6);
  let now = start + 2 * H;
  const short: StoreConfig = { ...cfg, raw_days: 1 };
  const mem = openStore(join(dir, 'mem'), short, undefined, { now: () => now, timers: false });
  const sql = openStore(join(dir, 'sql'), short, undefined, { now: () => now, timers: false, recentIndex: false });
  t.after(() => { mem.close(); sql.close(); });
  const both = (fn: (s: SqliteStore) => void) => { fn(mem); fn(sql); };
  const same = (what: string) => {
    for (const w of [{ from: now - 5 * MIN, to: now }, { from: now - H, to: now }]) {
      for (const m of METRICS) assert.deepEqual(mem.top(m, 100, w), sql.top(m, 100, w), `${what}: ${m} ${JSON.stringify(w)}`);
    }
  };
  feed(rand, [mem, sql], randomRounds(rand, 12, start, now));
  same('written');
  // A late round into a bucket the index already holds, and one into an older bucket.
  const late = [makeRound({ target: '/g0/t0', agent: 'b', probe: 'icmp', time: now - 3 * MIN + 500, step: 60 }, { sent: 20, rtts: [900] }),
    makeRound({ target: '/g1/t1', agent: 'a', probe: 'icmp', time: now - 90 * MIN + 700, step: 60 }, { sent: 20, rtts: [] })];
  both((s) => s.write(late));
  same('late rounds');
  assert.equal(mem.top('max', 1, { from: now - 5 * MIN, to: now })[0]!.target, '/g0/t0');
  both((s) => s.prune(['/g2']));
  same('pruned');
  assert.ok(mem.top('loss', 100, { from: now - H, to: now }).every((r) => !r.target.startsWith('/g2/')));
  both((s) => s.rename('/g0/t3', '/g0/t6')); // onto existing history: merged
  both((s) => s.rename('/g1', '/moved'));
  same('renamed');
  now += 10 * MIN;
  feed(rand, [mem, sql], randomRounds(rand, 12, now - 10 * MIN, now));
  same('written after rename');
  // Another process (the `smokemesh data` CLI) renames under the running writer.
  const other = openStore(join(dir, 'mem'), short, undefined, { now: () => now, timers: false });
  other.rename('/g0/t9', '/elsewhere');
  other.close();
  sql.rename('/g0/t9', '/elsewhere');
  same('renamed by another process');
  // A day and a half later retention deletes raw rounds and seals buckets; writing goes on.
  now += 36 * H;
  both((s) => { while (s.maintain(1000)) { /* whole pass */ } });
  feed(rand, [mem, sql], randomRounds(rand, 12, now - 30 * MIN, now));
  same('after retention');
  assertRollupsMatchRaw(join(dir, 'mem'), now - 24 * H);
});

test('the recent index says exactly what it holds: evictions move its coverage forward', () => {
  const tier = { name: '5m', bucket: 300, ms: 300_000, keepMs: 90 * 24 * H, table: 'rollup_300', packTable: 'pack_300', pack: 288 };
  const now = Date.UTC(2025, 0, 1, 12);
  const idx = new RecentIndex(tier, now);
  const s = { id: 1, target: '/t', agent: 'a' };
  const row = { sent: 20, lost: 0, rounds: 1, median: 1000, max: 2000, n: 20, mean: 1100, stddev: 50 };
  const nowB = Math.floor(now / tier.ms);
  assert.ok(idx.holdsBuckets(nowB - idx.slots + 1) && !idx.holdsBuckets(nowB - idx.slots));
  idx.bucket(s, nowB, row);
  idx.bucket(s, nowB - 3, row);
  assert.deepEqual(idx.bucketAggs(nowB - 3, nowB).map((a) => a.sent), [40]);
  // A bucket a whole ring ahead (a wrong agent clock) evicts nowB: windows reaching it are no longer held.
  idx.bucket(s, nowB + idx.slots, row);
  assert.ok(!idx.holdsBuckets(nowB) && idx.holdsBuckets(nowB + 1));
  // A late bucket whose slot holds a newer one cannot be kept either.
  idx.bucket(s, nowB + 1, row);
  idx.bucket(s, nowB + 1 + idx.slots, row);
  idx.bucket(s, nowB + 1, row);
  assert.ok(!idx.holdsBuckets(nowB + 1) && idx.holdsBuckets(nowB + 2));
  // Raw rounds: older than the span are not kept; the per-series bound evicts the oldest.
  assert.ok(idx.holdsRounds(now - idx.rawSpanMs) && !idx.holdsRounds(now - idx.rawSpanMs - 1));
  for (let i = 0; i < 300; i++) idx.round(s, now - 300 + i, 20, [1000, 2000], now);
  const first = now - 300 + (300 - 256);
  assert.ok(!idx.holdsRounds(first - 1) && idx.holdsRounds(first));
  assert.deepEqual(idx.roundAggs(first, now).map((a) => [a.sent, a.n, a.max, a.time]), [[256 * 20, 512, 2000, now - 1]]);
  // A late round goes to its place (the list stays sorted, so windows cut correctly).
  idx.round(s, first + 10, 20, [5000], now);
  assert.deepEqual(idx.roundAggs(first + 10, first + 10).map((a) => [a.sent, a.n]), [[40, 3]]);
});
