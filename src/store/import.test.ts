import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { makeRound } from '../probes/round.ts';
import { roundOf } from './import.ts';
import { openStore } from './index.ts';
import { readBuckets, statementCache } from './tier-rows.ts';
import { tiersOf } from './tiers.ts';
import type { HistoryInterval } from './types.ts';

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 5, 1, 12, 0, 0);
const CFG = {
  raw_days: 14, synchronous: 'normal' as const, max_pending: 1000,
  tiers: [{ bucket: 300, keep_days: 90 }, { bucket: 3600, keep_days: 730 }, { bucket: 43200, keep_days: 360 }, { bucket: 86400, keep_days: 3650 }],
};

/** SmokePing's default geometry at step 300: 1008 × 5 min, 4320 × 1 h, 720 × 12 h, ending at `end` (s). */
function rrdLike(end: number, lossOf: (t: number) => number): HistoryInterval[] {
  const out: HistoryInterval[] = [];
  for (const [seconds, rows, rounds] of [[300, 1008, 1], [3600, 4320, 12], [43200, 720, 144]] as const) {
    const last = end - (end % seconds);
    for (let i = 0; i < rows; i++) {
      const rowEnd = last - (rows - 1 - i) * seconds;
      const t = (rowEnd - seconds) * 1000;
      const lost = lossOf(t) * (rounds === 1 ? 1 : 0.9);
      const base = 10 + (t / 3_600_000) % 7;
      out.push({ time: t, seconds, rounds, pings: 20, lost, median: lost >= 20 ? null : base + 1.2345, rtts: lost >= 20 ? [] : Array.from({ length: 20 - Math.ceil(lost) }, (_, k) => base + k * 0.25) });
    }
  }
  return out;
}

const TIERS = tiersOf(CFG);

/** The tier's buckets of series 1 (open and packed) by index. */
function bucketsOf(db: Database.Database, bucket: number): Map<number, ReturnType<typeof readBuckets>[number]> {
  return new Map(readBuckets(statementCache(db), TIERS.find((t) => t.bucket === bucket)!, 1).map((r) => [r.b, r]));
}

function tableCounts(file: string): Record<string, number> {
  const db = new Database(file, { readonly: true });
  try {
    const out: Record<string, number> = {};
    for (const t of ['series', 'raw']) out[t] = (db.prepare(`SELECT count(*) AS n FROM ${t}`).get() as { n: number }).n;
    for (const t of TIERS) out[t.table] = readBuckets(statementCache(db), t, null).length;
    return out;
  } finally {
    db.close();
  }
}

function tableDigest(file: string): string {
  const db = new Database(file, { readonly: true });
  try {
    return ['series', 'raw', ...TIERS.flatMap((t) => [t.table, t.packTable])]
      .map((t) => JSON.stringify(db.prepare(`SELECT * FROM ${t} ORDER BY 1, 2`).raw().all(), (_k, v: unknown) => (Buffer.isBuffer(v) ? v.toString('hex') : v))).join('\n');
  } finally {
    db.close();
  }
}

