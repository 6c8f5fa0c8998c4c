import Type from 'typebox';
import { findNode } from '../../config/tree.ts';
import type { RouteModule } from '../context.ts';
import { ErrorSchema, SeriesResponseSchema, type SeriesResponse } from './schemas.ts';
import { badParam, unknownTarget } from './errors.ts';

const HOUR = 3_600_000;
/** Longest range one request may ask for (SmokePing's longest default graph is 360 days). */
const MAX_RANGE = 20 * 366 * 24 * HOUR;

/** GET /api/v1/series: the points of one target for one or several agents. */
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
        from: Type.Optional(Type.Integer({ minimum: 0, description: 'ms since the epoch; default to − 3 h' })),
        to: Type.Optional(Type.Integer({ minimum: 0, description: 'ms since the epoch; default now' })),
        points: Type.Integer({ minimum: 10, maximum: 10000, default: 1000, description: 'at most this many points per series' }),
      }),
      response: { 200: SeriesResponseSchema, 400: ErrorSchema, 404: ErrorSchema },
    },
  }, async (req): Promise<SeriesResponse> => {
    const q = req.query as { target: string; agent?: string[]; from?: number; to?: number; points: number };
    const to = q.to ?? Date.now();
    const from = q.from ?? to - 3 * HOUR;
    if (from >= to) throw badParam('from', `must be before to (from=${from}, to=${to})`);
    if (to - from > MAX_RANGE) throw badParam('from', 'range is longer than 20 years');

    const node = findNode(ctx.config().targets, q.target);
    const stored = ctx.store.list().filter((s) => s.target === q.target);
    if (!node?.probe && stored.length === 0) throw unknownTarget(q.target);
    const agents = q.agent && q.agent.length ? [...new Set(q.agent)] : stored.map((s) => s.agent).sort();

    const res: SeriesResponse = {
      target: q.target, from, to,
      series: agents.map((agent) => ctx.store.series({ target: q.target, agent, from, to, points: q.points })),
    };
    if (node?.probe) {
      res.probe = node.probe.type;
      res.pings = node.probe.params.pings;
      res.step = node.probe.params.step;
    }
    return res;
  });
};
