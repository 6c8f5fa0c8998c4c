import type { MiniPoint, OverviewSeries } from '../api.ts';

/**
 * The overview's small integers back into points (docs/ui.md, "Reading an overview series"): times from the
 * second deltas, RTTs as unit × integer, each smoke level a step outward from the median or
 * the previous level; the smoke comes out ascending, as the drawing pairs it from the outside in.
 */
export function miniPoints(s: OverviewSeries): MiniPoint[] {
  const points: MiniPoint[] = [];
  let time = s.start;
  for (let i = 0; i < s.dt.length; i++) {
    time += s.dt[i]! * 1000;
    const m = s.median[i] ?? null;
    const steps = s.smoke[i] ?? [];
    const smoke: number[] = [];
    if (m !== null && steps.length) {
      const half = Math.floor(steps.length / 2);
      let v = m;
      for (let k = 0; k < half; k++) smoke.unshift((v -= steps[k]!) * s.unit);
      v = m;
      for (let k = half; k < steps.length; k++) smoke.push((v += steps[k]!) * s.unit);
    }
    points.push({ time, loss_pct: s.loss[i] ?? null, median: m === null ? null : m * s.unit, smoke });
  }
  return points;
}
