import type Database from 'better-sqlite3';
import { lossPct, type Round } from '../probes/round.ts';
import { fromRow, mergeBucket, emptyBucket, toPoint, type BucketState, type BucketSummary, type TextBucket } from './bucket.ts';
import { toMs, unpackAscendingUs } from './codec.ts';
import { pointFromRaw, type RawRow, type SeriesRow } from './raw.ts';
import { roundFields, type RecentIndex, type WindowAgg } from './recent.ts';
import { firstBucket, readBuckets, readSummaries } from './tier-rows.ts';
import { MAX_SPAN, type SummaryCache } from './summary-cache.ts';
import type { Tier } from './tiers.ts';
import { atLevels, emptySummary, levelIndices, pushPoint } from './summary.ts';
import { SMOKE_QUANTILES, type SeriesQuery, type SeriesResult, type SeriesSummary, type SummaryQuery, type TopMetric, type TopRow } from './types.ts';

/** What the read side needs from the store. */
export interface QueryContext {
  tiers: readonly Tier[];
  rawKeepMs: number;
  now(): number;
  stmt(sql: string): Database.Statement;
  /** The in-memory recent past, when the store keeps it (created on first use). */
  recent?: () => RecentIndex | undefined;
  /** The writer's cache of recent bucket summaries, when the store keeps it (summary-cache.ts). */
  summaryCache?: SummaryCache;
}

/** Every SMOKE_QUANTILES level, by index: what the summary cache is filled with. */
const ALL_LEVELS = SMOKE_QUANTILES.map((_, i) => i);

/** Points returned when a query does not say. */
export const DEFAULT_POINTS = 1000;

/** Where a series' points over a range come from: raw rounds (the last `points` when no tier is configured) or a tier. */
type Source = { raw: true; capped: boolean } | { raw: false; tier: Tier };

/**
 * The finest source that covers [from, to] within `maxPoints`. A source covers the range if it
 * still holds everything from the range's start (or the series' first round), by retention and
 * by what it actually holds: imported history reaches further back in the coarse tiers than in
 * the fine ones (one bucket of slack for alignment).
 */
function sourceOf(ctx: QueryContext, s: SeriesRow, from: number, to: number, maxPoints: number): Source {
  const span = to - from;
  const now = ctx.now();
  const start = Math.max(from, s.first);
  // Within raw retention every tier holds every bucket (rounds and imported intervals alike
  // are added to all of them): only older starts need asking what a tier holds.
  const complete = start >= now - ctx.rawKeepMs;
  const covers = (keepMs: number, table: string, ms: number) => start >= now - keepMs
    && ((complete && table !== 'raw') || heldFrom(ctx, s.id, table) <= start + ms);
  if (span / (s.step * 1000) + 1 <= maxPoints && covers(ctx.rawKeepMs, 'raw', s.step * 1000)) return { raw: true, capped: false };
  // No rollups configured: raw, thinned by merging neighbours would need a sketch; return raw capped.
  if (ctx.tiers.length === 0) return { raw: true, capped: true };
  // The first covering tier that fits; else the coarsest covering one; else the longest kept.
  let coarsest: Tier | undefined;
  for (const t of ctx.tiers) {
    if (!covers(t.keepMs, t.table, t.ms)) continue;
    if (span / t.ms + 1 <= maxPoints) return { raw: false, tier: t };
    coarsest = t;
  }
  return { raw: false, tier: coarsest ?? ctx.tiers.reduce((a, b) => (b.keepMs > a.keepMs ? b : a)) };
}

