import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { binOf, binValue, decodeQuantiles, encodeQuantiles, type BucketRow } from './bucket.ts';
import { ByteReader, ByteWriter } from './codec.ts';

/**
 * Sealed rollup buckets of one series, packed: every bucket of a pack period (packBuckets
 * consecutive bucket indices) in one blob, column by column, each value a small varint
 * difference from a neighbour, the whole compressed with raw deflate when that is smaller.
 * A sealed bucket takes ~10–15 bytes this way instead of a ~60-byte row; open buckets (with
 * their histogram) stay one row each in the tier's table. Pure functions over plain data; the
 * reads and writes of packs are in tier-rows.ts.
 *
 * A pack: a format byte (PLAIN or DEFLATE), count and first bucket index as varints
 * (uncompressed, so the oldest bucket is known without decoding), then the columns. Quantiles
 * that are histogram bin centres (what sealing a histogram gives) are stored as bin indices,
 * others (imported history) as µs. Every column reads back exactly as toRow wrote it:
 * decodePack(s, encodePack(rows)) equals rows.
 */

/** A stored bucket: its columns, its series and index, and whether it is sealed in a pack. */
export interface StoredBucket extends BucketRow {
  series: number;
  b: number;
  /** True when read from a pack (sealed); false for an open row of the tier's table. */
  packed: boolean;
}

const PLAIN = 1;
const DEFLATE = 2;

// Per bucket: which nullable columns are present, and how the quantiles are stored.
const F_MIN = 1;
const F_MAX = 2;
const F_MEAN = 4;
const F_MEDIAN = 8;
const F_STDDEV = 16;
const F_Q = 32;
const F_QBINS = 64;
const F_EXTRA = 128;

/** A pack inflating to more than this is refused as damaged (a full pack of 1-minute buckets is ~20 KB). */
const MAX_INFLATED = 64 * 1024 * 1024;

/**
 * Buckets per pack for a tier of `bucket` seconds: a day's worth, and at least 64. Part of the
 * file format (a pack's index is floor(b / packBuckets)): never change it without a migration.
 */
export function packBuckets(bucket: number): number {
  return Math.max(64, Math.ceil(86_400 / bucket));
}

const zig = (v: number): number => (v >= 0 ? 2 * v : -2 * v - 1);
const unzig = (v: number): number => (v % 2 === 0 ? v / 2 : -(v + 1) / 2);

/** What sealing writes for bin `k` (see quantilesUs): its centre rounded to µs, within [lo, hi]. */
function binCentre(k: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, Math.round(binValue(k))));
}

/** The histogram bin whose centre (as binCentre) is exactly `us`, if there is one. */
function binFor(us: number, lo: number, hi: number): number | undefined {
  const k = binOf(us);
  for (const c of [k, k - 1, k + 1]) if (c >= 0 && binCentre(c, lo, hi) === us) return c;
  return undefined;
}

/** Packs sealed buckets of one series (ascending b, none with a histogram). */
export function encodePack(rows: ReadonlyArray<BucketRow & { b: number }>): Buffer {
  if (rows.length === 0) throw new RangeError('an empty pack');
  const w = new ByteWriter(rows.length * 24 + 16);
  const qs = rows.map((r) => (r.q ? decodeQuantiles(r.min ?? 0, r.q) : null));
  const lo = (r: BucketRow) => r.min ?? 0;
  const hi = (r: BucketRow) => r.max ?? Number.MAX_SAFE_INTEGER;
  const flags = rows.map((r, i) => {
    if (r.sketch) throw new RangeError(`bucket ${r.b} is open (it has a histogram); only sealed buckets are packed`);
    const q = qs[i];
    return (r.min !== null ? F_MIN : 0) | (r.max !== null ? F_MAX : 0) | (r.mean !== null ? F_MEAN : 0)
      | (r.median !== null ? F_MEDIAN : 0) | (r.stddev !== null ? F_STDDEV : 0) | (r.extra !== null ? F_EXTRA : 0)
      | (q ? F_Q : 0) | (q && q.every((v) => binFor(v, lo(r), hi(r)) !== undefined) ? F_QBINS : 0);
  });
  let prev = rows[0]!.b - 1;
  for (const r of rows) {
    if (r.b <= prev) throw new RangeError(`pack rows not ascending at bucket ${r.b}`);
    w.varint(r.b - prev - 1);
    prev = r.b;
  }
  // Each column whole, so that deflate sees alike bytes together.
  const deltas = (values: number[]) => { let last = 0; for (const v of values) { w.varint(zig(v - last)); last = v; } };
  deltas(rows.map((r) => r.rounds));
  deltas(rows.map((r) => r.sent));
  deltas(rows.map((r) => r.lost));
  for (const r of rows) w.varint(zig(r.n - (r.sent - r.lost)));
  for (const f of flags) w.varint(f);
  deltas(rows.flatMap((r) => (r.min !== null ? [r.min] : [])));
  for (const r of rows) if (r.max !== null) w.varint(zig(r.max - lo(r)));
  rows.forEach((r, i) => {
    const q = qs[i];
    if (!q) return;
    w.varint(q.length);
    if (flags[i]! & F_QBINS) {
      let k = binOf(lo(r));
      for (const v of q) { const c = binFor(v, lo(r), hi(r))!; w.varint(zig(c - k)); k = c; }
    } else {
      let p = lo(r);
      for (const v of q) { w.varint(zig(v - p)); p = v; }
    }
  });
  // Mean and median sit near the middle quantile.
  const ref = (r: BucketRow, i: number): number => { const q = qs[i]; return q?.length ? q[q.length >> 1]! : lo(r); };
  rows.forEach((r, i) => { if (r.mean !== null) w.varint(zig(r.mean - ref(r, i))); });
  rows.forEach((r, i) => { if (r.median !== null) w.varint(zig(r.median - ref(r, i))); });
  deltas(rows.flatMap((r) => (r.stddev !== null ? [r.stddev] : [])));
  for (const r of rows) {
    if (r.extra === null) continue;
    const s = Buffer.from(r.extra, 'utf8');
    w.varint(s.length);
    w.raw(s);
  }
  const body = w.view();
  const deflated = deflateRawSync(body, { level: 9 });
  const small = deflated.length < body.length;
  const head = new ByteWriter(16);
  head.varint(small ? DEFLATE : PLAIN);
  head.varint(rows.length);
  head.varint(rows[0]!.b);
  head.raw(small ? deflated : body);
  return head.bytes();
}