test('imported RRD rows land in the tier of their size (loss and median as given), recent step rows also as raw rounds; a second import writes nothing', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'smokemesh-import-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const store = openStore(dir, CFG, undefined, { timers: false, now: () => NOW });
  const end = NOW / 1000 - 17;
  const intervals = rrdLike(end, (ms) => (Math.floor(ms / 300_000) % 7 === 0 ? 3.2 : 0));
  const r = store.importHistory({ target: '/A/b', agent: 'master', probe: 'icmp', step: 300, intervals });
  // 1008 rows of 5 min are 3.5 days: all within raw_days.
  assert.equal(r.raw, 1008);
  assert.equal(r.buckets['5m'], 1008);
  // The 1 h tier: the 4320 hourly rows, plus the current hour from the 5-minute rows.
  assert.ok(r.buckets['1h']! === 4320 || r.buckets['1h']! === 4321, String(r.buckets['1h']));
  assert.ok(r.buckets['12h']! >= 720 && r.buckets['12h']! <= 721, String(r.buckets['12h']));
  // 360 days of 12 h rows, two per day.
  assert.ok(r.buckets['1d']! >= 360 && r.buckets['1d']! <= 362, String(r.buckets['1d']));
  const counts = tableCounts(store.file);
  const digest = tableDigest(store.file);

  // Every row of every resolution reads back from its own tier with its loss and median.
  const db = new Database(store.file, { readonly: true });
  t.after(() => db.close());
  const tiers = new Map(TIERS.map((t) => [t.bucket, bucketsOf(db, t.bucket)]));
  for (const iv of intervals) {
    const table = `rollup_${iv.seconds}`;
    const row = tiers.get(iv.seconds)!.get(iv.time / (iv.seconds * 1000))!;
    assert.ok(row, `${table} ${iv.time}`);
    assert.equal(row.rounds, iv.rounds);
    assert.equal(row.sent, iv.rounds * 20);
    assert.ok(Math.abs(row.lost - iv.lost * iv.rounds) <= 0.5, `${table}: lost ${row.lost} vs ${iv.lost} × ${iv.rounds}`);
    if (iv.median === null) assert.equal(row.median, null);
    else assert.ok(Math.abs(row.median! / 1000 - iv.median) <= 0.0005 + 1e-9, `${table}: median ${row.median} µs vs ${iv.median} ms`);
  }
  // Old buckets are sealed (quantiles, packed), recent ones open (histogram), as retention would leave them.
  const hours = [...tiers.get(3600)!.values()];
  const old = hours[0]!;
  assert.equal(old.sketch, null);
  assert.ok(old.q);
  assert.ok(old.packed);
  const recent = hours[hours.length - 1]!;
  assert.ok(recent.sketch);
  assert.ok(!recent.packed);

  const again = store.importHistory({ target: '/A/b', agent: 'master', probe: 'icmp', step: 300, intervals });
  assert.deepEqual(again, { raw: 0, buckets: { '5m': 0, '1h': 0, '12h': 0, '1d': 0 }, skipped: intervals.length });
  assert.deepEqual(tableCounts(store.file), counts);
  assert.equal(tableDigest(store.file), digest);

  // The graphs of 30 hours, 10 days and 360 days come from raw, 1 h and 12 h.
  const q = (days: number) => store.series({ target: '/A/b', agent: 'master', from: NOW - days * DAY, to: NOW, points: 1200 });
  assert.equal(q(1.25).tier, 'raw');
  assert.equal(q(10).tier, '1h');
  assert.equal(q(360).tier, '12h');
  assert.ok(q(360).points.length >= 719);
  // A 3-day zoom 20 days back: the 5-minute tier is kept 90 days but holds only 3.5; the 1 h tier answers.
  assert.equal(store.series({ target: '/A/b', agent: 'master', from: NOW - 20 * DAY, to: NOW - 17 * DAY, points: 1200 }).tier, '1h');
  store.close();
});

test('only history from before the series\' first round is imported; stored buckets are never changed', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'smokemesh-import-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const store = openStore(dir, CFG, undefined, { timers: false, now: () => NOW });
  const live = NOW - 2 * 3_600_000;
  store.write([makeRound({ target: '/A/b', agent: 'master', probe: 'icmp', time: live, step: 300 }, { sent: 20, rtts: Array(20).fill(5) })]);
  const db = new Database(store.file, { readonly: true });
  t.after(() => db.close());
  const liveDay = bucketsOf(db, 86400).get(Math.floor(live / DAY));
  assert.ok(liveDay);
  const intervals = rrdLike(NOW / 1000, () => 1);
  const r = store.importHistory({ target: '/A/b', agent: 'master', probe: 'icmp', step: 300, intervals });
  assert.ok(r.skipped > 0 && r.raw > 0);
  // Nothing at or after the live round, and its buckets kept exactly.
  assert.equal((db.prepare('SELECT count(*) AS n FROM raw WHERE time >= ?').get(live) as { n: number }).n, 1);
  assert.deepEqual(bucketsOf(db, 86400).get(Math.floor(live / DAY)), liveDay);
  const s = store.list()[0]!;
  assert.ok(s.first < live - 300 * DAY, 'the series now starts with the imported history');
  assert.equal(s.last, live);
  store.close();
});

test('an interval of one round becomes a round with its median at the median rank and the loss rounded to whole pings', () => {
  const h = { target: '/x', agent: 'a', probe: 'icmp' as const, step: 60 };
  // A mixed RRD row: 2.4 pings lost on average, ranks not quite monotone, median between ranks.
  const r = roundOf(h, { time: 0, seconds: 60, rounds: 1, pings: 5, lost: 2.4, median: 0.0452, rtts: [0.031, 0.0436, 0.0445] });
  assert.equal(r.sent, 5);
  assert.equal(r.loss, 2);
  assert.equal(r.rtts.length, 3);
  assert.equal(r.median, 0.045);
  assert.deepEqual([...r.rtts].sort((a, b) => a - b), r.rtts);
  const none = roundOf(h, { time: 0, seconds: 60, rounds: 1, pings: 5, lost: 5, median: null, rtts: [] });
  assert.equal(none.loss, 5);
  assert.equal(none.median, null);
  // rrdtool averages loss over the row's seconds: 4.6 of 5 lost with a median still received one.
  const nearly = roundOf(h, { time: 0, seconds: 60, rounds: 1, pings: 5, lost: 4.6, median: 0.15, rtts: [0.15] });
  assert.equal(nearly.loss, 4);
  assert.equal(nearly.median, 0.15);
});

