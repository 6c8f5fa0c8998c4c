import type { Round } from '../probes/round.ts';
import { ByteReader, ByteWriter, toMs, toUs } from './codec.ts';
import { SMOKE_QUANTILES, type SeriesPoint } from './types.ts';

/**
 * One rollup bucket as plain data, and the pure functions that build it incrementally.
 *
 * Counts, sums, min and max are exact. The RTT distribution is kept as a log-bucketed
 * histogram (a DDSketch): every value v ≥ 1 µs falls in bin ⌈log_γ v⌉ and is read back as the
 * bin's centre, so a quantile read from it is within ±ALPHA (1 %) of the value of the exact
 * sample at that rank. Histograms merge exactly (add the counts), so late and out-of-order
 * rounds cost one bin update each and the result does not depend on arrival order. Once a
 * bucket can no longer change (it ended before the raw retention horizon, and older rounds are
 * refused) it is sealed: the histogram is replaced by the fixed SMOKE_QUANTILES values.
 */

/** Relative accuracy of the histogram. */
export const ALPHA = 0.01;
const GAMMA = (1 + ALPHA) / (1 - ALPHA);
const LN_GAMMA = Math.log(GAMMA);

/** Interior quantile levels (0 and 1 are the exact min and max). */
export const INTERIOR_QUANTILES = SMOKE_QUANTILES.slice(1, -1) as readonly number[];

/** Mean phase timings are merged as sums and counts; status/error are the latest round's. */
export interface BucketExtra {
  p?: Record<string, [sum: number, count: number]>;
  s?: number;
  e?: string;
  /** Time of the round that set s/e, so that a late round does not overwrite a newer one. */
  t?: number;
}

export interface BucketState {
  rounds: number;
  sent: number;
  lost: number;
  /**
   * RTTs received, their sum and sum of squares, min and max; all integer µs, so that sums are
   * exact and a bucket is bit-identical whatever order its rounds arrived in.
   */
  n: number;
  sum: number;
  sumsq: number;
  min: number;
  max: number;
  /** Sum and count of the rounds' medians (µs): a bucket's `median` is their mean, as SmokePing consolidates. */
  medSum: number;
  medN: number;
  /** Histogram bin → count while open; null once sealed. */
  bins: Map<number, number> | null;
  /** The bins' keys ascending, kept for encoding; undefined whenever a key was added or bins replaced. */
  sortedBins?: Float64Array | undefined;
  /** Interior quantiles (µs) once sealed; null while open. */
  q: number[] | null;
  extra: BucketExtra | null;
}

export function emptyBucket(): BucketState {
  return { rounds: 0, sent: 0, lost: 0, n: 0, sum: 0, sumsq: 0, min: 0, max: 0, medSum: 0, medN: 0, bins: new Map(), q: null, extra: null };
}

/** The histogram bin of a value in µs. */
export function binOf(us: number): number {
  return us < 1 ? 0 : 1 + Math.ceil(Math.log(us) / LN_GAMMA - 1e-9);
}

/** The value a bin stands for (its centre), µs. */
export function binValue(bin: number): number {
  return bin === 0 ? 0 : (2 * GAMMA ** (bin - 1)) / (GAMMA + 1);
}

/**
 * What one round adds to any bucket, computed once per round and applied to every tier (the
 * logarithms and sums are the costly part of ingest).
 */
export interface Contribution {
  time: number;
  sent: number;
  lost: number;
  /** The received RTTs as ascending integer µs. */
  us: number[];
  sum: number;
  sumsq: number;
  /** SmokePing's median in µs; -1 when nothing was received. */
  median: number;
  /** Histogram bins with their counts: [bin, count, bin, count, …], bins ascending. */
  bins: number[];
  phases: BucketExtra['p'];
  status: number | undefined;
  error: string | undefined;
}

/** The round's contribution to a bucket (RTTs converted to µs and binned once). */
export function contributionOf(r: Round): Contribution {
  const n = r.rtts.length;
  const us = new Array<number>(n);
  for (let i = 0; i < n; i++) us[i] = toUs(r.rtts[i]!);
  if (!isSorted(us)) us.sort((x, y) => x - y);
  let sum = 0;
  let sumsq = 0;
  const bins: number[] = [];
  let lastBin = -1;
  for (let i = 0; i < n; i++) {
    const v = us[i]!;
    sum += v;
    sumsq += v * v;
    // Sorted values give non-decreasing bins: count runs instead of one map update per ping.
    const k = binOf(v);
    if (k === lastBin) bins[bins.length - 1] = bins[bins.length - 1]! + 1;
    else { bins.push(k, 1); lastBin = k; }
  }
  let phases: BucketExtra['p'];
  if (r.phases) {
    phases = {};
    for (const k in r.phases) phases[k] = [r.phases[k]!, 1];
  }
  return {
    time: r.time, sent: r.sent, lost: Math.max(0, r.sent - n), us, sum, sumsq,
    median: n > 0 ? us[Math.floor(n / 2)]! : -1, bins, phases, status: r.status, error: r.error,
  };
}

