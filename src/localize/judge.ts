/**
 * One series, one round: is it bad? A round is bad when its loss is above the scope's
 * threshold, or when its median is above the series' own baseline by the configured factor
 * (and by a minimum margin). The baseline is an exponentially weighted mean of the series'
 * good medians; it also drifts (ten times slower) through a lasting latency shift, so that a
 * new normal stops counting as bad after a while instead of forever.
 */
import type { BadRule } from '../config/localize-schema.ts';
import type { SeriesInput, SeriesMemo } from './types.ts';

/** Loss of a round in percent (100 when nothing was sent). */
export const lossOf = (s: Pick<SeriesInput, 'sent' | 'lost'>): number => (s.sent === 0 ? 100 : (100 * s.lost) / s.sent);

/**
 * Judges the series' latest round against its memory and returns the new memory (written into
 * `out` when given); a round already counted (not newer than `prev.last`) is judged as before
 * and teaches nothing.
 */
export function judge(s: SeriesInput, prev: SeriesMemo | undefined, rule: BadRule, out?: SeriesMemo): SeriesMemo {
  if (prev && s.time <= prev.last) return prev;
  const base = prev?.base ?? null;
  const samples = prev?.samples ?? 0;
  const lossBad = lossOf(s) > rule.loss_pct;
  const latencyBad = !lossBad && rule.latency_factor > 0 && s.median !== null && base !== null && samples >= rule.baseline_min_rounds
    && s.median > base * rule.latency_factor && s.median - base >= rule.latency_min_increase_ms;
  const bad = lossBad ? 'loss' : latencyBad ? 'latency' : false;
  let nextBase = base;
  let nextSamples = samples;
  if (s.median !== null && !lossBad) {
    // The first rounds average plainly; then the EWMA's time constant takes over.
    const alpha = Math.max(1 / (samples + 1), 1 / rule.baseline_rounds) / (latencyBad ? 10 : 1);
    nextBase = base === null ? s.median : base + alpha * (s.median - base);
    if (!latencyBad) nextSamples = samples + 1;
  }
  const badSince = bad ? (prev?.badSince ?? s.time) : null;
  if (!out) return { last: s.time, base: nextBase, samples: nextSamples, bad, badSince };
  out.last = s.time;
  out.base = nextBase;
  out.samples = nextSamples;
  out.bad = bad;
  out.badSince = badSince;
  return out;
}
