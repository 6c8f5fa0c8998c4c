import Type from 'typebox';
import { findNode } from '../../config/tree.ts';
import { spanMs } from '../../config/presentation-schema.ts';
import type { TopRow } from '../../store/types.ts';
import type { RouteModule } from '../context.ts';
import { badParam } from './errors.ts';
import { CHART_SORTERS, ChartsResponseSchema, ErrorSchema, type ChartSorter, type ChartsResponse, type OverviewSeries } from './schemas.ts';
import { encodeSummary, OVERVIEW_LEVELS } from './overview.ts';

const MAX_RANGE_MS = 400 * 86_400_000;

/** A ranked series: the store's top row, with the previous period's median for `change`. */
type Ranked = TopRow & { previous?: number };

/**
 * The median's change against the period before, largest first (either way): every series
 * with a median in both periods, from two windowed passes over the store.
 */
export function rankChange(current: readonly TopRow[], before: readonly TopRow[], n: number): Ranked[] {
  const prev = new Map(before.map((r) => [`${r.target}\n${r.agent}`, r.value]));
  const out: Ranked[] = [];
  for (const r of current) {
    const p = prev.get(`${r.target}\n${r.agent}`);
    if (p !== undefined) out.push({ ...r, value: r.value - p, previous: p });
  }
  out.sort((a, b) => Math.abs(b.value) - Math.abs(a.value) || a.target.localeCompare(b.target) || a.agent.localeCompare(b.agent));
  return out.slice(0, n);
}

/** GET /api/v1/charts: SmokePing's Charts page, the top series of a sorter with their small graphs. */
export const chartRoutes: RouteModule = (app, ctx) => {
  app.get('/api/v1/charts', {
    schema: {
      summary: "Top series by loss, median, max, std dev or the median's change against the period before, each with its small graph",
      description: 'One request per sorter of the Charts page. `range` is ranked over (e.g. 3h); `change` compares it with the '
        + 'same span before it and its graphs show both periods. Each graph is a summary as the overview sends it (one read of '
        + 'the store for all rows: Store.summaries; docs/ui.md, "Reading an overview series").',
      tags: ['series'],
      querystring: Type.Object({
        sorter: Type.Enum(CHART_SORTERS),
        range: Type.Optional(Type.String({ pattern: '^[1-9][0-9]{0,5}[mhdwy]$', default: '3h', description: 'a span: 1h, 3h, 30h, 10d…' })),
        n: Type.Optional(Type.Integer({ minimum: 1, maximum: 50, default: 8 })),
        points: Type.Optional(Type.Integer({ minimum: 10, maximum: 1000, default: 200, description: 'at most this many points per graph' })),
      }),
      response: { 200: ChartsResponseSchema, 400: ErrorSchema },
    },
  }, async (req): Promise<ChartsResponse> => {
    const q = req.query as { sorter: ChartSorter; range: string; n: number; points: number };
    const range = spanMs(q.range);
    if (range > MAX_RANGE_MS) throw badParam('range', `is longer than 400 days (${q.range})`);
    const to = Date.now();
    const current = { from: to - range, to };
    let ranked: Ranked[];
    if (q.sorter === 'change') {
      const all = Math.max(1, ctx.store.list().length);
      ranked = rankChange(ctx.store.top('median', all, current), ctx.store.top('median', all, { from: to - 2 * range, to: to - range }), q.n);
    } else {
      ranked = ctx.store.top(q.sorter, q.n, current);
    }
    const from = q.sorter === 'change' ? to - 2 * range : to - range;
    const targets = ctx.targets();
    // Every row's small graph from one read of the store (every agent of the ranked targets).
    const graphs = new Map<string, OverviewSeries>();
    const empty = (agent: string): OverviewSeries => ({ agent, tier: 'raw', resolution: 0, start: 0, dt: [], loss: [], unit: 0.001, median: [], smoke: [] });
    for (const s of ctx.store.summaries({ targets: [...new Set(ranked.map((r) => r.target))], from, to, points: q.points, levels: OVERVIEW_LEVELS })) {
      graphs.set(`${s.target}\n${s.agent}`, encodeSummary(s));
    }
    return {
      sorter: q.sorter, range, from, to,
      rows: ranked.map((r) => {
        const node = findNode(targets, r.target);
        const row: ChartsResponse['rows'][number] = {
          target: r.target, agent: r.agent, value: r.value, loss_pct: r.loss_pct, median: r.median,
          series: graphs.get(`${r.target}\n${r.agent}`) ?? empty(r.agent),
        };
        if (r.previous !== undefined) row.previous = r.previous;
        if (node) row.title = node.title;
        if (node?.probe) row.pings = node.probe.params.pings;
        return row;
      }),
    };
  });
};
