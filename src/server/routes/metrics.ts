import Type from 'typebox';
import type { FastifyInstance } from 'fastify';
import { renderMetrics, type MetricsInput } from '../../export/metrics.ts';

/** Past this many series, per-series histograms (17 lines each) are left out unless asked for. */
export const AUTO_HISTOGRAM_SERIES = 10_000;

/** GET /metrics: the Prometheus page of `input()` (everything but the per-request switches). */
export function metricsRoute(app: FastifyInstance, input: () => Omit<MetricsInput, 'series' | 'seriesHistograms'>): void {
  app.get('/metrics', {
    schema: {
      summary: 'Prometheus exposition (text format 0.0.4): ProberMesh families, per-series families, server health',
      description: `Per-series families can be left out with series=0; per-series RTT histograms are included up to ${AUTO_HISTOGRAM_SERIES} series unless histograms=1 or 0 says otherwise (set these as \`params\` in the Prometheus scrape config).`,
      tags: ['metrics'],
      querystring: Type.Object({
        series: Type.Optional(Type.Enum(['0', '1'])),
        histograms: Type.Optional(Type.Enum(['0', '1'])),
      }),
      response: { 200: Type.String({ description: 'text/plain; version=0.0.4' }) },
    },
  }, async (req, reply) => {
    const q = req.query as { series?: '0' | '1'; histograms?: '0' | '1' };
    const m = input();
    const text = renderMetrics({
      ...m,
      series: q.series !== '0',
      seriesHistograms: q.histograms === undefined ? m.state.series.size <= AUTO_HISTOGRAM_SERIES : q.histograms === '1',
    });
    return reply.type('text/plain; version=0.0.4; charset=utf-8').send(text);
  });
}