/** A series over [from, to] from the finest tier that covers it within `points` points. */
export function querySeries(ctx: QueryContext, q: SeriesQuery): SeriesResult {
  const s = ctx.stmt('SELECT * FROM series WHERE target = ? AND agent = ?').get(q.target, q.agent) as SeriesRow | undefined;
  const maxPoints = Math.max(1, Math.floor(q.points ?? DEFAULT_POINTS));
  if (!s || q.to < q.from) return { target: q.target, agent: q.agent, tier: 'raw', resolution: s?.step ?? 0, points: [] };

  const src = sourceOf(ctx, s, q.from, q.to, maxPoints);
  if (src.raw) {
    const rows = ctx.stmt('SELECT time, step, sent, rtts, extra FROM raw WHERE series = ? AND time >= ? AND time <= ? ORDER BY time')
      .all(s.id, q.from, q.to) as RawRow[];
    return { target: q.target, agent: q.agent, tier: 'raw', resolution: s.step, points: (src.capped ? rows.slice(-maxPoints) : rows).map(pointFromRaw) };
  }
  const tier = src.tier;
  const rows = readBuckets(ctx.stmt, tier, s.id, Math.floor(q.from / tier.ms), Math.floor(q.to / tier.ms));
  // Still too many points (range longer than the coarsest tier allows): merge neighbours.
  const group = Math.max(1, Math.ceil(rows.length / maxPoints));
  const points = [];
  for (let i = 0; i < rows.length; i += group) {
    const first = rows[i]!;
    let state: BucketState = fromRow(first);
    if (group > 1) {
      const acc = emptyBucket();
      for (let j = i; j < Math.min(rows.length, i + group); j++) mergeBucket(acc, fromRow(rows[j]!));
      state = acc;
    }
    points.push(toPoint(first.b * tier.ms, state));
  }
  return { target: q.target, agent: q.agent, tier: tier.name, resolution: tier.bucket * group, points };
}

/**
 * Store.summaries over SQLite: each series from the source series() would use, one statement
 * per source for all the series (no histogram decoded: the quantiles kept beside open buckets'
 * histograms, and sealed buckets' from their packs; tier-rows.ts readSummaries). Past the
 * coarsest tier, neighbours merge as in series(), except the interior quantiles: their mean
 * weighted by the RTTs received.
 */