test('malformed intervals are skipped, the rest imported', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'smokemesh-import-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const store = openStore(dir, CFG, undefined, { timers: false, now: () => NOW });
  const good: HistoryInterval = { time: NOW - DAY, seconds: 300, rounds: 1, pings: 5, lost: 0, median: 1, rtts: [1, 1, 1, 1, 1] };
  const r = store.importHistory({
    target: '/x', agent: 'a', probe: 'icmp', step: 300,
    intervals: [good, { ...good, time: NOW - 2 * DAY, lost: 9 }, { ...good, time: NOW - 3 * DAY, rtts: [2, 1] }, { ...good, time: NaN }],
  });
  assert.equal(r.raw, 1);
  assert.equal(r.skipped, 3);
  store.close();
});

test('beside a live writer: the import waits for the write lock, a held lock is a clear error, and the writer carries on', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'smokemesh-import-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const server = openStore(dir, CFG, undefined, { timers: false, now: () => NOW });
  const importer = openStore(dir, CFG, undefined, { timers: false, now: () => NOW, busyTimeoutMs: 200 });
  t.after(() => { server.close(); importer.close(); });
  const live = (time: number) => makeRound({ target: '/live', agent: 'master', probe: 'icmp', time, step: 300 }, { sent: 20, rtts: Array(20).fill(3) });
  server.write([live(NOW - 600_000)]);
  const intervals = rrdLike(NOW / 1000, () => 0).filter((iv) => iv.seconds === 3600).slice(-48);

  // Another connection holds the write lock longer than the importer waits: the write
  // contract's storage failure (retry later), naming the lock, and nothing of the series stored.
  const before = tableDigest(importer.file);
  const locker = new Database(join(dir, 'smokemesh.db'));
  locker.exec('BEGIN IMMEDIATE');
  assert.throws(() => importer.importHistory({ target: '/old', agent: 'master', probe: 'icmp', step: 300, intervals }),
    (e: Error & { code?: string }) => e.code === 'SMOKEMESH_E_UNAVAILABLE' && /another process holds a lock/.test(e.message) && /nothing of it was stored/.test(e.message));
  locker.exec('ROLLBACK');
  locker.close();
  assert.equal(tableDigest(importer.file), before);

  assert.equal(importer.importHistory({ target: '/old', agent: 'master', probe: 'icmp', step: 300, intervals }).buckets['1h'], 48);
  // The live writer sees the imported series and goes on writing its own.
  assert.equal(server.write([live(NOW - 300_000)]).stored, 1);
  assert.equal(server.stats().unavailable, false);
  assert.deepEqual(server.list().map((s) => s.target).sort(), ['/live', '/old']);
  assert.equal(server.series({ target: '/live', agent: 'master', from: NOW - 3_600_000, to: NOW }).points.length, 2);
});

test('history the store\'s own validation refuses is not imported: too many pings, a bad path, a step out of range; the rest of the series is', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'smokemesh-import-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const store = openStore(dir, CFG, undefined, { timers: false, now: () => NOW });
  t.after(() => store.close());
  const ok: HistoryInterval = { time: NOW - DAY, seconds: 300, rounds: 1, pings: 5, lost: 0, median: 1, rtts: [1, 1, 1, 1, 1] };
  const huge: HistoryInterval = { ...ok, time: NOW - 2 * DAY, pings: 5000, rtts: [1] };
  // Old (1 h rows, kept only as buckets) and recent (raw) alike.
  const hourly: HistoryInterval = { ...huge, time: NOW - 100 * DAY, seconds: 3600, rounds: 12 };
  const r = store.importHistory({ target: '/x', agent: 'a', probe: 'icmp', step: 300, intervals: [ok, huge, hourly] });
  assert.equal(r.raw, 1);
  assert.equal(r.skipped, 2);
  assert.equal(r.buckets['1h'], 1);
  const counts = tableCounts(store.file);
  // A series the store would not take at all writes nothing.
  for (const h of [{ target: 'no-slash', step: 300 }, { target: '/y', step: 10 * 86_400 }]) {
    const bad = store.importHistory({ ...h, agent: 'a', probe: 'icmp', intervals: [ok] });
    assert.deepEqual([bad.raw, bad.skipped], [0, 1], JSON.stringify(h));
  }
  assert.deepEqual(tableCounts(store.file), counts);
});