/** Adds one round's contribution to the bucket (exactly once: the caller deduplicates). */
export function addContribution(b: BucketState, c: Contribution): void {
  b.rounds += 1;
  b.sent += c.sent;
  b.lost += c.lost;
  const n = c.us.length;
  if (n > 0) {
    mergeMoments(b, n, c.sum, c.sumsq, c.us[0]!, c.us[n - 1]!);
    b.medSum += c.median;
    b.medN += 1;
    if (!b.bins) thaw(b);
    const bins = b.bins!;
    for (let i = 0; i < c.bins.length; i += 2) {
      const k = c.bins[i]!;
      const cur = bins.get(k);
      if (cur === undefined) b.sortedBins = undefined;
      bins.set(k, (cur ?? 0) + c.bins[i + 1]!);
    }
  }
  if (c.phases || c.status !== undefined || c.error !== undefined) mergeExtra(b, c.phases, c.status, c.error, c.time);
}

/** Adds one round to the bucket (exactly once: the caller deduplicates). */
export function addRound(b: BucketState, r: Round): void {
  addContribution(b, contributionOf(r));
}

/** Merges bucket `from` into `into`: exact while both are open, approximate (see thaw) otherwise. */
export function mergeBucket(into: BucketState, from: BucketState): void {
  into.rounds += from.rounds;
  into.sent += from.sent;
  into.lost += from.lost;
  into.medSum += from.medSum;
  into.medN += from.medN;
  if (from.n > 0) {
    if (!into.bins) thaw(into);
    const fromBins = from.bins ?? thaw({ ...from, bins: null }).bins!;
    for (const [k, c] of fromBins) into.bins!.set(k, (into.bins!.get(k) ?? 0) + c);
    into.sortedBins = undefined;
    mergeMoments(into, from.n, from.sum, from.sumsq, from.min, from.max);
  }
  const fx = from.extra;
  if (fx) mergeExtra(into, fx.p, fx.s, fx.e, fx.t ?? 0);
}

function mergeMoments(b: BucketState, n: number, sum: number, sumsq: number, lo: number, hi: number): void {
  if (b.n === 0 || lo < b.min) b.min = lo;
  if (b.n === 0 || hi > b.max) b.max = hi;
  b.n += n;
  b.sum += sum;
  b.sumsq += sumsq;
}

function meanOf(b: BucketState): number {
  return b.sum / b.n;
}

function stddevOf(b: BucketState): number {
  const m = b.sum / b.n;
  return Math.sqrt(Math.max(0, b.sumsq / b.n - m * m));
}

function mergeExtra(b: BucketState, p: BucketExtra['p'], s: number | undefined, e: string | undefined, t: number): void {
  if (!p && s === undefined && e === undefined) return;
  const x = (b.extra ??= {});
  if (p) {
    const acc = (x.p ??= {});
    for (const [k, [sum, count]] of Object.entries(p)) {
      const cur = acc[k] ?? [0, 0];
      acc[k] = [cur[0] + sum, cur[1] + count];
    }
  }
  if ((s !== undefined || e !== undefined) && (x.t === undefined || t >= x.t)) {
    x.t = t;
    if (s !== undefined) x.s = s; else delete x.s;
    if (e !== undefined) x.e = e; else delete x.e;
  }
}

/**
 * Reopens a sealed bucket: its quantiles become a histogram with the received count spread
 * evenly between consecutive quantiles. Only needed when raw retention was raised after the
 * bucket was sealed, or when merging series on rename; the bucket's quantiles are then
 * approximate (within the spacing of SMOKE_QUANTILES), its counts and moments stay exact.
 */
