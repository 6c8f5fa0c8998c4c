/**
 * The cluster in the server (docs/scale.md, "Several servers"): when the config has a
 * `cluster:` section, rounds reach the alert engine through the cluster's router (each series
 * evaluated by its one owner among the live servers), counter changes and silences are copied
 * to the shared database, and GET /api/v1/cluster shows the live set. Without the section: nothing here runs.
 */
import type { FastifySchema } from 'fastify';
import type { Logger } from 'pino';
import Type from 'typebox';
import type { AlertService } from '../alerts/index.ts';
import type { ClusterConfig } from '../cluster/config.ts';
import { LocalHistory } from '../cluster/history.ts';
import { ClusterDb } from '../cluster/postgres.ts';
import { ClusterService } from '../cluster/service.ts';
import type { RouteModule } from './context.ts';

const ClusterStatusSchema = Type.Object({
  server_id: Type.String({ description: "this server's cluster.server_id" }),
  live: Type.Array(Type.String(), { description: 'live servers (fresh heartbeats), sorted; empty until the first heartbeat or while the database is away' }),
  rounds: Type.Object({
    evaluated: Type.Integer({ description: 'rounds of series this server owns, evaluated here' }),
    relayed: Type.Integer({ description: 'rounds received here and handed to their owner through the database' }),
    taken: Type.Integer({ description: 'rounds taken from the relay (sent to this server, or to a dead one)' }),
    unevaluated: Type.Integer({ description: 'rounds no server evaluated (past the relay bound of 100,000 while the database was away)' }),
  }),
  fence: Type.Object({
    written: Type.Integer({ description: 'alert state changes written through the per-series fence' }),
    refused: Type.Integer({ description: 'changes refused (another server changed the series first, or this one was not live): their notifications were dropped and the state read again' }),
  }),
  held: Type.Integer({ description: 'series (ownership keys) whose alert state this server holds' }),
  held_keys: Type.Optional(Type.Array(Type.Object({ target: Type.String(), agent: Type.String({ description: '"*": every agent of the target (it has a quorum alert)' }) }),
    { description: 'those series, with ?keys=N (at most N)' })),
  last_error: Type.Optional(Type.String()),
});

/** Starts this server's part in the cluster, routing rounds to `alerts`' engine and sharing the history of its alert database. */
export async function startCluster(cfg: ClusterConfig, url: string, alerts: AlertService, log: Logger, db = new ClusterDb(cfg.coordination)): Promise<ClusterService> {
  const silences = {
    list: () => alerts.db.silences(),
    save: (s: Parameters<typeof alerts.db.saveSilence>[0]) => alerts.db.saveSilence(s),
    remove: (id: string) => void alerts.db.deleteSilence(id),
    changed: () => alerts.engine.refreshSilences(),
  };
  const cluster = new ClusterService({
    cfg, url, db, engine: alerts.engine, log: log.child({ module: 'cluster' }), silences, history: new LocalHistory(alerts.file),
  });
  await cluster.start();
  return cluster;
}

/** GET /api/v1/cluster: the live set and the routing counts (404 without a cluster). */
export function clusterRoutes(cluster: () => ClusterService | undefined): RouteModule {
  return (app) => {
    app.get<{ Querystring: { keys?: number } }>('/api/v1/cluster', {
      schema: {
        querystring: Type.Object({ keys: Type.Optional(Type.Integer({ minimum: 0, maximum: 100_000, description: 'list up to this many series this server evaluates' })) }),
        summary: 'This server in its cluster: live servers, rounds evaluated here and relayed', tags: ['server'],
        response: { 200: ClusterStatusSchema, 404: Type.Object({ code: Type.String(), error: Type.String() }) },
      } as FastifySchema,
    }, async (req, reply) => {
      const c = cluster();
      if (!c) return reply.code(404).send({ code: 'SMOKEMESH_E_NOT_FOUND', error: 'this server is not in a cluster (no cluster: section in its config)' });
      return c.status(req.query.keys ?? 0);
    });
  };
}
