/**
 * The engine's memory of every series, in columns (one typed array per field) instead of one
 * object per series: at 100,000 series a step then copies a few megabytes instead of
 * allocating 100,000 objects that all survive into the old generation. A step never writes
 * into the columns it was given; it copies them first. The key → slot index is shared and
 * only ever grows, so an older state stays valid: a slot beyond its `size` is simply unknown
 * to it.
 */

/** What the engine remembers of one series between steps. */
export interface SeriesMemo {
  /** Time of the newest round already counted (a round is counted once). */
  last: number;
  /** Baseline median (EWMA of good rounds), null until the first good round. */
  base: number | null;
  /** Good rounds the baseline has seen. */
  samples: number;
  /** Whether the newest counted round was bad, and why. */
  bad: false | 'loss' | 'latency';
  /** Start of the current run of bad rounds, or null when the latest round is good. */
  badSince: number | null;
}

export interface SeriesColumns {
  /** seriesKey → slot; shared between a state and the states derived from it (append-only). */
  index: Map<string, number>;
  /** Slots this state knows (index entries at or beyond it are newer than this state). */
  size: number;
  /** Per slot; NaN = nothing remembered. */
  last: Float64Array;
  base: Float64Array;
  samples: Float64Array;
  /** 0 good, 1 bad by loss, 2 bad by latency. */
  bad: Uint8Array;
  badSince: Float64Array;
}

const BAD = [false, 'loss', 'latency'] as const;

/** Columns that remember nothing. */
export function emptyColumns(): SeriesColumns {
  return { index: new Map(), size: 0, last: new Float64Array(0), base: new Float64Array(0), samples: new Float64Array(0), bad: new Uint8Array(0), badSince: new Float64Array(0) };
}

/** A writable copy with room for `more` new slots. */
export function copyColumns(prev: SeriesColumns, more: number): SeriesColumns {
  const cap = prev.index.size + more;
  const grow = (a: Float64Array) => {
    const out = new Float64Array(cap).fill(NaN);
    out.set(a.subarray(0, Math.min(a.length, prev.size)));
    return out;
  };
  const bad = new Uint8Array(cap);
  bad.set(prev.bad.subarray(0, Math.min(prev.bad.length, prev.size)));
  return { index: prev.index, size: prev.size, last: grow(prev.last), base: grow(prev.base), samples: grow(prev.samples), bad, badSince: grow(prev.badSince) };
}

/** The slot of `key` (a new one when this index never saw it); the columns must have room. */
export function slotOf(cols: SeriesColumns, key: string): number {
  let slot = cols.index.get(key);
  if (slot === undefined) {
    slot = cols.index.size;
    cols.index.set(key, slot);
  }
  if (slot >= cols.size) cols.size = slot + 1;
  return slot;
}

/** What the columns remember of slot `slot`, read into `out` (returns undefined for nothing). */
export function readMemo(cols: SeriesColumns, slot: number, out: SeriesMemo): SeriesMemo | undefined {
  if (slot >= cols.size || Number.isNaN(cols.last[slot]!)) return undefined;
  out.last = cols.last[slot]!;
  out.base = Number.isNaN(cols.base[slot]!) ? null : cols.base[slot]!;
  out.samples = cols.samples[slot]!;
  out.bad = BAD[cols.bad[slot]!]!;
  out.badSince = Number.isNaN(cols.badSince[slot]!) ? null : cols.badSince[slot]!;
  return out;
}

/** Writes a memo into slot `slot`. */
export function writeMemo(cols: SeriesColumns, slot: number, m: SeriesMemo): void {
  cols.last[slot] = m.last;
  cols.base[slot] = m.base ?? NaN;
  cols.samples[slot] = m.samples;
  cols.bad[slot] = m.bad === 'loss' ? 1 : m.bad === 'latency' ? 2 : 0;
  cols.badSince[slot] = m.badSince ?? NaN;
}

/** Forgets slots last heard of before `before`; rebuilds the index when most of it is dead. */
export function forget(cols: SeriesColumns, before: number): SeriesColumns {
  let live = 0;
  for (let i = 0; i < cols.size; i++) {
    if (Number.isNaN(cols.last[i]!)) continue;
    if (cols.last[i]! < before) cols.last[i] = NaN;
    else live++;
  }
  if (cols.index.size < 1024 || live * 2 > cols.index.size) return cols;
  const out = copyColumns(emptyColumns(), live);
  const m: SeriesMemo = { last: 0, base: null, samples: 0, bad: false, badSince: null };
  for (const [key, slot] of cols.index) {
    if (!readMemo(cols, slot, m)) continue;
    writeMemo(out, slotOf(out, key), m);
  }
  return out;
}

/** The memory of one series (tests, API). */
export function memoOf(cols: SeriesColumns, key: string): SeriesMemo | undefined {
  const slot = cols.index.get(key);
  return slot === undefined ? undefined : readMemo(cols, slot, { last: 0, base: null, samples: 0, bad: false, badSince: null });
}
