import Type from 'typebox';
import { findNode, type TargetNode } from '../../config/tree.ts';
import type { SeriesSummary } from '../../store/types.ts';
import type { RouteModule } from '../context.ts';
import { ApiError } from './errors.ts';
import { JsonText } from './json-text.ts';
import { ErrorSchema, OverviewResponseSchema, type OverviewResponse, type OverviewSeries } from './schemas.ts';
import { range, RangeQuery } from './series.ts';

const HOUR = 3_600_000;
/** Most targets one overview request draws; the page asks for the next ones with `offset`. */
export const OVERVIEW_MAX_TARGETS = 200;
/** The smoke of a small graph: two bands (5–95 % and 25–75 %) around the median. */
export const OVERVIEW_LEVELS = [0.05, 0.25, 0.75, 0.95] as const;
/** Targets read and serialized at a time. */
const READ_CHUNK = 25;
/**
 * Steps over a series' scale. The page's small graphs plot 86 px (110 px less the axes) up to
 * 1.1 × the scale (web/src/chart/align.ts, yMax), so the scale spans 78 px and a step is at
 * most 0.98 px: rounding moves a figure by under half a pixel. (100 steps cost 8 % more bytes
 * on the wire for a precision the graph cannot show; BENCHMARKS.md, "Overview API".)
 */
const STEPS = 80;

/**
 * A summary as the overview sends it: times as second deltas, loss to one decimal, RTTs as
 * integers of a unit (1/80 of the series' scale: the 98th percentile of its points' highest
 * level, or its highest median), each level as a step outward from the median or the previous
 * level. Small integers are what makes the answer compress to a few bytes per point.
 * writeSeries writes the same as JSON text.
 */
export function encodeSummary(s: SeriesSummary): OverviewSeries {
  const unit = unitOf(s);
  const dt: number[] = [];
  let prev = s.time[0] ?? 0;
  for (const t of s.time) {
    dt.push(Math.round((t - prev) / 1000));
    prev = t;
  }
  const steps = new Float64Array(s.smoke.reduce((n, l) => Math.max(n, l.length), 0));
  return {
    agent: s.agent, tier: s.tier, resolution: s.resolution, start: s.time[0] ?? 0, dt,
    loss: s.loss_pct.map(lossOf),
    unit,
    median: s.median.map((m) => (m === null ? null : Math.round(m / unit))),
    smoke: s.smoke.map((levels, i) => Array.from(steps.subarray(0, smokeSteps(levels, s.median[i], unit, steps)))),
  };
}

/** encodeSummary(s) as JSON text, key for key what JSON.stringify makes of it, without the arrays. */
export function writeSeries(w: JsonText, s: SeriesSummary, steps: Float64Array): void {
  const unit = unitOf(s);
  const start = s.time[0] ?? 0;
  w.raw('{"agent":');
  w.string(s.agent);
  w.raw(',"tier":');
  w.string(s.tier);
  w.raw(',"resolution":');
  w.number(s.resolution);
  w.raw(',"start":');
  w.number(start);
  w.raw(',"dt":[');
  let prev = start;
  for (let i = 0; i < s.time.length; i++) {
    if (i) w.char(COMMA);
    w.number(Math.round((s.time[i]! - prev) / 1000));
    prev = s.time[i]!;
  }
  w.raw('],"loss":[');
  for (let i = 0; i < s.loss_pct.length; i++) {
    if (i) w.char(COMMA);
    w.nullable(lossOf(s.loss_pct[i]!));
  }
  w.raw('],"unit":');
  w.number(unit);
  w.raw(',"median":[');
  for (let i = 0; i < s.median.length; i++) {
    if (i) w.char(COMMA);
    const m = s.median[i]!;
    w.nullable(m === null ? null : Math.round(m / unit));
  }
  w.raw('],"smoke":[');
  for (let i = 0; i < s.smoke.length; i++) {
    if (i) w.char(COMMA);
    w.char(OPEN);
    const len = smokeSteps(s.smoke[i]!, s.median[i], unit, steps);
    for (let k = 0; k < len; k++) {
      if (k) w.char(COMMA);
      w.number(steps[k]!);
    }
    w.char(CLOSE);
  }
  w.raw(']}');
}

const COMMA = 0x2c;
const OPEN = 0x5b;
const CLOSE = 0x5d;

/** Loss in % to one decimal. */
function lossOf(v: number | null): number | null {
  return v === null ? null : Math.round(v * 10) / 10;
}

/**
 * One point's smoke as steps in units (into `out`, which has room for every level): the inward
 * half from the median down, the outward half from the median up, each a step from the last.
 * Returns how many (0: the point has no smoke).
 */
function smokeSteps(levels: readonly number[], m: number | null | undefined, unit: number, out: Float64Array): number {
  const len = levels.length;
  if (m === null || m === undefined || len === 0) return 0;
  const half = len >> 1;
  const um = Math.round(m / unit);
  let from = um;
  for (let k = half - 1; k >= 0; k--) { const v = Math.round(levels[k]! / unit); out[half - 1 - k] = from - v; from = v; }
  from = um;
  for (let k = half; k < len; k++) { const v = Math.round(levels[k]! / unit); out[k] = v - from; from = v; }
  return len;
}

