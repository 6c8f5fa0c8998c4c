import Type from 'typebox';
import { findNode, type TargetNode } from '../../config/tree.ts';
import type { SeriesSummary } from '../../store/types.ts';
import type { RouteModule } from '../context.ts';
import { ApiError } from './errors.ts';
import { ErrorSchema, OverviewResponseSchema, type OverviewResponse, type OverviewSeries } from './schemas.ts';
import { range, RangeQuery } from './series.ts';

const HOUR = 3_600_000;
/** Most targets one overview request draws; the page asks for the next ones with `offset`. */
export const OVERVIEW_MAX_TARGETS = 200;
/** The smoke of a small graph: two bands (5–95 % and 25–75 %) around the median. */
export const OVERVIEW_LEVELS = [0.05, 0.25, 0.75, 0.95] as const;
/** Targets read and serialized at a time. */
const READ_CHUNK = 25;
/** Steps over a series' scale: under a pixel apart on the page's 110-px graphs, so rounding moves a figure by under half a pixel. */
const STEPS = 100;

/**
 * A summary as the overview sends it: times as second deltas, loss to one decimal, RTTs as
 * integers of a unit (1/100 of the series' scale: the 98th percentile of its points' highest
 * level, or its highest median), each level as a step outward from the median or the previous
 * level. Small integers are what makes the answer compress to a few bytes per point.
 */
export function encodeSummary(s: SeriesSummary): OverviewSeries {
  const unit = unitOf(s);
  const u = (v: number) => Math.round(v / unit);
  const dt: number[] = [];
  let prev = s.time[0] ?? 0;
  for (const t of s.time) {
    dt.push(Math.round((t - prev) / 1000));
    prev = t;
  }
  return {
    agent: s.agent, tier: s.tier, resolution: s.resolution, start: s.time[0] ?? 0, dt,
    loss: s.loss_pct.map((v) => (v === null ? null : Math.round(v * 10) / 10)),
    unit,
    median: s.median.map((m) => (m === null ? null : u(m))),
    smoke: s.smoke.map((levels, i) => {
      const m = s.median[i];
      const len = levels.length;
      if (m === null || m === undefined || len === 0) return [];
      // Inward half from the median down, outward half from the median up; each a step from the last.
      const out = new Array<number>(len);
      const half = len >> 1;
      const um = u(m);
      let from = um;
      for (let k = half - 1; k >= 0; k--) { const v = u(levels[k]!); out[half - 1 - k] = from - v; from = v; }
      from = um;
      for (let k = half; k < len; k++) { const v = u(levels[k]!); out[k] = v - from; from = v; }
      return out;
    }),
  };
}

/** ms per integer step: the series' scale / STEPS, two significant digits, at least a µs. */
function unitOf(s: SeriesSummary): number {
  const tops: number[] = [];
  let maxMedian = 0;
  s.smoke.forEach((q, i) => {
    const top = q.length ? q[q.length - 1]! : s.median[i];
    if (top !== null && top !== undefined) tops.push(top);
    maxMedian = Math.max(maxMedian, s.median[i] ?? 0);
  });
  tops.sort((a, b) => a - b);
  const scale = Math.max(tops[Math.min(tops.length - 1, Math.floor(tops.length * 0.98))] ?? 0, maxMedian);
  const raw = scale / STEPS;
  if (!(raw > 0.001)) return 0.001;
  const p = 10 ** (Math.floor(Math.log10(raw)) - 1);
  return Math.floor(raw / p) * p;
}

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
  }, async (req, reply): Promise<string> => {
    const q = req.query as { path: string; from?: number; to?: number; points: number; offset: number; limit: number };
    const { from, to } = range(q, 10 * HOUR);
    const group = findNode(ctx.targets(), q.path);
    if (!group) throw new ApiError(404, 'SMOKEMESH_E_NOT_FOUND', `querystring/path: no target "${q.path}" in the config`);
    const { total, page } = pageOf(group, q.offset, q.limit);
    const head: Omit<OverviewResponse, 'targets'> = { path: q.path, from, to, total, offset: q.offset, limit: q.limit, levels: [...OVERVIEW_LEVELS] };
    // Serialized here, a few targets at a time: each chunk's arrays are garbage before the next
    // is read (a young collection then copies one chunk, not the whole page), and the
    // schema's serializer would spend ten times JSON.stringify's time on 100,000 array items.
    // The text is JSON.stringify of an OverviewResponse, built from typed values (the OpenAPI
    // test checks it against the schema).
    const parts: string[] = [];
    for (let i = 0; i < page.length; i += READ_CHUNK) {
      const chunk = page.slice(i, i + READ_CHUNK);
      const summaries = ctx.store.summaries({ targets: chunk.map((n) => n.path), from, to, points: q.points, levels: OVERVIEW_LEVELS });
      const byTarget = new Map<string, OverviewSeries[]>();
      for (const s of summaries) {
        const l = byTarget.get(s.target);
        if (l) l.push(encodeSummary(s));
        else byTarget.set(s.target, [encodeSummary(s)]);
      }
      for (const n of chunk) {
        const t: OverviewResponse['targets'][number] = { target: n.path, pings: n.probe!.params.pings, step: n.probe!.params.step, series: byTarget.get(n.path) ?? [] };
        parts.push(JSON.stringify(t));
      }
    }
    void reply.type('application/json; charset=utf-8');
    return `${JSON.stringify(head).slice(0, -1)},"targets":[${parts.join(',')}]}`;
  });
};