/** Index of the oldest bucket in a pack, without decoding it. */
export function packFirst(blob: Uint8Array): number {
  const r = new ByteReader(blob);
  r.varint();
  r.varint();
  return r.varint();
}

/** Number of buckets in a pack, without decoding it. */
export function packCount(blob: Uint8Array): number {
  const r = new ByteReader(blob);
  r.varint();
  return r.varint();
}

/**
 * Every bucket of a pack, ascending: the one decoding of the packed layout (readers reach it
 * through readBuckets, tier-rows.ts). Throws RangeError on a damaged pack.
 */
export function decodePack(series: number, blob: Uint8Array): StoredBucket[] {
  const h = new ByteReader(blob);
  const format = h.varint();
  const count = h.varint();
  const first = h.varint();
  if (format !== PLAIN && format !== DEFLATE) throw new RangeError(`unknown pack format ${format}`);
  const rest = blob.subarray(h.offset);
  const r = new ByteReader(format === DEFLATE ? inflateRawSync(rest, { maxOutputLength: MAX_INFLATED }) : rest);
  const rows: StoredBucket[] = new Array<StoredBucket>(count);
  let b = first - 1;
  for (let i = 0; i < count; i++) {
    b += r.varint() + 1;
    rows[i] = { series, b, packed: true, rounds: 0, sent: 0, lost: 0, n: 0, min: null, max: null, mean: null, median: null, stddev: null, sketch: null, q: null, extra: null };
  }
  let last = 0;
  for (const row of rows) row.rounds = last += unzig(r.varint());
  last = 0;
  for (const row of rows) row.sent = last += unzig(r.varint());
  last = 0;
  for (const row of rows) row.lost = last += unzig(r.varint());
  for (const row of rows) row.n = row.sent - row.lost + unzig(r.varint());
  const flags = rows.map(() => r.varint());
  last = 0;
  rows.forEach((row, i) => { if (flags[i]! & F_MIN) row.min = last += unzig(r.varint()); });
  rows.forEach((row, i) => { if (flags[i]! & F_MAX) row.max = (row.min ?? 0) + unzig(r.varint()); });
  const mids = rows.map((row, i) => {
    const f = flags[i]!;
    const lo = row.min ?? 0;
    if (!(f & F_Q)) return lo;
    const hi = row.max ?? Number.MAX_SAFE_INTEGER;
    const len = r.varint();
    const q = new Array<number>(len);
    let k = f & F_QBINS ? binOf(lo) : lo;
    for (let j = 0; j < len; j++) {
      k += unzig(r.varint());
      q[j] = f & F_QBINS ? binCentre(k, lo, hi) : k;
    }
    row.q = encodeQuantiles(lo, q);
    return len ? q[len >> 1]! : lo;
  });
  rows.forEach((row, i) => { if (flags[i]! & F_MEAN) row.mean = mids[i]! + unzig(r.varint()); });
  rows.forEach((row, i) => { if (flags[i]! & F_MEDIAN) row.median = mids[i]! + unzig(r.varint()); });
  last = 0;
  rows.forEach((row, i) => { if (flags[i]! & F_STDDEV) row.stddev = last += unzig(r.varint()); });
  rows.forEach((row, i) => { if (flags[i]! & F_EXTRA) row.extra = Buffer.from(r.raw(r.varint())).toString('utf8'); });
  if (!r.done) throw new RangeError('pack has trailing bytes');
  return rows;
}
