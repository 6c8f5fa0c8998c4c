import type Database from 'better-sqlite3';
import { parseSummaryText, summaryOf, SUMMARY_COLUMNS, SUMMARY_TEXT, type BucketRow, type TextBucket } from './bucket.ts';
import { decodePack, encodePack, packCount, packFirst, type StoredBucket } from './packs.ts';
import type { Tier } from './tiers.ts';

/**
 * The buckets of a rollup tier as stored: open buckets one row each in the tier's table
 * (`rollup_<bucket>`), sealed ones packed per series and pack period in `pack_<bucket>`
 * (src/store/packs.ts). A bucket is in exactly one of the two. Every reader of a tier goes
 * through readBuckets (Store.summaries through readSummaries, which reads both the same way);
 * the writers here keep the rule.
 */

/** Prepares (and may cache) a statement. */
export type Prepare = (sql: string) => Database.Statement;

/** A statement cache over one connection. */
export function statementCache(db: Database.Database): Prepare {
  const cache = new Map<string, Database.Statement>();
  return (sql) => {
    let st = cache.get(sql);
    if (!st) cache.set(sql, (st = db.prepare(sql)));
    return st;
  };
}

const LOWEST = Number.MIN_SAFE_INTEGER;
const HIGHEST = Number.MAX_SAFE_INTEGER;

/** Pack period of bucket index `b`. */
function periodOf(t: Tier, b: number): number {
  return Math.floor(b / t.pack);
}

/**
 * The series' buckets of tier `t` with index in [fromB, toB], ascending, open and packed alike
 * (`packed` says which). With series null: every series, by series then index.
 */
export function readBuckets(prep: Prepare, t: Tier, series: number | null, fromB = LOWEST, toB = HIGHEST): StoredBucket[] {
  const args = [fromB, toB, periodOf(t, fromB), periodOf(t, toB)];
  // One series: its rows by key. Every series: the same per series, through the series table
  // (so that each is a seek on the (series, b) key, not a scan of the whole table).
  const open = (series === null
    ? prep(`SELECT r.* FROM series s CROSS JOIN ${t.table} r ON r.series = s.id AND r.b >= ? AND r.b <= ? ORDER BY s.id, r.b`).all(fromB, toB)
    : prep(`SELECT * FROM ${t.table} WHERE series = ? AND b >= ? AND b <= ? ORDER BY b`).all(series, fromB, toB)) as Array<BucketRow & { series: number; b: number }>;
  const packs = (series === null
    ? prep(`SELECT k.series, k.data FROM series s CROSS JOIN ${t.packTable} k ON k.series = s.id AND k.p >= ? AND k.p <= ? ORDER BY s.id, k.p`).all(args[2], args[3])
    : prep(`SELECT series, data FROM ${t.packTable} WHERE series = ? AND p >= ? AND p <= ? ORDER BY p`).all(series, args[2], args[3])) as Array<{ series: number; data: Buffer }>;
  if (packs.length === 0) return open.map((r) => ({ ...r, packed: false }));
  // Both lists ascend by (series, b).
  return mergeAscending(open.map((r) => ({ ...r, packed: false })), unpack(packs, fromB, toB),
    (x, y) => x.series - y.series || x.b - y.b);
}

/** The buckets of packs (ascending by series then period) with index in [fromB, toB]: decodePack's rows, ascending by (series, b). */
function unpack(packs: ReadonlyArray<{ series: number; data: Buffer }>, fromB: number, toB: number): StoredBucket[] {
  return packs.flatMap((k) => decodePack(k.series, k.data)).filter((r) => r.b >= fromB && r.b <= toB);
}

/**
 * Open rows and sealed buckets, each list ascending by `before`, as one list. A bucket is in
 * one place only; should both hold it, the open row is the newer and is kept.
 */
function mergeAscending<T>(open: readonly T[], sealed: readonly T[], before: (x: T, y: T) => number): T[] {
  const out: T[] = [];
  let i = 0;
  let j = 0;
  while (i < open.length || j < sealed.length) {
    const o = open[i];
    const s = sealed[j];
    if (o !== undefined && (s === undefined || before(o, s) <= 0)) {
      out.push(o);
      i++;
      if (s !== undefined && before(o, s) === 0) j++;
    } else {
      out.push(s!);
      j++;
    }
  }
  return out;
}

/**
 * What Store.summaries needs of the buckets of tier `t` with index in [fromB, toB], for several
 * series at once: per series (absent when it has none there) its buckets ascending, each as a
 * summary at `levels` (indices into SMOKE_QUANTILES), open and packed alike, as readBuckets
 * would give them. Open rows are handed over as one text per series (SUMMARY_TEXT: the
 * quantiles kept beside the histogram, none decoded), a row without them (written by an older
 * smokemesh) read again whole; sealed buckets come from their packs through decodePack.
 */