function thaw(b: BucketState): BucketState {
  const bins = new Map<number, number>();
  if (b.n > 0) {
    const qs = [b.min, ...(b.q ?? INTERIOR_QUANTILES.map(() => meanOf(b))), b.max];
    const levels = SMOKE_QUANTILES;
    let placed = 0;
    for (let i = 1; i < qs.length; i++) {
      const target = i === qs.length - 1 ? b.n : Math.round(levels[i]! * b.n);
      const count = target - placed;
      if (count <= 0) continue;
      const k = binOf((qs[i - 1]! + qs[i]!) / 2);
      bins.set(k, (bins.get(k) ?? 0) + count);
      placed = target;
    }
  }
  b.bins = bins;
  b.sortedBins = undefined;
  b.q = null;
  return b;
}

/** Quantiles (µs) at SMOKE_QUANTILES levels; empty when nothing was received. */
export function quantilesUs(b: BucketState): number[] {
  if (b.n === 0) return [];
  if (!b.bins) return [b.min, ...(b.q ?? []), b.max];
  const bins = b.bins;
  const keys = (b.sortedBins ??= Float64Array.from(bins.keys()).sort());
  const out: number[] = [];
  // Levels ascend, so one walk over the bins serves all of them.
  let i = 0;
  let cum = 0;
  for (const level of SMOKE_QUANTILES) {
    if (level === 0) { out.push(b.min); continue; }
    if (level === 1) { out.push(b.max); continue; }
    const rank = level * (b.n - 1);
    while (i < keys.length && cum + bins.get(keys[i]!)! <= rank) cum += bins.get(keys[i++]!)!;
    const v = i < keys.length ? binValue(keys[i]!) : b.max;
    out.push(Math.min(b.max, Math.max(b.min, Math.round(v))));
  }
  return out;
}

/** Seals an open bucket: keeps the interior quantiles, drops the histogram. */
export function seal(b: BucketState): void {
  if (!b.bins) return;
  const q = quantilesUs(b);
  b.q = q.length ? q.slice(1, -1) : null;
  b.bins = null;
  b.sortedBins = undefined;
}

/** Columns a bucket is stored as (RTTs in integer µs so SQLite keeps them in 1–4 bytes). */
export interface BucketRow {
  rounds: number;
  sent: number;
  lost: number;
  n: number;
  min: number | null;
  max: number | null;
  mean: number | null;
  median: number | null;
  stddev: number | null;
  sketch: Buffer | null;
  q: Buffer | null;
  extra: string | null;
}

/**
 * The bucket's columns. An open bucket keeps its histogram (`sketch`) and, beside it, the
 * quantiles it gives now (`q`, rewritten with every round), so that reads that need only the
 * quantiles (summaries) never decode a histogram; sealing then just drops the histogram. With
 * `transient`, `sketch` and `q` are views of shared scratch buffers, valid only until the next
 * call: for binding straight into a statement (better-sqlite3 copies blobs when it binds
 * them), which saves allocations per bucket written.
 */
export function toRow(b: BucketState, transient = false): BucketRow {
  const has = b.n > 0;
  const sketch = b.bins ? encodeSketch(b, transient) : null;
  const q = b.bins ? (has ? quantilesUs(b).slice(1, -1) : null) : b.q;
  return {
    rounds: b.rounds, sent: b.sent, lost: b.lost, n: b.n,
    min: has ? b.min : null,
    max: has ? b.max : null,
    mean: has ? Math.round(meanOf(b)) : null,
    median: b.medN > 0 ? Math.round(b.medSum / b.medN) : null,
    stddev: has ? Math.round(stddevOf(b)) : null,
    sketch,
    q: q ? encodeQuantiles(b.min, q, transient) : null,
    extra: b.extra ? JSON.stringify(b.extra) : null,
  };
}

/** Rebuilds the state from stored columns; a sealed row's moments come from its rounded mean/stddev. */
export function fromRow(row: BucketRow): BucketState {
  const b: BucketState = {
    rounds: row.rounds, sent: row.sent, lost: row.lost, n: row.n,
    sum: row.n * (row.mean ?? 0), sumsq: row.n * ((row.stddev ?? 0) ** 2 + (row.mean ?? 0) ** 2), min: row.min ?? 0, max: row.max ?? 0,
    medSum: 0, medN: 0, bins: null, q: null,
    extra: row.extra ? (JSON.parse(row.extra) as BucketExtra) : null,
  };
  if (row.sketch) {
    decodeSketch(row.sketch, b);
  } else {
    b.q = row.q ? decodeQuantiles(row.min ?? 0, row.q) : null;
    // Without the exact sums (only merges on rename or after raw retention grew), weight by rounds.
    b.medN = row.median === null ? 0 : row.rounds;
    b.medSum = (row.median ?? 0) * b.medN;
  }
  return b;
}