export function querySummaries(ctx: QueryContext, q: SummaryQuery): SeriesSummary[] {
  const maxPoints = Math.max(1, Math.floor(q.points));
  if (q.targets.length === 0 || q.to < q.from) return [];
  const idx = levelIndices(q.levels);
  const list = ctx.stmt('SELECT * FROM series WHERE target IN (SELECT value FROM json_each(?)) ORDER BY target, agent')
    .all(JSON.stringify(q.targets)) as SeriesRow[];
  const out: SeriesSummary[] = [];
  // Series grouped by source, so that one statement reads all of a source's series.
  const raw: Array<[SeriesRow, SeriesSummary, boolean]> = [];
  const byTier = new Map<Tier, Array<[SeriesRow, SeriesSummary]>>();
  for (const s of list) {
    const src = sourceOf(ctx, s, q.from, q.to, maxPoints);
    const sum = emptySummary(s.target, s.agent, src.raw ? 'raw' : src.tier.name, src.raw ? s.step : src.tier.bucket);
    out.push(sum);
    if (src.raw) raw.push([s, sum, src.capped]);
    else {
      let l = byTier.get(src.tier);
      if (!l) byTier.set(src.tier, (l = []));
      l.push([s, sum]);
    }
  }
  if (raw.length) {
    const rows = rowsBySeries<RawRow & { series: number }>(ctx, 'SELECT series, time, step, sent, rtts, NULL AS extra FROM raw WHERE series IN (SELECT value FROM json_each(?)) AND time >= ? AND time <= ? ORDER BY series, time',
      raw.map(([s]) => s.id), q.from, q.to);
    for (const [s, sum, capped] of raw) {
      const mine = rows.get(s.id) ?? [];
      for (const row of capped ? mine.slice(-maxPoints) : mine) {
        const p = pointFromRaw(row);
        pushPoint(sum, p.time, p.sent, p.lost, p.median, atLevels(p.smoke, q.levels));
      }
    }
  }
  for (const [tier, members] of byTier) {
    const ti = ctx.tiers.indexOf(tier);
    const fromB = Math.floor(q.from / tier.ms);
    const toB = Math.floor(q.to / tier.ms);
    // A recent range is read from the summary cache; series it does not hold yet are read from
    // the file (every bucket from the range's start on) and cached.
    const nowB = Math.floor(ctx.now() / tier.ms);
    const cache = ctx.summaryCache && fromB >= nowB - MAX_SPAN ? ctx.summaryCache : undefined;
    const missing = members.filter(([s]) => !cache?.holds(ti, s.id, fromB)).map(([s]) => s.id);
    // Open rows and sealed (packed) buckets alike, as series() reads them.
    const read = missing.length ? readSummaries(ctx.stmt, tier, missing, fromB, cache ? Number.MAX_SAFE_INTEGER : toB, cache ? ALL_LEVELS : idx) : new Map<number, TextBucket[]>();
    if (cache) for (const id of missing) cache.fill(ti, id, fromB, nowB - fromB, read.get(id) ?? []);
    for (const [s, sum] of members) {
      if (cache?.holds(ti, s.id, fromB)) {
        const group = Math.max(1, Math.ceil(cache.count(ti, s.id, fromB, toB) / maxPoints));
        sum.resolution = tier.bucket * group;
        if (group === 1) cache.appendPoints(ti, s.id, fromB, toB, idx, tier.ms, sum);
        else pushBuckets(sum, tier, cache.textBuckets(ti, s.id, fromB, toB, idx), group, idx);
        continue;
      }
      let buckets = read.get(s.id) ?? [];
      // Read for the cache (which did not keep them): to the range's end, at the asked levels.
      if (cache) buckets = buckets.filter((x) => x.b <= toB).map((x) => ({ ...x, summary: { ...x.summary!, q: x.summary!.q.length ? idx.map((i) => x.summary!.q[i]!) : [] } }));
      const group = Math.max(1, Math.ceil(buckets.length / maxPoints));
      sum.resolution = tier.bucket * group;
      pushBuckets(sum, tier, buckets, group, idx);
    }
    cache?.bound();
  }
  return out;
}

/** A bucket summary (µs) as a summary's point (ms). */
function pushBucket(sum: SeriesSummary, time: number, b: BucketSummary): void {
  const smoke = new Array<number>(b.q.length);
  for (let k = 0; k < b.q.length; k++) smoke[k] = toMs(b.q[k]!);
  pushPoint(sum, time, b.sent, b.lost, b.median === null ? null : toMs(b.median), smoke);
}

/** Buckets (ascending, quantiles at the asked levels) as points, `group` neighbours merged into each. */
function pushBuckets(sum: SeriesSummary, tier: Tier, buckets: readonly TextBucket[], group: number, idx: readonly number[]): void {
  for (let i = 0; i < buckets.length; i += group) {
    pushBucket(sum, buckets[i]!.b * tier.ms, group === 1 ? buckets[i]!.summary! : mergedSummary(buckets.slice(i, i + group), idx));
  }
}

/** Rows of a statement whose first parameter is a JSON list of series ids, grouped by their `series` column. */
function rowsBySeries<R extends { series: number }>(ctx: QueryContext, sql: string, ids: number[], from: number, to: number): Map<number, R[]> {
  const m = new Map<number, R[]>();
  for (const row of ctx.stmt(sql).all(JSON.stringify(ids), from, to) as R[]) {
    let l = m.get(row.series);
    if (!l) m.set(row.series, (l = []));
    l.push(row);
  }
  return m;
}

