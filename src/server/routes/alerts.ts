import { errorBody } from '../../errors.ts';
import { randomUUID } from 'node:crypto';
import type { FastifySchema } from 'fastify';
import Type, { type Static } from 'typebox';
import type { AlertDb, Silence } from '../../alerts/db.ts';
import type { Dispatcher } from '../../alerts/dispatcher.ts';
import type { AlertEngine } from '../../alerts/engine.ts';
import { MAX_GLOB_LENGTH } from '../../alerts/glob.ts';
import type { RouteModule } from '../context.ts';

/** What the alert routes read and change. */
export interface AlertRouteDeps {
  engine: () => AlertEngine;
  db: AlertDb;
  dispatcher: Dispatcher;
  agentEvents: () => { agent: string; state: 'down' | 'up'; time: number }[];
}

const Limit = Type.Integer({ minimum: 1, maximum: 5000, default: 200 });
const HistoryQuery = Type.Object({
  target: Type.Optional(Type.String()),
  alert: Type.Optional(Type.String()),
  agent: Type.Optional(Type.String()),
  before: Type.Optional(Type.Integer({ minimum: 0, description: 'ms since the epoch; for paging' })),
  muted_by: Type.Optional(Type.String({ description: 'e.g. cause:<id> (suppressed by a localization cause), depends_on:/path, renotify, quorum' })),
  limit: Limit,
});
const DeliveryQuery = Type.Object({
  event: Type.Optional(Type.String()),
  channel: Type.Optional(Type.String()),
  status: Type.Optional(Type.Enum(['pending', 'sent', 'failed', 'silenced', 'suppressed', 'held'])),
  limit: Limit,
});
const SilenceBody = Type.Object({
  target: Type.Optional(Type.String({ minLength: 1, maxLength: MAX_GLOB_LENGTH, description: 'target path glob: * within a segment, ** across' })),
  agent: Type.Optional(Type.String({ minLength: 1, maxLength: MAX_GLOB_LENGTH, description: 'agent name glob' })),
  alert: Type.Optional(Type.String({ minLength: 1, maxLength: MAX_GLOB_LENGTH, description: 'alert name glob' })),
  labels: Type.Optional(Type.Record(Type.String({ minLength: 1 }), Type.String())),
  starts: Type.Optional(Type.Integer({ minimum: 0, description: 'ms since the epoch; default now' })),
  ends: Type.Optional(Type.Integer({ minimum: 0, description: 'ms since the epoch' })),
  duration_s: Type.Optional(Type.Integer({ minimum: 1, description: 'instead of ends: seconds from starts' })),
  comment: Type.String({ default: '' }),
  created_by: Type.Optional(Type.String()),
}, { additionalProperties: false });
const IdParams = Type.Object({ id: Type.String({ minLength: 1 }) });

/** Routes under /api/v1/alerts… and /api/v1/silences…; changes need the admin token. */
export function alertRoutes(deps: AlertRouteDeps): RouteModule {
  return (app, ctx) => {
    const tags = ['alerts'];
    // Channel queues with the failed attempts each has recorded (retries and final failures).
    const channels = () => {
      const failures = deps.db.failuresByChannel();
      return deps.dispatcher.status().map((c) => ({ ...c, failed_attempts: failures[c.name] ?? 0 }));
    };
    app.get('/api/v1/alerts', {
      schema: { summary: 'Alert definitions, active alerts, channel health', tags } as FastifySchema,
    }, async () => {
      const engine = deps.engine();
      return {
        rules: engine.rules().map(({ test: _t, ...r }) => r),
        active: engine.active(),
        channels: channels(),
        agent_events: deps.agentEvents(),
      };
    });
    app.get('/api/v1/alerts/active', { schema: { summary: 'Alerts currently matching, per series', tags } as FastifySchema }, async () => deps.engine().active());
    app.get<{ Querystring: Static<typeof HistoryQuery> }>('/api/v1/alerts/history', {
      schema: { summary: 'Raised / cleared / firing events, newest first', tags, querystring: HistoryQuery } as FastifySchema,
    }, async (req) => deps.db.events(req.query));
    app.get<{ Querystring: Static<typeof DeliveryQuery> }>('/api/v1/alerts/deliveries', {
      schema: { summary: 'Deliveries with every attempt (sent, retried, failed) and silenced notifications', tags, querystring: DeliveryQuery } as FastifySchema,
    }, async (req) => deps.db.deliveries(req.query));
    app.get('/api/v1/alerts/channels', { schema: { summary: 'Channel queues, last errors and failed attempts', tags } as FastifySchema }, async () => channels());

    app.get('/api/v1/silences', { schema: { summary: 'Silences, active and future', tags } as FastifySchema }, async () => {
      const now = Date.now();
      return deps.db.silences().map((s) => ({ ...s, active: s.starts <= now && now < s.ends }));
    });
    app.post<{ Body: Static<typeof SilenceBody> }>('/api/v1/silences', {
      preHandler: ctx.requireAdmin,
      schema: { summary: 'Create a silence (by target glob, agent, alert, labels; time window)', tags, body: SilenceBody } as FastifySchema,
    }, async (req, reply) => {
      const b = req.body;
      const starts = b.starts ?? Date.now();
      const ends = b.ends ?? (b.duration_s !== undefined ? starts + b.duration_s * 1000 : undefined);
      const bad = (error: string) => reply.code(400).send(errorBody('SMOKEMESH_E_PAYLOAD', error));
      if (ends === undefined) return bad('silence: give ends (ms since the epoch) or duration_s');
      if (ends <= starts) return bad('silence: ends must be after starts');
      if (!b.target && !b.agent && !b.alert && !(b.labels && Object.keys(b.labels).length)) {
        return bad('silence: give at least one of target, agent, alert, labels (a silence of everything is refused)');
      }
      const s: Silence = { id: randomUUID(), created: Date.now(), starts, ends, comment: b.comment ?? '' };
      if (b.target) s.target = b.target;
      if (b.agent) s.agent = b.agent;
      if (b.alert) s.alert = b.alert;
      if (b.labels) s.labels = b.labels;
      if (b.created_by) s.created_by = b.created_by;
      deps.db.saveSilence(s);
      deps.engine().refreshSilences();
      return reply.code(201).send(s);
    });
    app.delete<{ Params: Static<typeof IdParams> }>('/api/v1/silences/:id', {
      preHandler: ctx.requireAdmin,
      schema: { summary: 'Delete a silence', tags, params: IdParams } as FastifySchema,
    }, async (req, reply) => {
      if (!deps.db.deleteSilence(req.params.id)) return reply.code(404).send(errorBody('SMOKEMESH_E_NOT_FOUND', `no silence ${req.params.id}`));
      deps.engine().refreshSilences();
      return reply.code(204).send();
    });
    app.post<{ Params: Static<typeof IdParams> }>('/api/v1/silences/:id/expire', {
      preHandler: ctx.requireAdmin,
      schema: { summary: 'Expire a silence now (kept, so that history naming it still resolves)', tags, params: IdParams } as FastifySchema,
    }, async (req, reply) => {
      const s = deps.db.silences().find((x) => x.id === req.params.id);
      if (!s) return reply.code(404).send(errorBody('SMOKEMESH_E_NOT_FOUND', `no silence ${req.params.id}`));
      const now = Date.now();
      // A future silence expires before it starts: its window becomes empty.
      if (s.ends > now) deps.db.saveSilence({ ...s, starts: Math.min(s.starts, now), ends: now });
      deps.engine().refreshSilences();
      return deps.db.silences().find((x) => x.id === req.params.id);
    });
  };
}
