import type Database from 'better-sqlite3';
import type { BucketRow } from './bucket.ts';
import { unpackAscendingUs } from './codec.ts';
import { readBuckets } from './tier-rows.ts';
import type { Tier } from './tiers.ts';

/**
 * The recent past of every series, in memory, so that a windowed top-N over the last hour or
 * the last minutes adds up a few numbers per series instead of seeking 10,000 series in SQLite.
 *
 * It holds, per series, the summaries of the finest tier's last buckets (a ring of SLOTS
 * buckets) and of the raw rounds of the last RAW_SPAN. It is filled once from the database
 * (`load`, at the first windowed top-N), then kept current by every committed write. Each
 * summary holds exactly the integers the SQL path adds up (the bucket row's stored columns,
 * or a raw round's µs sums), so both paths give the same answer; the test checks it.
 *
 * Coverage is exact, never guessed: `roundsFrom` / `bucketsFrom` are the oldest round time and
 * bucket index from which memory holds everything (raised whenever something older is
 * dropped). A window reaching further back is answered from SQLite. The owner drops the index
 * whenever its caches may be stale (another process changed the file, prune, rename).
 */

/** Finest-tier buckets kept per series (at 5 min buckets: 2 hours). */
const MAX_SLOTS = 25;
/** Raw rounds kept: this long (at least two finest buckets, the raw top-N limit) … */
const RAW_SPAN_MIN_MS = 15 * 60_000;
/** … and at most this many per series (a very short step shortens the span). */
const MAX_ROUNDS = 256;

/** Per-series sums over a window, integer µs (what both top-N paths add up). */
export interface WindowAgg {
  series: number;
  /** Newest round time, or newest bucket start. */
  time: number;
  sent: number;
  lost: number;
  medSum: number;
  medN: number;
  /** Largest RTT; -1 when nothing was received. */
  max: number;
  n: number;
  sum: number;
  sumsq: number;
}

// Field offsets: a bucket slot and a raw round are stored as flat numbers.
const B_FIELDS = 9; // b, sent, lost, medSum, medN, max, n, sum, sumsq
const R_FIELDS = 9; // time, sent, lost, medSum, medN, max, n, sum, sumsq

interface RecentSeries {
  target: string;
  agent: string;
  /** Ring of bucket summaries, slot = b mod slots; b = -1 when empty. */
  buckets: Float64Array;
  /** Raw round summaries, ascending by time, from index `head` on (older ones are dropped lazily). */
  rounds: number[];
  head: number;
}

/** The bucket columns the window sums are made of (summed exactly as the SQL aggregate does). */
type BucketSums = Pick<BucketRow, 'sent' | 'lost' | 'rounds' | 'median' | 'max' | 'n' | 'mean' | 'stddev'>;

/** A raw round's contribution to a window sum (from its ascending µs RTTs). */
export function roundFields(time: number, sent: number, us: readonly number[]): number[] {
  const n = us.length;
  let sum = 0;
  let sumsq = 0;
  for (const v of us) { sum += v; sumsq += v * v; }
  return [time, sent, Math.max(0, sent - n), n > 0 ? us[Math.floor(n / 2)]! : 0, n > 0 ? 1 : 0, n > 0 ? us[n - 1]! : -1, n, sum, sumsq];
}

export class RecentIndex {
  readonly slots: number;
  readonly rawSpanMs: number;
  /** Every finest bucket with index ≥ this is held (for every series). */
  bucketsFrom: number;
  /** Every raw round with time ≥ this is held (for every series). */
  roundsFrom: number;
  private readonly series = new Map<number, RecentSeries>();

  constructor(readonly finest: Tier | undefined, now: number) {
    this.slots = finest ? Math.max(2, Math.min(MAX_SLOTS, Math.ceil(7_200_000 / finest.ms) + 1)) : 0;
    this.rawSpanMs = Math.max(RAW_SPAN_MIN_MS, finest ? 2 * finest.ms + 5 * 60_000 : 0);
    this.bucketsFrom = finest ? Math.floor(now / finest.ms) - this.slots + 1 : Infinity;
    this.roundsFrom = now - this.rawSpanMs;
  }

  private entry(id: number, target: string, agent: string): RecentSeries {
    let e = this.series.get(id);
    if (!e) {
      e = { target, agent, buckets: new Float64Array(this.slots * B_FIELDS).fill(-1), rounds: [], head: 0 };
      this.series.set(id, e);
    }
    return e;
  }

  /** The finest-tier bucket `b` of the series now stands as `row` (a committed snapshot, not an increment). */
  bucket(s: { id: number; target: string; agent: string }, b: number, row: BucketSums): void {
    if (!this.finest || b < this.bucketsFrom) return;
    const e = this.entry(s.id, s.target, s.agent);
    const at = (b % this.slots) * B_FIELDS;
    const held = e.buckets[at]!;
    if (held > b) {
      // A newer bucket occupies the slot: this one cannot be held, so windows reaching it go to SQL.
      this.bucketsFrom = Math.max(this.bucketsFrom, b + 1);
      return;
    }
    if (held >= 0 && held < b) this.bucketsFrom = Math.max(this.bucketsFrom, held + 1);
    const f = e.buckets;
    const mean = row.mean ?? 0;
    const sd = row.stddev ?? 0;
    f[at] = b;
    f[at + 1] = row.sent;
    f[at + 2] = row.lost;
    f[at + 3] = row.median === null ? 0 : row.median * row.rounds;
    f[at + 4] = row.median === null ? 0 : row.rounds;
    f[at + 5] = row.max ?? -1;
    f[at + 6] = row.n;
    f[at + 7] = row.mean === null ? 0 : row.n * mean;
    f[at + 8] = row.mean === null ? 0 : row.n * (sd * sd + mean * mean);
  }

