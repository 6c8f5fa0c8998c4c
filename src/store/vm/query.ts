import { SmokemeshError } from '../../errors.ts';
import type { Tier } from '../tiers.ts';
import { SMOKE_QUANTILES, type SeriesPoint, type TopMetric } from '../types.ts';
import { M, seriesKey, us } from './encode.ts';

/**
 * MetricsQL for the store's reads. Values are per round, so a bucket [t, t + step) is the
 * `*_over_time(…[step])` evaluated at t + step − 1 ms (`offset 1ms` at the aligned end):
 * exactly the rounds whose time falls in it, as in a SQLite rollup bucket.
 */

/** A MetricsQL string literal (Go escapes; JSON's are a subset). */
export function q(s: string): string {
  return JSON.stringify(s);
}

/** The label filter of one series. */
export function selector(target: string, agent: string): string {
  return `{target=${q(target)},agent=${q(agent)}}`;
}

/** The label filter of every series of the targets (all agents). */
export function targetsSelector(targets: readonly string[]): string {
  return `{target=~${q(targets.map(escapeRegex).join('|'))}}`;
}

/** A string matched literally inside a MetricsQL regexp. */
export function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** One series of a /api/v1/query_range or /api/v1/query answer. */
export interface PromSeries {
  metric: Record<string, string>;
  values?: Array<[number, string]>;
  value?: [number, string];
}

/**
 * The `data` of a Prometheus-style JSON answer (/api/v1/query, /api/v1/query_range,
 * /api/v1/series) read from `url`: every such answer is parsed here. Throws SMOKEMESH_E_STORE
 * naming the URL when it is not JSON, says `status: "error"`, or is partial (`"isPartial": true`:
 * vmselect answered without some vmstorage nodes, so series or samples may be missing): an
 * incomplete answer is never shown, nor used to rebuild or delete anything.
 */
export function promAnswer<T>(url: string, text: string): T | undefined {
  let a: { status?: unknown; isPartial?: unknown; data?: T; error?: unknown };
  try {
    a = JSON.parse(text) as typeof a;
  } catch {
    throw new SmokemeshError('SMOKEMESH_E_STORE', `${url}: the answer is not JSON: ${text.slice(0, 200)}`);
  }
  if (a === null || typeof a !== 'object') throw new SmokemeshError('SMOKEMESH_E_STORE', `${url}: the answer is not a JSON object: ${text.slice(0, 200)}`);
  if (a.isPartial === true) {
    throw new SmokemeshError('SMOKEMESH_E_STORE', `${url}: VictoriaMetrics answered with a partial result ("isPartial": true: some vmstorage nodes did not answer); refused rather than shown as complete; check the vmstorage nodes (or give vmselect -replicationFactor to match vminsert's)`);
  }
  if (a.status === 'error') throw new SmokemeshError('SMOKEMESH_E_STORE', `${url}: VictoriaMetrics answered with an error: ${String(a.error).slice(0, 300)}`);
  return a.data;
}

const MID_QUANTILES = SMOKE_QUANTILES.filter((x) => x > 0 && x < 1);

/** The union query of every bucket field of the selected series at `stepS` seconds per bucket. */
export function bucketQuery(sel: string, stepS: number): string {
  const w = `[${stepS}s] offset 1ms`;
  const f = (name: string, expr: string) => `label_set(${expr}, "f", ${q(name)})`;
  return `union(${[
    f('rounds', `count_over_time(${M.sent}${sel}${w})`),
    f('sent', `sum_over_time(${M.sent}${sel}${w})`),
    f('lost', `sum_over_time(${M.lost}${sel}${w})`),
    f('median', `avg_over_time(${M.median}${sel}${w})`),
    f('min', `min_over_time(${M.min}${sel}${w})`),
    f('max', `max_over_time(${M.max}${sel}${w})`),
    f('sum', `sum_over_time(${M.sum}${sel}${w})`),
    f('sumsq', `sum_over_time(${M.sumsq}${sel}${w})`),
    f('q', `histogram_quantiles("q", ${MID_QUANTILES.join(', ')}, sum(sum_over_time(${M.bucket}${sel}${w})) by (target, agent, vmrange))`),
    f('phase', `avg_over_time(${M.phase}${sel}${w})`),
    f('status', `last_over_time(${M.status}${sel}${w})`),
    f('error', `last_over_time(${M.error}${sel}${w})`),
  ].join(', ')})`;
}