/** Reused for every sketch: encoding thousands of buckets per batch should not allocate a writer each. */
const scratch = new ByteWriter(256);

function encodeSketch(b: BucketState, transient: boolean): Buffer {
  const w = scratch;
  w.reset();
  w.f64(b.sum);
  w.f64(b.sumsq);
  w.f64(b.medSum);
  w.varint(b.medN);
  // A typed array sorts numerically without a comparator call per pair; kept until a key is added.
  const keys = (b.sortedBins ??= Float64Array.from(b.bins!.keys()).sort());
  w.varint(keys.length);
  let prev = 0;
  for (const k of keys) {
    w.varint(k - prev);
    w.varint(b.bins!.get(k)!);
    prev = k;
  }
  return transient ? w.view() : w.bytes();
}

function decodeSketch(blob: Uint8Array, b: BucketState): void {
  const r = new ByteReader(blob);
  b.sum = r.f64();
  b.sumsq = r.f64();
  b.medSum = r.f64();
  b.medN = r.varint();
  const count = r.varint();
  const bins = new Map<number, number>();
  // Keys are stored ascending (encodeSketch): the sorted copy comes for free.
  const sorted = new Float64Array(count);
  let k = 0;
  for (let i = 0; i < count; i++) {
    k += r.varint();
    sorted[i] = k;
    bins.set(k, r.varint());
  }
  b.bins = bins;
  b.sortedBins = sorted;
  b.q = null;
}

/**
 * The columns `summaryOf` reads. The histogram is fetched only where the row has no
 * quantiles (an open bucket last written by a smokemesh that did not keep them beside it).
 */
export const SUMMARY_COLUMNS = 'rounds, sent, lost, n, min, max, mean, median, stddev, q, CASE WHEN q IS NULL AND n > 0 THEN sketch END AS sketch, NULL AS extra';

/** What a small graph needs of a bucket: counts, the median and some quantiles (µs). */
export interface BucketSummary {
  rounds: number;
  sent: number;
  lost: number;
  /** Mean of the rounds' medians (µs); null when nothing was received. */
  median: number | null;
  /** The quantiles (µs) at the asked SMOKE_QUANTILES indices; empty when nothing was received. */
  q: number[];
}

/**
 * A bucket's summary from a row read with SUMMARY_COLUMNS: the kept quantiles, without
 * decoding the histogram unless the row has no quantiles. `levels` are indices into
 * SMOKE_QUANTILES (0 is the min, the last the max).
 */
export function summaryOf(row: BucketRow, levels: readonly number[]): BucketSummary {
  const out: BucketSummary = { rounds: row.rounds, sent: row.sent, lost: row.lost, median: row.median, q: [] };
  if (row.n === 0 || row.min === null || row.max === null) return out;
  let all: number[];
  if (row.q) all = [row.min, ...decodeQuantiles(row.min, row.q), row.max];
  else all = quantilesUs(fromRow(row));
  for (const i of levels) out.q.push(all[i] ?? row.max);
  return out;
}

/**
 * Every bucket of a series as one text, for `SELECT series, ${SUMMARY_TEXT} FROM <tier> WHERE …
 * GROUP BY series` (read it with parseSummaryText). One text per series, not a row per bucket:
 * handing 24,000 rows to JavaScript column by column costs ten times what SQLite spends
 * writing them out. An empty bucket (n = 0) has no min and max (concat_ws leaves them out).
 */
export const SUMMARY_TEXT = "group_concat(concat_ws(',', b, rounds, sent, lost, n, min, max, ifnull(median, ''), ifnull(hex(q), '')), ';') AS buckets";

/** A bucket as Store.summaries reads it (from a SUMMARY_TEXT or a pack): its index, the RTTs it received, and its summary (null: the row kept no quantiles, read it with summaryOf). */
export interface TextBucket {
  b: number;
  n: number;
  summary: BucketSummary | null;
}

const HEX = new Int8Array(128).fill(-1);
for (let i = 0; i < 16; i++) HEX['0123456789ABCDEF'.charCodeAt(i)] = i;

/**
 * The buckets of a SUMMARY_TEXT in b order, with the quantiles at `levels` (indices into
 * SMOKE_QUANTILES). Read in one pass over the characters: no substring per field.
 */
