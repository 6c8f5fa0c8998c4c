import type Database from 'better-sqlite3';
import { lossPct, type Round } from '../probes/round.ts';
import { fromRow, mergeBucket, emptyBucket, toPoint, type BucketState } from './bucket.ts';
import { toMs, unpackAscendingUs } from './codec.ts';
import { pointFromRaw, type RawRow, type SeriesRow } from './raw.ts';
import { roundFields, type RecentIndex, type WindowAgg } from './recent.ts';
import { firstBucket, readBuckets } from './tier-rows.ts';
import type { Tier } from './tiers.ts';
import type { SeriesQuery, SeriesResult, TopMetric, TopRow } from './types.ts';

/** What the read side needs from the store. */
export interface QueryContext {
  tiers: readonly Tier[];
  rawKeepMs: number;
  now(): number;
  stmt(sql: string): Database.Statement;
  /** The in-memory recent past, when the store keeps it (created on first use). */
  recent?: () => RecentIndex | undefined;
}

/** Points returned when a query does not say. */
export const DEFAULT_POINTS = 1000;

/** A series over [from, to] from the finest tier that covers it within `points` points. */
export function querySeries(ctx: QueryContext, q: SeriesQuery): SeriesResult {
  const s = ctx.stmt('SELECT * FROM series WHERE target = ? AND agent = ?').get(q.target, q.agent) as SeriesRow | undefined;
  const maxPoints = Math.max(1, Math.floor(q.points ?? DEFAULT_POINTS));
  if (!s || q.to < q.from) return { target: q.target, agent: q.agent, tier: 'raw', resolution: s?.step ?? 0, points: [] };

  const span = q.to - q.from;
  const now = ctx.now();
  const start = Math.max(q.from, s.first);
  // A tier covers the range if it still holds everything from the range's start (or the series'
  // first round), by retention and by what it actually holds: imported history reaches further
  // back in the coarse tiers than in the fine ones (one bucket of slack for alignment).
  const covers = (keepMs: number, table: string, ms: number) => start >= now - keepMs && heldFrom(ctx, s.id, table) <= start + ms;
  const rawCount = span / (s.step * 1000) + 1;
  if (rawCount <= maxPoints && covers(ctx.rawKeepMs, 'raw', s.step * 1000)) {
    const rows = ctx.stmt('SELECT time, step, sent, rtts, extra FROM raw WHERE series = ? AND time >= ? AND time <= ? ORDER BY time')
      .all(s.id, q.from, q.to) as RawRow[];
    return { target: q.target, agent: q.agent, tier: 'raw', resolution: s.step, points: rows.map(pointFromRaw) };
  }
  if (ctx.tiers.length === 0) {
    // No rollups configured: raw, thinned by merging neighbours would need a sketch; return raw capped.
    const rows = ctx.stmt('SELECT time, step, sent, rtts, extra FROM raw WHERE series = ? AND time >= ? AND time <= ? ORDER BY time')
      .all(s.id, q.from, q.to) as RawRow[];
    return { target: q.target, agent: q.agent, tier: 'raw', resolution: s.step, points: rows.slice(-maxPoints).map(pointFromRaw) };
  }
  const covering = ctx.tiers.filter((t) => covers(t.keepMs, t.table, t.ms));
  const tier = covering.find((t) => span / t.ms + 1 <= maxPoints)
    ?? covering[covering.length - 1]
    ?? ctx.tiers.reduce((a, b) => (b.keepMs > a.keepMs ? b : a));
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