  /** A raw round of the series was stored (once: the caller deduplicates); `now` drives pruning. */
  round(s: { id: number; target: string; agent: string }, time: number, sent: number, us: readonly number[], now: number): void {
    this.roundsFrom = Math.max(this.roundsFrom, now - this.rawSpanMs);
    if (time < this.roundsFrom) return;
    const e = this.entry(s.id, s.target, s.agent);
    const r = e.rounds;
    // Drop what fell out of the span, and the oldest beyond the per-series bound.
    while (e.head < r.length && r[e.head]! < this.roundsFrom) e.head += R_FIELDS;
    if (r.length - e.head >= MAX_ROUNDS * R_FIELDS) {
      e.head += R_FIELDS;
      this.roundsFrom = Math.max(this.roundsFrom, r[e.head - R_FIELDS]! + 1);
    }
    if (e.head >= 32 * R_FIELDS && e.head * 2 >= r.length) { r.splice(0, e.head); e.head = 0; }
    if (time < this.roundsFrom) return;
    if (r.length === e.head || r[r.length - R_FIELDS]! <= time) {
      // The usual case: the series' newest round.
      const n = us.length;
      let sum = 0;
      let sumsq = 0;
      for (let i = 0; i < n; i++) { const v = us[i]!; sum += v; sumsq += v * v; }
      r.push(time, sent, Math.max(0, sent - n), n > 0 ? us[n >> 1]! : 0, n > 0 ? 1 : 0, n > 0 ? us[n - 1]! : -1, n, sum, sumsq);
      return;
    }
    // A late round goes to its place so the list stays sorted.
    let at = r.length;
    while (at > e.head && r[at - R_FIELDS]! > time) at -= R_FIELDS;
    r.splice(at, 0, ...roundFields(time, sent, us));
  }

  /** Fills the index from the database: raw rounds since roundsFrom, finest buckets since bucketsFrom. */
  load(stmt: (sql: string) => Database.Statement, now: number): void {
    const rounds = stmt(`SELECT s.id, s.target, s.agent, r.time, r.sent, r.rtts FROM series s CROSS JOIN raw r
      ON r.series = s.id AND r.time >= ? ORDER BY s.id, r.time`).iterate(this.roundsFrom) as Iterable<{ id: number; target: string; agent: string; time: number; sent: number; rtts: Buffer | null }>;
    for (const r of rounds) this.round(r, r.time, r.sent, unpackAscendingUs(r.rtts), now);
    if (!this.finest) return;
    const names = new Map((stmt('SELECT id, target, agent FROM series').all() as Array<{ id: number; target: string; agent: string }>).map((s) => [s.id, s]));
    for (const r of readBuckets(stmt, this.finest, null, this.bucketsFrom)) {
      const s = names.get(r.series);
      if (s) this.bucket(s, r.b, r);
    }
  }

  /** Whether raw rounds in [from, …] are all held. */
  holdsRounds(from: number): boolean {
    return from >= this.roundsFrom;
  }

  /** Whether the finest tier's buckets from index `fromB` on are all held. */
  holdsBuckets(fromB: number): boolean {
    return fromB >= this.bucketsFrom;
  }

  /** Per-series sums of the raw rounds in [from, to] (call only when holdsRounds(from)). */
  roundAggs(from: number, to: number): WindowAgg[] {
    const out: WindowAgg[] = [];
    for (const [id, e] of this.series) {
      let a: WindowAgg | undefined;
      const r = e.rounds;
      for (let i = e.head; i < r.length; i += R_FIELDS) {
        const t = r[i]!;
        if (t < from) continue;
        if (t > to) break;
        a ??= { series: id, time: 0, sent: 0, lost: 0, medSum: 0, medN: 0, max: -1, n: 0, sum: 0, sumsq: 0 };
        add(a, t, r, i);
      }
      if (a) out.push(a);
    }
    return out;
  }

  /** Per-series sums of the finest buckets with index in [fromB, toB] (call only when holdsBuckets(fromB)). */
  bucketAggs(fromB: number, toB: number): WindowAgg[] {
    const out: WindowAgg[] = [];
    const ms = this.finest?.ms ?? 0;
    for (const [id, e] of this.series) {
      let a: WindowAgg | undefined;
      const s = e.buckets;
      for (let i = 0; i < s.length; i += B_FIELDS) {
        const b = s[i]!;
        if (b < fromB || b > toB) continue;
        a ??= { series: id, time: 0, sent: 0, lost: 0, medSum: 0, medN: 0, max: -1, n: 0, sum: 0, sumsq: 0 };
        add(a, b * ms, s, i);
      }
      if (a) out.push(a);
    }
    return out;
  }

  /** Target and agent of a series the index holds. */
  names(id: number): { target: string; agent: string } | undefined {
    return this.series.get(id);
  }
}

function add(a: WindowAgg, time: number, f: ArrayLike<number>, i: number): void {
  if (time > a.time) a.time = time;
  a.sent += f[i + 1]!;
  a.lost += f[i + 2]!;
  a.medSum += f[i + 3]!;
  a.medN += f[i + 4]!;
  if (f[i + 5]! > a.max) a.max = f[i + 5]!;
  a.n += f[i + 6]!;
  a.sum += f[i + 7]!;
  a.sumsq += f[i + 8]!;
}
