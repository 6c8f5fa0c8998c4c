import type Database from 'better-sqlite3';
import { lossPct, type Round } from '../probes/round.ts';
import { fromRow, mergeBucket, emptyBucket, toPoint, type BucketRow, type BucketState } from './bucket.ts';
import { toMs, unpackAscending } from './codec.ts';
import { pointFromRaw, type RawRow, type SeriesRow } from './raw.ts';
import type { Tier } from './tiers.ts';
import type { SeriesQuery, SeriesResult, TopMetric, TopRow } from './types.ts';

/** What the read side needs from the store. */
export interface QueryContext {
  tiers: readonly Tier[];
  rawKeepMs: number;
  now(): number;
  stmt(sql: string): Database.Statement;
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
  // A tier covers the range if it still holds everything from the range's start (or the series' first round).
  const covers = (keepMs: number) => Math.max(q.from, s.first) >= now - keepMs;
  const rawCount = span / (s.step * 1000) + 1;
  if (covers(ctx.rawKeepMs) && rawCount <= maxPoints) {
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
  const covering = ctx.tiers.filter((t) => covers(t.keepMs));
  const tier = covering.find((t) => span / t.ms + 1 <= maxPoints)
    ?? covering[covering.length - 1]
    ?? ctx.tiers.reduce((a, b) => (b.keepMs > a.keepMs ? b : a));
  const rows = ctx.stmt(`SELECT * FROM ${tier.table} WHERE series = ? AND b >= ? AND b <= ? ORDER BY b`)
    .all(s.id, Math.floor(q.from / tier.ms), Math.floor(q.to / tier.ms)) as Array<BucketRow & { b: number }>;
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

/** Per-series aggregate over a window. */
interface Agg {
  series: number;
  time: number;
  sent: number;
  lost: number;
  medSum: number;
  medN: number;
  max: number | null;
  n: number;
  sum: number;
  sumsq: number;
}

/** Top-N series by `metric` over [from, to]: from raw rounds for short windows, else the finest covering tier. */
export function queryTopWindow(ctx: QueryContext, metric: TopMetric, n: number, from: number, to: number): TopRow[] {
  const span = to - from;
  const now = ctx.now();
  const finest = ctx.tiers[0];
  const aggs: Agg[] = [];
  if (!finest || (span < 2 * finest.ms && from >= now - ctx.rawKeepMs)) {
    const rows = ctx.stmt(`SELECT s.id AS series, r.time, r.sent, r.rtts FROM series s CROSS JOIN raw r
      ON r.series = s.id AND r.time >= ? AND r.time <= ? ORDER BY s.id`).all(from, to) as Array<{ series: number; time: number; sent: number; rtts: Buffer | null }>;
    let cur: Agg | undefined;
    for (const row of rows) {
      if (cur?.series !== row.series) {
        cur = { series: row.series, time: 0, sent: 0, lost: 0, medSum: 0, medN: 0, max: null, n: 0, sum: 0, sumsq: 0 };
        aggs.push(cur);
      }
      const rtts = unpackAscending(row.rtts);
      cur.time = Math.max(cur.time, row.time);
      cur.sent += row.sent;
      cur.lost += Math.max(0, row.sent - rtts.length);
      if (rtts.length) {
        cur.medSum += rtts[Math.floor(rtts.length / 2)]!;
        cur.medN += 1;
        cur.max = Math.max(cur.max ?? 0, rtts[rtts.length - 1]!);
        for (const v of rtts) { cur.n += 1; cur.sum += v; cur.sumsq += v * v; }
      }
    }
  } else {
    const tier = ctx.tiers.find((t) => from >= now - t.keepMs) ?? ctx.tiers[ctx.tiers.length - 1]!;
    const rows = ctx.stmt(`SELECT s.id AS series, max(r.b) AS b, sum(r.sent) AS sent, sum(r.lost) AS lost,
        sum(r.median * r.rounds) AS medSum, sum(CASE WHEN r.median IS NULL THEN 0 ELSE r.rounds END) AS medN,
        max(r.max) AS max, sum(r.n) AS n, sum(r.n * r.mean) AS sum,
        sum(r.n * (r.stddev * r.stddev + r.mean * r.mean)) AS sumsq
      FROM series s CROSS JOIN ${tier.table} r ON r.series = s.id AND r.b >= ? AND r.b <= ?
      GROUP BY s.id`).all(Math.floor(from / tier.ms), Math.floor(to / tier.ms)) as Array<Omit<Agg, 'time'> & { b: number }>;
    for (const r of rows) {
      // Tier columns are µs.
      aggs.push({ ...r, time: r.b * tier.ms, medSum: toMs(r.medSum ?? 0), max: r.max === null ? null : toMs(r.max), sum: toMs(r.sum ?? 0), sumsq: (r.sumsq ?? 0) / 1e6 });
    }
  }
  const names = seriesNames(ctx);
  const ranked: TopRow[] = [];
  for (const a of aggs) {
    const median = a.medN > 0 ? a.medSum / a.medN : null;
    const loss = a.sent > 0 ? (100 * a.lost) / a.sent : null;
    let value: number | null;
    if (metric === 'loss') value = loss;
    else if (metric === 'median') value = median;
    else if (metric === 'max') value = a.max;
    else value = a.n > 0 ? Math.sqrt(Math.max(0, a.sumsq / a.n - (a.sum / a.n) ** 2)) : null;
    const s = names.get(a.series);
    if (value === null || !s) continue;
    ranked.push({ target: s.target, agent: s.agent, value, loss_pct: loss, median, time: a.time });
  }
  return rank(ranked, n);
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

function rank(rows: TopRow[], n: number): TopRow[] {
  rows.sort((a, b) => b.value - a.value || a.target.localeCompare(b.target) || a.agent.localeCompare(b.agent));
  return rows.slice(0, Math.max(0, n));
}

function seriesNames(ctx: QueryContext): Map<number, { target: string; agent: string }> {
  const m = new Map<number, { target: string; agent: string }>();
  for (const r of ctx.stmt('SELECT id, target, agent FROM series').all() as Array<{ id: number; target: string; agent: string }>) m.set(r.id, r);
  return m;
}
