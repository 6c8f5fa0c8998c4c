import Type from 'typebox';
import { lossPct } from '../../probes/round.ts';
import type { RouteModule } from '../context.ts';
import { ErrorSchema, LatestRoundSchema, TOP_METRICS, TOP_WINDOWS, TopRowSchema, type LatestRound } from './schemas.ts';
import type { TopMetric } from '../../store/types.ts';

/** GET /api/v1/latest and /api/v1/top: the newest rounds and the worst series. */
export const roundRoutes: RouteModule = (app, ctx) => {
  app.get('/api/v1/latest', {
    schema: {
      summary: 'The latest round of every series, optionally under a target path prefix',
      tags: ['series'],
      querystring: Type.Object({ prefix: Type.Optional(Type.String({ minLength: 1, description: 'target path prefix, e.g. /Group' })) }),
      response: { 200: Type.Object({ rounds: Type.Array(LatestRoundSchema) }) },
    },
  }, async (req) => {
    const { prefix } = req.query as { prefix?: string };
    const rounds: LatestRound[] = ctx.store.latest(prefix).map((r) => ({
      ...r, loss_pct: r.sent === 0 ? null : lossPct(r),
    }));
    return { rounds };
  });

  app.get('/api/v1/top', {
    schema: {
      summary: 'Top series by loss, median, max or std dev: of the last round, or over the last hour',
      tags: ['series'],
      querystring: Type.Object({
        metric: Type.Enum(TOP_METRICS),
        n: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 10 })),
        window: Type.Optional(Type.Enum(TOP_WINDOWS, { default: 'last' })),
      }),
      response: { 200: Type.Object({ metric: Type.String(), window: Type.String(), rows: Type.Array(TopRowSchema) }), 400: ErrorSchema },
    },
  }, async (req) => {
    const { metric, n, window } = req.query as { metric: TopMetric; n: number; window: 'last' | '1h' };
    const now = Date.now();
    const rows = ctx.store.top(metric, n, window === '1h' ? { from: now - 3_600_000, to: now } : undefined);
    return { metric, window, rows };
  });
};