/** ms per integer step: the series' scale / STEPS, two significant digits, at least a µs. */
function unitOf(s: SeriesSummary): number {
  let n = 0;
  let maxMedian = 0;
  for (let i = 0; i < s.median.length; i++) {
    const m = s.median[i] ?? null;
    if ((s.smoke[i]!.length ? s.smoke[i]!.at(-1)! : m) !== null) n++;
    if (m !== null && m > maxMedian) maxMedian = m;
  }
  // The 98th percentile of the points' highest levels (or medians): at rank ⌊0.98 n⌋ ascending,
  // the r-th largest, found by keeping the r largest (r: a few) rather than sorting them all.
  const r = n ? n - Math.min(n - 1, Math.floor(n * 0.98)) : 0;
  if (largest.length < r) largest = new Float64Array(r * 2);
  largest.fill(-Infinity, 0, r);
  for (let i = 0; i < s.median.length && r; i++) {
    const q = s.smoke[i]!;
    const top = q.length ? q[q.length - 1]! : s.median[i] ?? null;
    if (top === null || !(top > largest[r - 1]!)) continue;
    let k = r - 1;
    for (; k > 0 && largest[k - 1]! < top; k--) largest[k] = largest[k - 1]!;
    largest[k] = top;
  }
  const scale = Math.max(r ? largest[r - 1]! : 0, maxMedian);
  const raw = scale / STEPS;
  if (!(raw > 0.001)) return 0.001;
  const p = 10 ** (Math.floor(Math.log10(raw)) - 1);
  return Math.floor(raw / p) * p;
}

/** Scratch of unitOf: the largest highest levels, descending. */
let largest = new Float64Array(64);

/** The probed, visible targets under a group in tree order: how many, and the page [offset, offset + limit). */
function pageOf(group: TargetNode, offset: number, limit: number): { total: number; page: TargetNode[] } {
  const page: TargetNode[] = [];
  let total = 0;
  const visit = (n: TargetNode) => {
    if (n.hide) return;
    if (n.probe) {
      if (total >= offset && page.length < limit) page.push(n);
      total++;
    }
    for (const c of n.children) visit(c);
  };
  visit(group);
  return { total, page };
}

/** GET /api/v1/overview: the small graphs of a group's targets, a page at a time. */
export const overviewRoutes: RouteModule = (app, ctx) => {
  app.get('/api/v1/overview', {
    schema: {
      summary: 'Small graphs of the probed targets under a group (hidden ones left out), every agent, a page of targets at a time',
      description: 'One read of the store for the whole page (Store.summaries: kept per-bucket quantiles, no histogram decoded). '
        + 'Points are columns of small integers; docs/ui.md ("Reading an overview series") says how to read them.',
      tags: ['series'],
      querystring: Type.Object({
        path: Type.Optional(Type.String({ minLength: 1, default: '/', description: 'group path' })),
        ...RangeQuery,
        points: Type.Optional(Type.Integer({ minimum: 10, maximum: 2000, default: 300, description: 'at most this many points per series' })),
        offset: Type.Optional(Type.Integer({ minimum: 0, default: 0, description: 'targets to skip (in tree order)' })),
        limit: Type.Optional(Type.Integer({ minimum: 1, maximum: OVERVIEW_MAX_TARGETS, default: OVERVIEW_MAX_TARGETS, description: 'most targets in the answer' })),
      }),
      response: { 200: OverviewResponseSchema, 400: ErrorSchema, 404: ErrorSchema },
    },
  }, async (req, reply): Promise<Buffer> => {
    const q = req.query as { path: string; from?: number; to?: number; points: number; offset: number; limit: number };
    const { from, to } = range(q, 10 * HOUR);
    const group = findNode(ctx.targets(), q.path);
    if (!group) throw new ApiError(404, 'SMOKEMESH_E_NOT_FOUND', `querystring/path: no target "${q.path}" in the config`);
    const { total, page } = pageOf(group, q.offset, q.limit);
    const head: Omit<OverviewResponse, 'targets'> = { path: q.path, from, to, total, offset: q.offset, limit: q.limit, levels: [...OVERVIEW_LEVELS] };
    // Written here as JSON text, a few targets at a time: each chunk's summaries are garbage
    // before the next is read (a young collection then copies one chunk, not the whole page),
    // and no point's figures become objects or strings on the way (the schema's serializer
    // would spend ten times JSON.stringify's time on 100,000 array items). The text is
    // JSON.stringify of an OverviewResponse (json-text.test.ts; the OpenAPI test checks it
    // against the schema).
    const w = new JsonText(page.length * 4096 + 1024);
    const steps = new Float64Array(OVERVIEW_LEVELS.length);
    w.raw(JSON.stringify(head).slice(0, -1));
    w.raw(',"targets":[');
    for (let i = 0; i < page.length; i += READ_CHUNK) {
      const chunk = page.slice(i, i + READ_CHUNK);
      const summaries = ctx.store.summaries({ targets: chunk.map((n) => n.path), from, to, points: q.points, levels: OVERVIEW_LEVELS });
      const byTarget = new Map<string, SeriesSummary[]>();
      for (const s of summaries) {
        const l = byTarget.get(s.target);
        if (l) l.push(s);
        else byTarget.set(s.target, [s]);
      }
      chunk.forEach((n, j) => {
        if (i + j) w.char(COMMA);
        w.raw('{"target":');
        w.string(n.path);
        w.raw(',"pings":');
        w.number(n.probe!.params.pings);
        w.raw(',"step":');
        w.number(n.probe!.params.step);
        w.raw(',"series":[');
        (byTarget.get(n.path) ?? []).forEach((s, k) => {
          if (k) w.char(COMMA);
          writeSeries(w, s, steps);
        });
        w.raw(']}');
      });
    }
    w.raw(']}');
    void reply.type('application/json; charset=utf-8');
    return w.view();
  });
};