/** Neighbouring buckets as one: counts added, median weighted by rounds, min and max exact, interior quantiles averaged by RTTs received. */
function mergedSummary(buckets: TextBucket[], idx: readonly number[]): BucketSummary {
  const last = SMOKE_QUANTILES.length - 1;
  const acc: BucketSummary = { rounds: 0, sent: 0, lost: 0, median: null, q: [] };
  let medSum = 0;
  let medN = 0;
  let n = 0;
  const q = idx.map((i) => (i === 0 ? Infinity : i === last ? -Infinity : 0));
  for (const { n: bn, summary: b } of buckets) {
    acc.rounds += b!.rounds;
    acc.sent += b!.sent;
    acc.lost += b!.lost;
    if (b!.median !== null) { medSum += b!.median * b!.rounds; medN += b!.rounds; }
    if (!b!.q.length) continue;
    n += bn;
    idx.forEach((i, k) => {
      if (i === 0) q[k] = Math.min(q[k]!, b!.q[k]!);
      else if (i === last) q[k] = Math.max(q[k]!, b!.q[k]!);
      else q[k] = q[k]! + b!.q[k]! * bn;
    });
  }
  if (medN > 0) acc.median = Math.round(medSum / medN);
  if (n > 0) acc.q = idx.map((i, k) => (i === 0 || i === last ? q[k]! : Math.round(q[k]! / n)));
  return acc;
}

/** Time (ms) of the oldest round or bucket a table holds for the series; +Infinity when none. */
function heldFrom(ctx: QueryContext, series: number, table: string): number {
  if (table === 'raw') {
    const r = ctx.stmt('SELECT time FROM raw WHERE series = ? ORDER BY time LIMIT 1').get(series) as { time: number } | undefined;
    return r ? r.time : Infinity;
  }
  const t = ctx.tiers.find((x) => x.table === table)!;
  const b = firstBucket(ctx.stmt, t, series);
  return b === undefined ? Infinity : b * t.ms;
}

/**
 * Top-N series by `metric` over [from, to]: from raw rounds for short windows, else from the
 * finest tier that holds the window (whole buckets overlapping it). Windows within what
 * `ctx.recent` holds are added up in memory; the rest in SQLite. Both add the same integers.
 */
export function queryTopWindow(ctx: QueryContext, metric: TopMetric, n: number, from: number, to: number): TopRow[] {
  const span = to - from;
  const now = ctx.now();
  const finest = ctx.tiers[0];
  const recent = ctx.recent?.();
  let aggs: WindowAgg[];
  let names: (id: number) => { target: string; agent: string } | undefined;
  if (!finest || (span < 2 * finest.ms && from >= now - ctx.rawKeepMs)) {
    if (recent?.holdsRounds(from)) {
      aggs = recent.roundAggs(from, to);
      names = (id) => recent.names(id);
    } else {
      aggs = rawAggs(ctx, from, to);
      names = seriesNames(ctx);
    }
  } else {
    const tier = ctx.tiers.find((t) => from >= now - t.keepMs) ?? ctx.tiers[ctx.tiers.length - 1]!;
    const fromB = Math.floor(from / tier.ms);
    const toB = Math.floor(to / tier.ms);
    if (tier === finest && recent?.holdsBuckets(fromB)) {
      aggs = recent.bucketAggs(fromB, toB);
      names = (id) => recent.names(id);
    } else {
      aggs = tierAggs(ctx, tier, fromB, toB);
      names = seriesNames(ctx);
    }
  }
  const ranked: TopRow[] = [];
  for (const a of aggs) {
    // Sums are integer µs; ms from here on.
    const median = a.medN > 0 ? toMs(a.medSum) / a.medN : null;
    const loss = a.sent > 0 ? (100 * a.lost) / a.sent : null;
    let value: number | null;
    if (metric === 'loss') value = loss;
    else if (metric === 'median') value = median;
    else if (metric === 'max') value = a.max < 0 ? null : toMs(a.max);
    else value = a.n > 0 ? Math.sqrt(Math.max(0, a.sumsq / 1e6 / a.n - (toMs(a.sum) / a.n) ** 2)) : null;
    const s = names(a.series);
    if (value === null || !s) continue;
    ranked.push({ target: s.target, agent: s.agent, value, loss_pct: loss, median, time: a.time });
  }
  return rank(ranked, n);
}

