import type { BucketSummary, TextBucket } from './bucket.ts';
import { toMs } from './codec.ts';
import { pushPoint } from './summary.ts';
import { SMOKE_QUANTILES, type SeriesSummary } from './types.ts';

/**
 * Recent bucket summaries of the series small graphs ask for, in memory, so that an overview
 * of 200 targets reads a few typed arrays instead of 24,000 rows. Store.summaries fills an
 * entry (one tier of one series) from the file the first time a recent range of it is asked,
 * with every bucket from the range's start on; from then on the writer hands it every bucket it
 * commits there, so the entry stays what the file holds (the test compares both). Entries are
 * bounded: one holds at most its first span plus a little (older buckets are dropped as new
 * ones arrive, and its start moves with them), and all of them at most MAX_BUCKETS buckets
 * (the least recently read go first).
 *
 * Coverage is exact, never guessed: an entry holds every bucket of its series and tier with an
 * index ≥ `from`, and nothing else is claimed. The owner drops entries whenever the file may
 * have changed behind the writer (another process, prune, rename, import, a failed write) and
 * when retention seals or deletes buckets an entry holds.
 */

/** Buckets held by all entries together (72 bytes each: ~14 MB; a 10-hour overview of 2,000 targets is 242,000). */
const MAX_BUCKETS = 250_000;
/** Longest range (in buckets) an entry is made for: a small graph's few hundred points. */
export const MAX_SPAN = 400;
/** Buckets an entry keeps beyond the span it was made for, so that a range sliding with the clock stays inside it. */
const SLACK = 16;

// One bucket as unsigned 32-bit integers: its index, the counts, the median (NONE: null), and
// the value at every SMOKE_QUANTILES level (min … max) when it received something.
const B = 0;
const ROUNDS = 1;
const SENT = 2;
const LOST = 3;
const N = 4;
const MEDIAN = 5;
const HAS_Q = 6;
const Q = 7;
const LEVELS = SMOKE_QUANTILES.length;
const STRIDE = Q + LEVELS;
const NONE = 0xffff_ffff;
/** Largest value a slot holds (RTTs are at most an hour: 3.6e9 µs). */
const MAX_VALUE = 0xffff_fffe;

/** The bucket figures the cache keeps: counts, the median (µs) and the value at every SMOKE_QUANTILES level (µs; empty when nothing was received). */
export interface CachedBucket {
  b: number;
  rounds: number;
  sent: number;
  lost: number;
  n: number;
  median: number | null;
  /** All SMOKE_QUANTILES levels, or empty. */
  q: readonly number[];
}

interface Entry {
  /** Every bucket with an index ≥ from is held. */
  from: number;
  /** Buckets kept at most (the span the entry was made for, plus SLACK). */
  keep: number;
  len: number;
  data: Uint32Array;
}

export class SummaryCache {
  private readonly entries = new Map<number, Entry>();
  private held = 0;

  /** Key of a series' tier (tiers are few: at most 16). */
  private static key(tier: number, series: number): number {
    return series * 16 + tier;
  }

  /** Whether the series' tier is held from bucket `fromB` on (and marks it recently used). */
  holds(tier: number, series: number, fromB: number): boolean {
    const k = SummaryCache.key(tier, series);
    const e = this.entries.get(k);
    if (!e || fromB < e.from) return false;
    this.entries.delete(k);
    this.entries.set(k, e);
    return true;
  }

  /** Whether the writer should hand over the series' tier buckets. */
  has(tier: number, series: number): boolean {
    return this.entries.has(SummaryCache.key(tier, series));
  }

