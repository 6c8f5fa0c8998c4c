import type { MiniPoint } from '../api.ts';

type SeriesPoint = MiniPoint;

/** Several series on one time axis: `xs` in seconds, `rows[layer][i]` the layer's point at xs[i]. */
export interface Aligned<P = SeriesPoint> {
  xs: number[];
  rows: (P | null)[][];
}

/** Merges the sorted point lists of several series onto the union of their times. */
export function align<P extends SeriesPoint>(layers: readonly (readonly P[])[]): Aligned<P> {
  const times = new Set<number>();
  for (const pts of layers) for (const p of pts) times.add(p.time);
  const sorted = [...times].sort((a, b) => a - b);
  const index = new Map(sorted.map((t, i) => [t, i]));
  const rows = layers.map((pts) => {
    const row: (P | null)[] = new Array(sorted.length).fill(null);
    for (const p of pts) row[index.get(p.time)!] = p;
    return row;
  });
  return { xs: sorted.map((t) => t / 1000), rows };
}

/** A y range that shows the smoke without letting one spike flatten the graph. */
export function yMax(layers: readonly (readonly SeriesPoint[])[]): number {
  const tops: number[] = [];
  for (const pts of layers) {
    for (const p of pts) {
      const top = p.smoke.length ? p.smoke[p.smoke.length - 1]! : p.median;
      if (top !== null && top !== undefined) tops.push(top);
    }
  }
  if (!tops.length) return 1;
  tops.sort((a, b) => a - b);
  const p98 = tops[Math.min(tops.length - 1, Math.floor(tops.length * 0.98))]!;
  const medians = layers.flatMap((pts) => pts.map((p) => p.median ?? 0));
  return Math.max(p98, ...medians) * 1.1 || 1;
}
