import Type from 'typebox';
import { findNode } from '../../config/tree.ts';
import type { SeriesResult } from '../../store/types.ts';
import type { RouteModule, ServerContext } from '../context.ts';
import { ErrorSchema, SeriesResponseSchema, type SeriesResponse } from './schemas.ts';
import { badParam, unknownTarget } from './errors.ts';

const HOUR = 3_600_000;
/** Longest range one request may ask for (SmokePing's longest default graph is 360 days). */
const MAX_RANGE = 20 * 366 * 24 * HOUR;

export const RangeQuery = {
  from: Type.Optional(Type.Integer({ minimum: 0, description: 'ms since the epoch; default to − 3 h' })),
  to: Type.Optional(Type.Integer({ minimum: 0, description: 'ms since the epoch; default now' })),
};

export function range(q: { from?: number; to?: number }, defaultSpan: number): { from: number; to: number } {
  const to = q.to ?? Date.now();
  const from = q.from ?? to - defaultSpan;
  if (from >= to) throw badParam('from', `must be before to (from=${from}, to=${to})`);
  if (to - from > MAX_RANGE) throw badParam('from', 'range is longer than 20 years');
  return { from, to };
}

/** Rounds every figure to the µs the rounds were measured with: a third of the JSON, same graph. */
function compact(s: SeriesResult): SeriesResult {
  const r = (v: number | null) => (v === null ? null : Math.round(v * 1000) / 1000);
  return {
    ...s,
    points: s.points.map((p) => ({
      ...p, loss_pct: r(p.loss_pct), median: r(p.median), mean: r(p.mean), min: r(p.min), max: r(p.max), stddev: r(p.stddev),
      smoke: p.smoke.map((v) => Math.round(v * 1000) / 1000),
    })),
  };
}

/** Agents with stored data per target, from one pass over the store's series list. */
export function storedAgents(ctx: ServerContext): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (const s of ctx.store.list()) {
    const l = m.get(s.target);
    if (l) l.push(s.agent);
    else m.set(s.target, [s.agent]);
  }
  for (const l of m.values()) l.sort();
  return m;
}

/** GET /api/v1/series (one target, one or several agents). */
export const seriesRoutes: RouteModule = (app, ctx) => {
  app.get('/api/v1/series', {
    schema: {
      summary: 'Points of a target between from and to, one series per agent (raw rounds or rollup buckets)',
      description: 'Repeat `agent` for several agents; omit it for every agent that has data for the target. '
        + 'The store picks the finest tier that fits `points`.',
      tags: ['series'],
      querystring: Type.Object({
        target: Type.String({ minLength: 1, description: 'target path' }),
        agent: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { maxItems: 100, description: 'agent name; repeat for several' })),
        ...RangeQuery,
        points: Type.Optional(Type.Integer({ minimum: 10, maximum: 10000, default: 1000, description: 'at most this many points per series' })),
      }),
      response: { 200: SeriesResponseSchema, 400: ErrorSchema, 404: ErrorSchema },
    },
  }, async (req): Promise<SeriesResponse> => {
    const q = req.query as { target: string; agent?: string[]; from?: number; to?: number; points: number };
    const { from, to } = range(q, 3 * HOUR);
    const node = findNode(ctx.targets(), q.target);
    const stored = storedAgents(ctx).get(q.target) ?? [];
    if (!node?.probe && stored.length === 0) throw unknownTarget(q.target);
    const agents = q.agent && q.agent.length ? [...new Set(q.agent)] : stored;
    const res: SeriesResponse = {
      target: q.target, from, to,
      series: agents.map((agent) => compact(ctx.store.series({ target: q.target, agent, from, to, points: q.points }))),
    };
    if (node?.probe) {
      res.probe = node.probe.type;
      res.pings = node.probe.params.pings;
      res.step = node.probe.params.step;
    }
    return res;
  });
};