  /**
   * Makes an entry from what the file holds: every bucket of the series' tier with an index ≥
   * `from`, ascending, with all SMOKE_QUANTILES levels (or none). `span`: buckets from `from`
   * to the current one (what it keeps from then on, plus SLACK). Entries are not evicted until
   * bound() is called.
   * A bucket whose figures do not fit is not cached (the entry is not made).
   */
  fill(tier: number, series: number, from: number, span: number, buckets: readonly TextBucket[]): void {
    const k = SummaryCache.key(tier, series);
    this.drop(tier, series);
    const e: Entry = { from, keep: span + SLACK, len: 0, data: new Uint32Array(Math.max(8, buckets.length + SLACK) * STRIDE) };
    for (const x of buckets) {
      const s = x.summary!;
      if (!this.put(e, { b: x.b, rounds: s.rounds, sent: s.sent, lost: s.lost, n: x.n, median: s.median, q: s.q })) return;
    }
    this.entries.set(k, e);
    this.held += e.len;
    this.trim(e);
  }

  /** The writer committed bucket `c.b` of the series' tier as it now stands (ignored when no entry holds it). */
  update(tier: number, series: number, c: CachedBucket): void {
    const k = SummaryCache.key(tier, series);
    const e = this.entries.get(k);
    if (!e || c.b < e.from) return;
    const before = e.len;
    if (!this.put(e, c)) { this.drop(tier, series); return; }
    this.held += e.len - before;
    this.trim(e);
    this.bound();
  }

  /** Retention deleted the series' buckets below `belowB`, or sealed bucket `belowB - 1`: an entry reaching there is dropped. */
  forgetBelow(tier: number, series: number, belowB: number): void {
    const e = this.entries.get(SummaryCache.key(tier, series));
    if (e && e.from < belowB) this.drop(tier, series);
  }

  /** Buckets with index in [fromB, toB] (call only when holds(…, fromB)). */
  count(tier: number, series: number, fromB: number, toB: number): number {
    const e = this.entries.get(SummaryCache.key(tier, series))!;
    return lowerBound(e, toB + 1) - lowerBound(e, fromB);
  }

  /**
   * Calls `each` for every bucket with index in [fromB, toB], ascending (call only when
   * holds(…, fromB)), with the values at the asked levels (indices into SMOKE_QUANTILES) in `q`
   * (a scratch array: copy what you keep; empty when nothing was received).
   */
  forEach(tier: number, series: number, fromB: number, toB: number, levels: readonly number[], each: (b: number, s: BucketSummary, n: number) => void): void {
    const e = this.entries.get(SummaryCache.key(tier, series))!;
    const d = e.data;
    const s: BucketSummary = { rounds: 0, sent: 0, lost: 0, median: null, q: [] };
    for (let i = lowerBound(e, fromB); i < e.len; i++) {
      const at = i * STRIDE;
      const b = d[at + B]!;
      if (b > toB) break;
      s.rounds = d[at + ROUNDS]!;
      s.sent = d[at + SENT]!;
      s.lost = d[at + LOST]!;
      s.median = d[at + MEDIAN] === NONE ? null : d[at + MEDIAN]!;
      s.q.length = 0;
      if (d[at + HAS_Q]) for (const l of levels) s.q.push(d[at + Q + l]!);
      each(b, s, d[at + N]!);
    }
  }

  /**
   * Appends the buckets with index in [fromB, toB] to a summary as its points, as
   * Store.summaries makes them (time b × bucketMs, figures in ms, smoke at the asked levels:
   * indices into SMOKE_QUANTILES); what forEach gives, without a callback or a copy per bucket.
   * Call only when holds(…, fromB).
   */
  appendPoints(tier: number, series: number, fromB: number, toB: number, levels: readonly number[], bucketMs: number, sum: SeriesSummary): void {
    const e = this.entries.get(SummaryCache.key(tier, series))!;
    const d = e.data;
    for (let i = lowerBound(e, fromB); i < e.len; i++) {
      const at = i * STRIDE;
      const b = d[at + B]!;
      if (b > toB) break;
      const median = d[at + MEDIAN] === NONE ? null : toMs(d[at + MEDIAN]!);
      const smoke = d[at + HAS_Q] && median !== null ? new Array<number>(levels.length) : [];
      for (let k = 0; k < smoke.length; k++) smoke[k] = toMs(d[at + Q + levels[k]!]!);
      pushPoint(sum, b * bucketMs, d[at + SENT]!, d[at + LOST]!, median, smoke);
    }
  }