export function readSummaries(prep: Prepare, t: Tier, series: readonly number[], fromB: number, toB: number, levels: readonly number[]): Map<number, TextBucket[]> {
  const ids = JSON.stringify(series);
  const out = new Map<number, TextBucket[]>();
  const texts = prep(`SELECT series, ${SUMMARY_TEXT} FROM ${t.table} WHERE series IN (SELECT value FROM json_each(?)) AND b >= ? AND b <= ? GROUP BY series`)
    .all(ids, fromB, toB) as Array<{ series: number; buckets: string }>;
  for (const r of texts) {
    const buckets = parseSummaryText(r.buckets, levels);
    for (const x of buckets) {
      if (x.summary) continue;
      const row = prep(`SELECT ${SUMMARY_COLUMNS} FROM ${t.table} WHERE series = ? AND b = ?`).get(r.series, x.b) as BucketRow;
      x.summary = summaryOf(row, levels);
    }
    out.set(r.series, buckets);
  }
  const packs = prep(`SELECT series, data FROM ${t.packTable} WHERE series IN (SELECT value FROM json_each(?)) AND p >= ? AND p <= ? ORDER BY series, p`)
    .all(ids, periodOf(t, fromB), periodOf(t, toB)) as Array<{ series: number; data: Buffer }>;
  const sealed = new Map<number, TextBucket[]>();
  for (const r of unpack(packs, fromB, toB)) {
    let l = sealed.get(r.series);
    if (!l) sealed.set(r.series, (l = []));
    l.push({ b: r.b, n: r.n, summary: summaryOf(r, levels) });
  }
  for (const [id, l] of sealed) out.set(id, mergeAscending(out.get(id) ?? [], l, (x, y) => x.b - y.b));
  return out;
}

/** Index of the series' oldest bucket in tier `t`; undefined when it holds none. */
export function firstBucket(prep: Prepare, t: Tier, series: number): number | undefined {
  const open = prep(`SELECT b FROM ${t.table} WHERE series = ? ORDER BY b LIMIT 1`).pluck().get(series) as number | undefined;
  const pack = prep(`SELECT data FROM ${t.packTable} WHERE series = ? ORDER BY p LIMIT 1`).pluck().get(series) as Buffer | undefined;
  const packed = pack ? packFirst(pack) : undefined;
  if (open === undefined) return packed;
  return packed === undefined ? open : Math.min(open, packed);
}

/**
 * Bucket `b` of the series for a writer that will store it back open: the open row, or the
 * packed one taken out of its pack (so that it is in one place once written). Undefined when
 * neither holds it. Call inside the transaction that writes it back.
 */
export function takeBucket(prep: Prepare, t: Tier, series: number, b: number): StoredBucket | undefined {
  const open = prep(`SELECT * FROM ${t.table} WHERE series = ? AND b = ?`).get(series, b) as (BucketRow & { series: number; b: number }) | undefined;
  if (open) return { ...open, packed: false };
  const p = periodOf(t, b);
  const blob = prep(`SELECT data FROM ${t.packTable} WHERE series = ? AND p = ?`).pluck().get(series, p) as Buffer | undefined;
  if (!blob) return undefined;
  const rows = decodePack(series, blob);
  const at = rows.findIndex((r) => r.b === b);
  if (at < 0) return undefined;
  const [taken] = rows.splice(at, 1);
  writePack(prep, t, series, p, rows);
  return taken;
}

/**
 * Adds sealed buckets (no histogram) to the series' packs. A bucket already packed is replaced,
 * or with `keepExisting` left as it is. Returns how many buckets were added or replaced.
 */
export function addToPacks(prep: Prepare, t: Tier, series: number, rows: ReadonlyArray<BucketRow & { b: number }>, keepExisting = false): number {
  const byPeriod = new Map<number, Array<BucketRow & { b: number }>>();
  for (const r of rows) {
    const p = periodOf(t, r.b);
    let l = byPeriod.get(p);
    if (!l) byPeriod.set(p, (l = []));
    l.push(r);
  }
  const get = prep(`SELECT data FROM ${t.packTable} WHERE series = ? AND p = ?`).pluck();
  let changed = 0;
  for (const [p, add] of byPeriod) {
    const blob = get.get(series, p) as Buffer | undefined;
    const all = new Map<number, BucketRow & { b: number }>();
    if (blob) for (const r of decodePack(series, blob)) all.set(r.b, r);
    for (const r of add) {
      if (keepExisting && all.has(r.b)) continue;
      all.set(r.b, r);
      changed++;
    }
    writePack(prep, t, series, p, [...all.values()].sort((x, y) => x.b - y.b));
  }
  return changed;
}

/** Replaces one pack (deletes it when no bucket is left). */
function writePack(prep: Prepare, t: Tier, series: number, p: number, rows: ReadonlyArray<BucketRow & { b: number }>): void {
  if (rows.length === 0) {
    prep(`DELETE FROM ${t.packTable} WHERE series = ? AND p = ?`).run(series, p);
    return;
  }
  prep(`INSERT OR REPLACE INTO ${t.packTable} (series, p, data) VALUES (?, ?, ?)`).run(series, p, encodePack(rows));
}

/**
 * Deletes the series' buckets below index `belowB` in tier `t`: open rows one by one, packs
 * whole once their last bucket is below it (a pack outlives retention by up to one period).
 */
export function deleteBucketsBelow(prep: Prepare, t: Tier, series: number, belowB: number): void {
  prep(`DELETE FROM ${t.table} WHERE series = ? AND b < ?`).run(series, belowB);
  prep(`DELETE FROM ${t.packTable} WHERE series = ? AND p < ?`).run(series, periodOf(t, belowB));
}

/** Deletes every bucket of the series in tier `t`. */
export function deleteSeriesBuckets(prep: Prepare, t: Tier, series: number): void {
  prep(`DELETE FROM ${t.table} WHERE series = ?`).run(series);
  prep(`DELETE FROM ${t.packTable} WHERE series = ?`).run(series);
}

/** Number of buckets the tier holds (open and packed), for `smokemesh data info`. */
export function countBuckets(prep: Prepare, t: Tier): number {
  let n = (prep(`SELECT count(*) FROM ${t.table}`).pluck().get() as number);
  for (const blob of prep(`SELECT data FROM ${t.packTable}`).pluck().iterate() as Iterable<Buffer>) n += packCount(blob);
  return n;
}