interface Acc {
  rounds?: number; sent?: number; lost?: number; median?: number; min?: number; max?: number; sum?: number; sumsq?: number;
  q: Map<number, number>; phases?: Record<string, number>; status?: number; error?: string; errorAt?: number;
}

/** bucketPoints of each series of the answer, by seriesKey(target, agent). */
export function bucketPointsBySeries(result: PromSeries[], stepMs: number): Map<string, SeriesPoint[]> {
  const bySeries = new Map<string, PromSeries[]>();
  for (const s of result) {
    const key = seriesKey(s.metric.target ?? '', s.metric.agent ?? '');
    let l = bySeries.get(key);
    if (!l) bySeries.set(key, (l = []));
    l.push(s);
  }
  const out = new Map<string, SeriesPoint[]>();
  for (const [key, l] of bySeries) out.set(key, bucketPoints(l, stepMs));
  return out;
}

/** Series points (time = bucket start) from the answer of bucketQuery for one series. */
export function bucketPoints(result: PromSeries[], stepMs: number): SeriesPoint[] {
  const at = new Map<number, Acc>();
  for (const s of result) {
    const f = s.metric.f;
    for (const [ts, text] of s.values ?? []) {
      const t = Math.round(ts * 1000) - stepMs;
      const v = Number(text);
      if (!Number.isFinite(v)) continue;
      let a = at.get(t);
      if (!a) at.set(t, (a = { q: new Map() }));
      if (f === 'q') a.q.set(Number(s.metric.q), v);
      else if (f === 'phase') (a.phases ??= {})[s.metric.phase ?? ''] = v;
      else if (f === 'error') a.error = s.metric.error ?? '';
      else if (f === 'rounds' || f === 'sent' || f === 'lost' || f === 'median' || f === 'min' || f === 'max' || f === 'sum' || f === 'sumsq' || f === 'status') a[f] = v;
    }
  }
  const points: SeriesPoint[] = [];
  for (const [time, a] of [...at].sort((x, y) => x[0] - y[0])) {
    if (!a.rounds) continue;
    const sent = a.sent ?? 0;
    const lost = a.lost ?? 0;
    const n = sent - lost;
    const mean = n > 0 && a.sum !== undefined ? a.sum / n : null;
    const has = n > 0 && a.min !== undefined && a.max !== undefined;
    const p: SeriesPoint = {
      time,
      rounds: a.rounds,
      sent,
      lost,
      loss_pct: sent > 0 ? (100 * lost) / sent : null,
      median: a.median === undefined ? null : us(a.median),
      mean: mean === null ? null : us(mean),
      min: has ? a.min! : null,
      max: has ? a.max! : null,
      stddev: mean === null || a.sumsq === undefined ? null : us(Math.sqrt(Math.max(0, a.sumsq / n - mean * mean))),
      // min and max are exact; the levels between come from the merged histogram, kept inside them.
      smoke: has ? [a.min!, ...MID_QUANTILES.map((x) => us(Math.min(a.max!, Math.max(a.min!, a.q.get(x) ?? a.min!)))), a.max!] : [],
    };
    if (a.phases) p.phases = a.phases;
    if (a.status !== undefined) p.status = a.status;
    if (a.error !== undefined) p.error = a.error;
    points.push(p);
  }
  return points;
}

/**
 * The resolution for a range: the finest tier whose buckets fit in `maxPoints`, else the
 * coarsest with `extra` more neighbours merged than the range's whole buckets need (the
 * caller retries with extra = 1 when the partial buckets at the ends overflow the budget).
 */
export function stepFor(tiers: readonly Tier[], span: number, maxPoints: number, extra = 0): { tier: Tier; stepS: number } | undefined {
  if (tiers.length === 0) return undefined;
  const fit = tiers.find((t) => span / t.ms + 1 <= maxPoints);
  if (fit) return { tier: fit, stepS: fit.bucket };
  const coarsest = tiers[tiers.length - 1]!;
  return { tier: coarsest, stepS: coarsest.bucket * (Math.max(1, Math.ceil(span / coarsest.ms / maxPoints)) + extra) };
}