/** Per-series sums of the raw rounds in [from, to], from SQLite. */
function rawAggs(ctx: QueryContext, from: number, to: number): WindowAgg[] {
  const rows = ctx.stmt(`SELECT s.id AS series, r.time, r.sent, r.rtts FROM series s CROSS JOIN raw r
    ON r.series = s.id AND r.time >= ? AND r.time <= ? ORDER BY s.id`).iterate(from, to) as Iterable<{ series: number; time: number; sent: number; rtts: Buffer | null }>;
  const aggs: WindowAgg[] = [];
  let cur: WindowAgg | undefined;
  for (const row of rows) {
    if (cur?.series !== row.series) {
      cur = { series: row.series, time: 0, sent: 0, lost: 0, medSum: 0, medN: 0, max: -1, n: 0, sum: 0, sumsq: 0 };
      aggs.push(cur);
    }
    const f = roundFields(row.time, row.sent, unpackAscendingUs(row.rtts));
    if (row.time > cur.time) cur.time = row.time;
    cur.sent += f[1]!;
    cur.lost += f[2]!;
    cur.medSum += f[3]!;
    cur.medN += f[4]!;
    if (f[5]! > cur.max) cur.max = f[5]!;
    cur.n += f[6]!;
    cur.sum += f[7]!;
    cur.sumsq += f[8]!;
  }
  return aggs;
}

/** Per-series sums of a tier's buckets with index in [fromB, toB], from SQLite (open and packed). */
function tierAggs(ctx: QueryContext, tier: Tier, fromB: number, toB: number): WindowAgg[] {
  const aggs: WindowAgg[] = [];
  let cur: WindowAgg | undefined;
  for (const r of readBuckets(ctx.stmt, tier, null, fromB, toB)) {
    if (cur?.series !== r.series) {
      cur = { series: r.series, time: 0, sent: 0, lost: 0, medSum: 0, medN: 0, max: -1, n: 0, sum: 0, sumsq: 0 };
      aggs.push(cur);
    }
    // The sums the recent index keeps for a bucket (recent.ts), from the same columns.
    const mean = r.mean ?? 0;
    const sd = r.stddev ?? 0;
    cur.time = Math.max(cur.time, r.b * tier.ms);
    cur.sent += r.sent;
    cur.lost += r.lost;
    if (r.median !== null) { cur.medSum += r.median * r.rounds; cur.medN += r.rounds; }
    if (r.max !== null && r.max > cur.max) cur.max = r.max;
    cur.n += r.n;
    if (r.mean !== null) { cur.sum += r.n * mean; cur.sumsq += r.n * (sd * sd + mean * mean); }
  }
  return aggs;
}

/** Top-N of the given (latest) rounds. */
export function topOfRounds(rounds: Iterable<Round>, metric: TopMetric, n: number): TopRow[] {
  const ranked: TopRow[] = [];
  for (const r of rounds) {
    const value = metric === 'loss' ? lossPct(r) : r[metric];
    if (value === null) continue;
    ranked.push({ target: r.target, agent: r.agent, value, loss_pct: r.sent > 0 ? lossPct(r) : null, median: r.median, time: r.time });
  }
  return rank(ranked, n);
}

/** Sorts by value (descending), then path and agent, and keeps the first n. */
export function rank(rows: TopRow[], n: number): TopRow[] {
  rows.sort((a, b) => b.value - a.value || a.target.localeCompare(b.target) || a.agent.localeCompare(b.agent));
  return rows.slice(0, Math.max(0, n));
}

function seriesNames(ctx: QueryContext): (id: number) => { target: string; agent: string } | undefined {
  const m = new Map<number, { target: string; agent: string }>();
  for (const r of ctx.stmt('SELECT id, target, agent FROM series').all() as Array<{ id: number; target: string; agent: string }>) m.set(r.id, r);
  return (id) => m.get(id);
}