  /** The buckets in [fromB, toB] as Store.summaries merges them (call only when holds(…, fromB)). */
  textBuckets(tier: number, series: number, fromB: number, toB: number, levels: readonly number[]): TextBucket[] {
    const out: TextBucket[] = [];
    this.forEach(tier, series, fromB, toB, levels, (b, s, n) => out.push({ b, n, summary: { ...s, q: [...s.q] } }));
    return out;
  }

  /** Buckets held by all entries. */
  get size(): number {
    return this.held;
  }

  clear(): void {
    this.entries.clear();
    this.held = 0;
  }

  private drop(tier: number, series: number): void {
    const k = SummaryCache.key(tier, series);
    const e = this.entries.get(k);
    if (!e) return;
    this.held -= e.len;
    this.entries.delete(k);
  }

  /** Inserts or replaces bucket c.b; false when a figure does not fit a slot. */
  private put(e: Entry, c: CachedBucket): boolean {
    const hasQ = c.q.length > 0;
    if (!fits(c.b) || !fits(c.rounds) || !fits(c.sent) || !fits(c.lost) || !fits(c.n) || (c.median !== null && !fits(c.median))) return false;
    if (hasQ && (c.q.length !== LEVELS || !c.q.every(fits))) return false;
    const i = lowerBound(e, c.b);
    if (i >= e.len || e.data[i * STRIDE + B] !== c.b) {
      if ((e.len + 1) * STRIDE > e.data.length) {
        const grown = new Uint32Array(Math.max(e.data.length * 2, (e.len + 1) * STRIDE));
        grown.set(e.data.subarray(0, e.len * STRIDE));
        e.data = grown;
      }
      e.data.copyWithin((i + 1) * STRIDE, i * STRIDE, e.len * STRIDE);
      e.len++;
    }
    const d = e.data;
    const at = i * STRIDE;
    d[at + B] = c.b;
    d[at + ROUNDS] = c.rounds;
    d[at + SENT] = c.sent;
    d[at + LOST] = c.lost;
    d[at + N] = c.n;
    d[at + MEDIAN] = c.median === null ? NONE : c.median;
    d[at + HAS_Q] = hasQ ? 1 : 0;
    for (let l = 0; l < LEVELS; l++) d[at + Q + l] = hasQ ? c.q[l]! : 0;
    return true;
  }

  /** Drops the oldest buckets beyond what the entry keeps; its start moves past them. */
  private trim(e: Entry): void {
    if (e.len === 0) return;
    const newest = e.data[(e.len - 1) * STRIDE + B]!;
    const from = newest - e.keep + 1;
    if (from <= e.from) return;
    const cut = lowerBound(e, from);
    if (cut > 0) {
      e.data.copyWithin(0, cut * STRIDE, e.len * STRIDE);
      e.len -= cut;
      this.held -= cut;
    }
    e.from = from;
  }

  /** The least recently read entries go until all fit MAX_BUCKETS (a reader calls it once it has read what it filled). */
  bound(): void {
    if (this.held <= MAX_BUCKETS) return;
    for (const [k, e] of this.entries) {
      if (this.held <= MAX_BUCKETS) break;
      this.held -= e.len;
      this.entries.delete(k);
    }
  }
}

function fits(v: number): boolean {
  return Number.isInteger(v) && v >= 0 && v <= MAX_VALUE;
}

/** First position whose bucket index is ≥ b. */
function lowerBound(e: Entry, b: number): number {
  let lo = 0;
  let hi = e.len;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (e.data[mid * STRIDE + B]! < b) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