/** The instant query of every series' sums over a window of `windowMs` ending at the query time. */
export function windowQuery(windowMs: number): string {
  const w = `[${windowMs}ms]`;
  const f = (name: string, expr: string) => `label_set(${expr}, "f", ${q(name)})`;
  return `union(${[
    f('sent', `sum_over_time(${M.sent}${w})`),
    f('lost', `sum_over_time(${M.lost}${w})`),
    f('median', `avg_over_time(${M.median}${w})`),
    f('max', `max_over_time(${M.max}${w})`),
    f('sum', `sum_over_time(${M.sum}${w})`),
    f('sumsq', `sum_over_time(${M.sumsq}${w})`),
    f('time', `tlast_over_time(${M.sent}${w})`),
  ].join(', ')})`;
}

/** Per-series window sums as the top-N ranking needs them. */
export interface WindowRow {
  target: string; agent: string; time: number; sent: number; lost: number; median: number | null; max: number | null; n: number; sum: number; sumsq: number;
}

/** Rows from the answer of windowQuery. */
export function windowRows(result: PromSeries[]): WindowRow[] {
  const rows = new Map<string, WindowRow>();
  for (const s of result) {
    const { target, agent, f } = s.metric;
    if (!target || !agent || !s.value) continue;
    const key = `${target}\u0000${agent}`;
    let r = rows.get(key);
    if (!r) rows.set(key, (r = { target, agent, time: 0, sent: 0, lost: 0, median: null, max: null, n: 0, sum: 0, sumsq: 0 }));
    const v = Number(s.value[1]);
    if (!Number.isFinite(v)) continue;
    if (f === 'sent') r.sent = v;
    else if (f === 'lost') r.lost = v;
    else if (f === 'median') r.median = v;
    else if (f === 'max') r.max = v;
    else if (f === 'sum') r.sum = v;
    else if (f === 'sumsq') r.sumsq = v;
    else if (f === 'time') r.time = Math.round(v * 1000);
  }
  for (const r of rows.values()) r.n = r.sent - r.lost;
  return [...rows.values()];
}

/** The metric's value of a window row (loss in %, the others in ms); null when not measured. */
export function windowValue(r: WindowRow, metric: TopMetric): number | null {
  if (metric === 'loss') return r.sent > 0 ? (100 * r.lost) / r.sent : null;
  if (metric === 'median') return r.median;
  if (metric === 'max') return r.max;
  if (r.n <= 0) return null;
  const mean = r.sum / r.n;
  return Math.sqrt(Math.max(0, r.sumsq / r.n - mean * mean));
}

/**
 * Groups reads of series' ranges into few exports: by agent, up to `maxTargets` targets whose
 * ranges lie close together (a group's range grows by at most `slackMs` past its longest
 * member's), so that a stale series' old range is not read for all. Each group is read with
 * one export of its targets and agent over [from, to].
 */
export function groupReads<R extends { target: string; agent: string; from: number; to: number }>(reads: readonly R[], maxTargets: number, slackMs: number): Array<{ agent: string; from: number; to: number; reads: R[] }> {
  const known = [...reads].sort((a, b) => (a.agent < b.agent ? -1 : a.agent > b.agent ? 1 : a.to - b.to));
  const groups: Array<{ agent: string; from: number; to: number; reads: R[] }> = [];
  for (let i = 0; i < known.length;) {
    const first = known[i]!;
    let from = first.from;
    let to = first.to;
    let j = i + 1;
    for (; j < known.length && j - i < maxTargets; j++) {
      const r = known[j]!;
      const span = Math.max(to, r.to) - Math.min(from, r.from);
      if (r.agent !== first.agent || span > Math.max(to - from, r.to - r.from) + slackMs) break;
      from = Math.min(from, r.from);
      to = Math.max(to, r.to);
    }
    groups.push({ agent: first.agent, from, to, reads: known.slice(i, j) });
    i = j;
  }
  return groups;
}

/** The export selector of a group of groupReads: its targets and its agent, every smokemesh metric. */
export function groupSelector(targets: readonly string[], agent: string): string {
  return `{__name__=~"smokemesh_round_.+",${targetsSelector(targets).slice(1, -1)},agent=${q(agent)}}`;
}
