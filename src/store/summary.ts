import { SMOKE_QUANTILES, type SeriesPoint, type SeriesSummary, type SummaryQuery } from './types.ts';

/**
 * Pure helpers of Store.summaries, shared by the backends: which quantiles a summary keeps,
 * and how points become a summary's columns.
 */

/** Indices into SMOKE_QUANTILES of the asked levels; throws on a level that is not one of them. */
export function levelIndices(levels: readonly number[]): number[] {
  return levels.map((l) => {
    const i = SMOKE_QUANTILES.indexOf(l as (typeof SMOKE_QUANTILES)[number]);
    if (i < 0) throw new RangeError(`summary level ${l} is not one of the kept quantiles (${SMOKE_QUANTILES.join(', ')})`);
    return i;
  });
}

/** The values of an ascending list at the levels (rank level × (n − 1), rounded): a raw round's quantiles. */
export function atLevels(sorted: readonly number[], levels: readonly number[]): number[] {
  const n = sorted.length;
  if (n === 0) return [];
  return levels.map((l) => sorted[Math.round(l * (n - 1))]!);
}

/** An empty summary of one series at a resolution. */
export function emptySummary(target: string, agent: string, tier: string, resolution: number): SeriesSummary {
  return { target, agent, tier, resolution, time: [], loss_pct: [], median: [], smoke: [] };
}

/** Appends one point (ms figures; smoke already at the query's levels). */
export function pushPoint(s: SeriesSummary, time: number, sent: number, lost: number, median: number | null, smoke: number[]): void {
  s.time.push(time);
  s.loss_pct.push(sent > 0 ? (100 * lost) / sent : null);
  s.median.push(median);
  s.smoke.push(median === null ? [] : smoke);
}

/**
 * A series' points as a summary: a raw round's smoke (its RTTs) read at the levels, a
 * bucket's (its SMOKE_QUANTILES) picked at them.
 */
export function summaryOfPoints(target: string, agent: string, tier: string, resolution: number, points: readonly SeriesPoint[], q: Pick<SummaryQuery, 'levels'>): SeriesSummary {
  const s = emptySummary(target, agent, tier, resolution);
  const idx = tier === 'raw' ? [] : levelIndices(q.levels);
  for (const p of points) {
    const smoke = tier === 'raw' ? atLevels(p.smoke, q.levels) : idx.map((i) => p.smoke[i] ?? p.max ?? 0);
    pushPoint(s, p.time, p.sent, p.lost, p.median, smoke);
  }
  return s;
}
