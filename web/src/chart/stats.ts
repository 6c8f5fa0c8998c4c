import type { SeriesPoint } from '../api.ts';

/** The legend's figures over the points shown (SmokePing's: median and loss avg/max/min/now, sd). */
export interface LegendStats {
  median: { avg: number | null; min: number | null; max: number | null; now: number | null };
  /** Standard deviation of the median over the range (SmokePing's "sd"). */
  stddev: number | null;
  loss: { avg: number | null; min: number | null; max: number | null; now: number | null };
}

/**
 * Averages are per point (each round or bucket counts once, as in an RRD graph); "now" is
 * the newest point that has a value.
 */
export function legendStats(points: readonly SeriesPoint[]): LegendStats {
  const med = points.map((p) => p.median).filter((v): v is number => v !== null);
  const loss = points.map((p) => p.loss_pct).filter((v): v is number => v !== null);
  const avg = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null);
  const mAvg = avg(med);
  const sd = mAvg === null ? null : Math.sqrt(med.reduce((a, v) => a + (v - mAvg) * (v - mAvg), 0) / med.length);
  return {
    median: { avg: mAvg, min: med.length ? Math.min(...med) : null, max: med.length ? Math.max(...med) : null, now: med.at(-1) ?? null },
    stddev: sd,
    loss: { avg: avg(loss), min: loss.length ? Math.min(...loss) : null, max: loss.length ? Math.max(...loss) : null, now: loss.at(-1) ?? null },
  };
}
