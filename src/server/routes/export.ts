import Type from 'typebox';
import type { FastifyInstance } from 'fastify';
import type { ExportSinks } from '../../export/sinks.ts';

const Counters = {
  failed_requests: Type.Integer({ description: 'requests that failed (retried, or dropped when refused for their content)' }),
  pending: Type.Integer({ description: 'waiting to be sent' }),
  last_error: Type.Optional(Type.String({ description: 'the last failure, e.g. PutMetricData: HTTP 400 Throttling: Rate exceeded (request …)' })),
};

export const ExportStatusSchema = Type.Object({
  remote_write: Type.Array(Type.Object({
    url: Type.String(),
    sent_rounds: Type.Integer(),
    dropped_rounds: Type.Integer(),
    ...Counters,
  })),
  cloudwatch: Type.Array(Type.Object({
    region: Type.String(),
    namespace: Type.String(),
    sent: Type.Integer({ description: 'data points CloudWatch accepted' }),
    dropped: Type.Integer({ description: 'data points dropped (queue bound, or refused for their content)' }),
    requests: Type.Integer({ description: 'PutMetricData requests accepted' }),
    ...Counters,
  })),
});

/** GET /api/v1/export: every export destination with its counters and last error (the UI's export panel). */
export function exportRoute(app: FastifyInstance, sinks: () => ExportSinks): void {
  app.get('/api/v1/export', {
    schema: {
      summary: 'Export destinations (remote write, CloudWatch): sent, dropped, failed, pending and the last error',
      tags: ['metrics'],
      response: { 200: ExportStatusSchema },
    },
  }, async () => {
    const s = sinks();
    const strip = <T extends { last_error?: string | undefined }>(o: T) => {
      const { last_error, ...rest } = o;
      return last_error === undefined ? rest : { ...rest, last_error };
    };
    return {
      remote_write: s.remoteWrites().map((r) => strip({ url: r.name.replace(/^remote-write /, ''), ...r.stats })),
      cloudwatch: s.cloudWatches().map((c) => strip({ region: c.target.region, namespace: c.target.namespace, ...c.stats })),
    };
  });
}
