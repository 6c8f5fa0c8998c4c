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
import { IndexSync } from '../cluster/index-sync.ts';
import { VmStore, type Store } from '../store/index.ts';
import type { LocalizeShared } from '../localize/shared.ts';
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
  index: Type.Optional(Type.Object({
    pushed: Type.Integer({ description: 'rows of the series index this server shared since start' }),
    pulled: Type.Integer({ description: 'rows of the series index taken from the other servers since start' }),
    last_ms: Type.Number({ description: 'duration of the last sync of the series index (ms)' }),
  }, { description: 'the shared series index (docs/scale.md): every server lists every series' })),
  last_error: Type.Optional(Type.String()),
});

/** Starts this server's part in the cluster, routing rounds to `alerts`' engine and sharing the history of its alert database. */
export async function startCluster(cfg: ClusterConfig, url: string, alerts: AlertService, log: Logger, store?: Store, db = new ClusterDb(cfg.coordination)): Promise<ClusterService> {
  const silences = {
    list: () => alerts.db.silences(),
    save: (s: Parameters<typeof alerts.db.saveSilence>[0]) => alerts.db.saveSilence(s),
    remove: (id: string) => void alerts.db.deleteSilence(id),
    changed: () => alerts.engine.refreshSilences(),
  };
  const clog = log.child({ module: 'cluster' });
  // Every server lists every series: the VM store's series index is shared through the database.
  const index = store instanceof VmStore ? new IndexSync({ db, store, server: cfg.server_id, intervalMs: cfg.heartbeat_s * 1000, log: clog }) : undefined;
  const cluster = new ClusterService({
    cfg, url, db, engine: alerts.engine, log: clog, silences, history: new LocalHistory(alerts.file), ...(index ? { index } : {}),
  });
  await cluster.start();
  return cluster;
}

/** The localization's view of the shared database (src/localize/shared.ts): digests and the scopes' fenced causes. */
export function localizeShared(cluster: ClusterService, cfg: ClusterConfig): LocalizeShared {
  const db = cluster.database;
  return {
    server: cfg.server_id,
    publish: (scope, time, body) => db.localizePublish(scope, cfg.server_id, time, body),
    read: (scope, since, memory) => db.localizeRead(scope, since, memory),
    causes: (scope) => db.localizeCauses(scope),
    write: (scope, expected, time, causes, memory) => db.localizeWrite(cfg.server_id, cfg.dead_after_s * 1000, scope, expected, time, causes, memory),
  };
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