export function parseSummaryText(text: string, levels: readonly number[]): TextBucket[] {
  const out: TextBucket[] = [];
  const last = SMOKE_QUANTILES.length - 1;
  const f: number[] = [];
  const interior: number[] = [];
  let i = 0;
  const len = text.length;
  while (i < len) {
    // The numeric fields up to the quantiles (an empty one is NaN).
    f.length = 0;
    let c = 0;
    while (f.length < 8 && i <= len) {
      let v = 0;
      let digits = 0;
      let neg = false;
      while (i < len && (c = text.charCodeAt(i)) !== 44 && c !== 59) {
        if (c === 45) neg = true; else { v = v * 10 + (c - 48); digits++; }
        i++;
      }
      f.push(digits ? (neg ? -v : v) : NaN);
      i++;
      if (c === 59 || i > len) break;
    }
    const [b, rounds, sent, lost, n, min, max, median] = f as [number, number, number, number, number, number?, number?, number?];
    const summary: BucketSummary = { rounds, sent, lost, median: median === undefined || Number.isNaN(median) ? null : median, q: [] };
    if (f.length < 8 || !(n > 0)) { out.push({ b, n, summary }); continue; }
    // The quantiles: hex of the varint deltas from min, to the end of the bucket.
    interior.length = 0;
    let prev = min!;
    let v = 0;
    let mul = 1;
    while (i + 1 < len && (c = text.charCodeAt(i)) !== 59) {
      const byte = (HEX[c]! << 4) | HEX[text.charCodeAt(i + 1)]!;
      v += (byte & 0x7f) * mul;
      if (byte < 0x80) { prev += v; interior.push(prev); v = 0; mul = 1; } else mul *= 0x80;
      i += 2;
    }
    i++;
    if (!interior.length) { out.push({ b, n, summary: null }); continue; }
    for (const k of levels) summary.q.push(k === 0 ? min! : k === last ? max! : interior[k - 1] ?? max!);
    out.push({ b, n, summary });
  }
  // group_concat keeps the index's order (series, b); sorted here rather than trusted.
  for (let k = 1; k < out.length; k++) {
    if (out[k]!.b < out[k - 1]!.b) return out.sort((x, y) => x.b - y.b);
  }
  return out;
}

/** Reused for every quantile blob, as `scratch` for sketches. */
const qScratch = new ByteWriter(64);

/**
 * A bucket's interior quantiles as its `q` column: ascending varint deltas from min. With
 * `transient`, a view of a shared scratch buffer (see toRow).
 */
export function encodeQuantiles(min: number, q: readonly number[], transient = false): Buffer {
  const w = qScratch;
  w.reset();
  let prev = min;
  for (const v of q) { w.varint(Math.max(0, v - prev)); prev = Math.max(prev, v); }
  return transient ? w.view() : w.bytes();
}

/** The `q` column as µs values. */
export function decodeQuantiles(min: number, blob: Uint8Array): number[] {
  const r = new ByteReader(blob);
  const out: number[] = [];
  let prev = min;
  while (!r.done) { prev += r.varint(); out.push(prev); }
  return out;
}

/** The bucket as a series point (ms), starting at `time`. */
export function toPoint(time: number, b: BucketState): SeriesPoint {
  const row = toRowStats(b);
  const point: SeriesPoint = {
    time,
    rounds: b.rounds,
    sent: b.sent,
    lost: b.lost,
    loss_pct: b.sent > 0 ? (100 * b.lost) / b.sent : null,
    median: row.median,
    mean: row.mean,
    min: row.min,
    max: row.max,
    stddev: row.stddev,
    smoke: quantilesUs(b).map(toMs),
  };
  const x = b.extra;
  if (x?.p) point.phases = Object.fromEntries(Object.entries(x.p).map(([k, [s, c]]) => [k, c > 0 ? s / c : 0]));
  if (x?.s !== undefined) point.status = x.s;
  if (x?.e !== undefined) point.error = x.e;
  return point;
}

function toRowStats(b: BucketState): { median: number | null; mean: number | null; min: number | null; max: number | null; stddev: number | null } {
  const has = b.n > 0;
  return {
    median: b.medN > 0 ? toMs(Math.round(b.medSum / b.medN)) : null,
    mean: has ? toMs(Math.round(meanOf(b))) : null,
    min: has ? toMs(b.min) : null,
    max: has ? toMs(b.max) : null,
    stddev: has ? toMs(Math.round(stddevOf(b))) : null,
  };
}

function isSorted(a: number[]): boolean {
  for (let i = 1; i < a.length; i++) if (a[i]! < a[i - 1]!) return false;
  return true;
}
