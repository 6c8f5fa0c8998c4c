import type { Round } from '../../probes/round.ts';
import { seriesKey, type SeriesPoint } from '../types.ts';

export { seriesKey };
import { histogramOf, samplesOf } from './vmrange.ts';

/**
 * How a round becomes VictoriaMetrics samples, all at the round's time (ms), labelled with
 * its target and agent (docs/scale.md lists them). Every value is per round, so sums over
 * any range and any set of series are exact, and the per-round histograms merge by adding.
 */
export const M = {
  sent: 'smokemesh_round_sent',
  lost: 'smokemesh_round_lost',
  median: 'smokemesh_round_median_ms',
  min: 'smokemesh_round_min_ms',
  max: 'smokemesh_round_max_ms',
  sum: 'smokemesh_round_rtt_sum_ms',
  sumsq: 'smokemesh_round_rtt_sumsq_ms2',
  bucket: 'smokemesh_round_rtt_bucket',
  phase: 'smokemesh_round_phase_ms',
  status: 'smokemesh_round_status',
  error: 'smokemesh_round_error',
  cert: 'smokemesh_round_cert_expiry_seconds',
  /** The round's step, labelled with its probe too: what a series index rebuilt from VM needs besides the samples. */
  step: 'smokemesh_round_step_seconds',
} as const;

/** Errors are kept as a label: bounded so a target cannot blow up the series count with long texts. */
const ERROR_LABEL_MAX = 200;

/** One line of /api/v1/import. */
interface ImportLine {
  metric: Record<string, string>;
  values: number[];
  timestamps: number[];
}

/** Import lines (JSON, one per series) for the rounds; a series' samples share one line. */
export function importLines(rounds: readonly Round[]): string {
  const lines = new Map<string, ImportLine>();
  const add = (name: string, r: Round, v: number, extra?: [string, string]) => {
    const key = `${name}\u0000${r.target}\u0000${r.agent}\u0000${extra ? extra.join('\u0000') : ''}`;
    let l = lines.get(key);
    if (!l) {
      const metric: Record<string, string> = { __name__: name, target: r.target, agent: r.agent };
      if (extra) metric[extra[0]] = extra[1];
      lines.set(key, (l = { metric, values: [], timestamps: [] }));
    }
    l.values.push(v);
    l.timestamps.push(r.time);
  };
  for (const r of rounds) {
    add(M.sent, r, r.sent);
    add(M.lost, r, Math.max(0, r.sent - r.rtts.length));
    if (r.median !== null) add(M.median, r, r.median);
    if (r.rtts.length) {
      add(M.min, r, r.rtts[0]!);
      add(M.max, r, r.rtts[r.rtts.length - 1]!);
      let s = 0;
      let s2 = 0;
      for (const v of r.rtts) { s += v; s2 += v * v; }
      add(M.sum, r, s);
      add(M.sumsq, r, s2);
      for (const [range, c] of histogramOf(r.rtts)) add(M.bucket, r, c, ['vmrange', range]);
    }
    for (const [k, v] of Object.entries(r.phases ?? {})) add(M.phase, r, v, ['phase', k]);
    if (r.status !== undefined) add(M.status, r, r.status);
    if (r.error !== undefined) add(M.error, r, 1, ['error', r.error.slice(0, ERROR_LABEL_MAX)]);
    if (r.cert_expiry !== undefined) add(M.cert, r, r.cert_expiry);
    add(M.step, r, r.step, ['probe', r.probe]);
  }
  let out = '';
  for (const l of lines.values()) out += JSON.stringify(l) + '\n';
  return out;
}

/** A round rebuilt from exported samples, keyed by the round's time. */
interface Gathered {
  sent?: number;
  lost?: number;
  median?: number;
  min?: number;
  max?: number;
  sum?: number;
  sumsq?: number;
  buckets: Array<[string, number]>;
  phases?: Record<string, number>;
  status?: number;
  error?: string;
}

/**
 * Raw points from /api/v1/export lines of one series: exact counts, median, min, max, mean
 * and stddev; the smoke is the round's histogram spread inside its buckets (VM does not keep
 * the RTTs themselves).
 */
export function pointsFromExport(text: string, from: number, to: number): SeriesPoint[] {
  return [...pointsBySeries(text, from, to).values()][0] ?? [];
}

/** pointsFromExport for lines of several series: points by seriesKey(target, agent). */
export function pointsBySeries(text: string, from: number, to: number): Map<string, SeriesPoint[]> {
  const bySeries = new Map<string, Map<number, Gathered>>();
  for (const line of text.split('\n')) {
    if (!line) continue;
    const l = JSON.parse(line) as ImportLine;
    const name = l.metric.__name__;
    const key = seriesKey(l.metric.target ?? '', l.metric.agent ?? '');
    let byTime = bySeries.get(key);
    if (!byTime) bySeries.set(key, (byTime = new Map()));
    for (let i = 0; i < l.timestamps.length; i++) {
      const t = l.timestamps[i]!;
      if (t < from || t > to) continue;
      let g = byTime.get(t);
      if (!g) byTime.set(t, (g = { buckets: [] }));
      const v = l.values[i]!;
      if (name === M.sent) g.sent = v;
      else if (name === M.lost) g.lost = v;
      else if (name === M.median) g.median = v;
      else if (name === M.min) g.min = v;
      else if (name === M.max) g.max = v;
      else if (name === M.sum) g.sum = v;
      else if (name === M.sumsq) g.sumsq = v;
      else if (name === M.bucket) g.buckets.push([l.metric.vmrange ?? '', v]);
      else if (name === M.phase) (g.phases ??= {})[l.metric.phase ?? ''] = v;
      else if (name === M.status) g.status = v;
      else if (name === M.error) g.error = l.metric.error ?? '';
    }
  }
  const out = new Map<string, SeriesPoint[]>();
  for (const [key, byTime] of bySeries) out.set(key, gatheredPoints(byTime));
  return out;
}

/** The key of a series in pointsBySeries' answer. */

function gatheredPoints(byTime: Map<number, Gathered>): SeriesPoint[] {
  const points: SeriesPoint[] = [];
  for (const [time, g] of [...byTime].sort((a, b) => a[0] - b[0])) {
    if (g.sent === undefined) continue;
    const lost = g.lost ?? 0;
    const n = g.sent - lost;
    const mean = n > 0 && g.sum !== undefined ? g.sum / n : null;
    const p: SeriesPoint = {
      time,
      rounds: 1,
      sent: g.sent,
      lost,
      loss_pct: g.sent > 0 ? (100 * lost) / g.sent : null,
      median: g.median ?? null,
      mean: mean === null ? null : us(mean),
      min: g.min ?? null,
      max: g.max ?? null,
      stddev: mean === null || g.sumsq === undefined ? null : us(Math.sqrt(Math.max(0, g.sumsq / n - mean * mean))),
      smoke: samplesOf(g.buckets, g.min ?? null, g.max ?? null),
    };
    if (g.phases) p.phases = g.phases;
    if (g.status !== undefined) p.status = g.status;
    if (g.error !== undefined) p.error = g.error;
    points.push(p);
  }
  return points;
}

/** Rounds to µs, as the SQLite store reports. */
export function us(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
