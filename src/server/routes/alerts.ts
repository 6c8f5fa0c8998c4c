import { errorBody } from '../../errors.ts';
import { randomUUID } from 'node:crypto';
import type { FastifyReply, FastifySchema } from 'fastify';
import Type, { type Static } from 'typebox';
import { AlertRuleInfoSchema } from '../../alerts/config.ts';
import {
  ActiveRowSchema, AttemptRowSchema, DELIVERY_STATUSES, DeliveryListRowSchema, EventRowSchema, SilenceSchema,
  type AlertDb, type Silence,
} from '../../alerts/db.ts';
import type { SharedHistory } from '../../cluster/history.ts';
import { ChannelStatusSchema, type Dispatcher } from '../../alerts/dispatcher.ts';
import { AlertEventSchema } from '../../alerts/notifiers/notifier.ts';
import type { AlertEngine } from '../../alerts/engine.ts';
import { MAX_GLOB_LENGTH } from '../../alerts/glob.ts';
import type { RouteModule } from '../context.ts';
import { ErrorSchema as Err } from '../api/schemas.ts';

/** What the alert routes read and change. */
export interface AlertRouteDeps {
  engine: () => AlertEngine;
  db: AlertDb;
  dispatcher: Dispatcher;
  /** Agent up/down events, newest first; in a cluster every server's (each told by one server, `server`). */
  agentEvents: () => AgentEventItem[] | Promise<AgentEventItem[]>;
  /** Told of every silence saved or deleted here (a cluster shares them with its other servers). */
  onSilence?: (change: { saved: Silence } | { deleted: string }) => void;
  /** In a cluster: the history and deliveries of every server (src/cluster/history.ts); default this server's own database. */
  history?: () => SharedHistory | undefined;
}

const AgentEventSchema = Type.Object({
  agent: Type.String(), state: Type.Enum(['down', 'up']), time: Type.Number(),
  server: Type.Optional(Type.String({ description: 'in a cluster: the server that told it (the agent\'s owner then)' })),
});
type AgentEventItem = Static<typeof AgentEventSchema>;

const Limit = Type.Optional(Type.Integer({ minimum: 1, maximum: 5000, default: 200 }));
const Offset = Type.Optional(Type.Integer({ minimum: 0, maximum: 10_000_000, default: 0, description: 'rows to skip (paging); X-Total-Count has the total' }));
const TimeFilter = {
  from: Type.Optional(Type.Integer({ minimum: 0, description: 'ms since the epoch, inclusive' })),
  to: Type.Optional(Type.Integer({ minimum: 0, description: 'ms since the epoch, exclusive' })),
};
const EventFilter = {
  target: Type.Optional(Type.String({ minLength: 1, description: 'a target path: the target and every target under it' })),
  alert: Type.Optional(Type.String({ minLength: 1 })),
  agent: Type.Optional(Type.String({ minLength: 1 })),
};
const HistoryQuery = Type.Object({
  ...EventFilter,
  state: Type.Optional(AlertEventSchema.properties.state),
  ...TimeFilter,
  before: Type.Optional(Type.Integer({ minimum: 0, description: 'ms since the epoch; events older than this (cursor paging)' })),
  muted_by: Type.Optional(Type.String({ description: 'e.g. cause:<id> (suppressed by a localization cause), depends_on:/path, renotify, quorum' })),
  limit: Limit,
  offset: Offset,
});
const DeliveryQuery = Type.Object({
  event: Type.Optional(Type.String({ minLength: 1 })),
  channel: Type.Optional(Type.String({ minLength: 1 })),
  status: Type.Optional(Type.Enum(DELIVERY_STATUSES)),
  ...EventFilter,
  ...TimeFilter,
  limit: Limit,
  offset: Offset,
});
const TotalHeader = { 'x-total-count': Type.Integer({ description: 'rows matching the filter, over all pages' }) };
const ActiveSchema = Type.Object({ ...ActiveRowSchema.properties, edgetrigger: Type.Boolean() });
const ChannelSchema = Type.Object({
  ...ChannelStatusSchema.properties,
  failed_attempts: Type.Integer({ description: 'failed attempts recorded (retries and final failures)' }),
  last_outcome: Type.Union([AttemptRowSchema.properties.outcome, Type.Null()], { description: "the outcome of the channel's latest attempt" }),
});
const SilenceWithState = Type.Object({ ...SilenceSchema.properties, active: Type.Boolean() });
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

/** A read from the cluster's shared database; when it does not answer, a 503 naming it (SMOKEMESH_E_CLUSTER) is sent and undefined returned. */
async function fromCluster<T>(reply: FastifyReply, read: () => Promise<T>): Promise<T | undefined> {
  try {
    return await read();
  } catch (e) {
    await reply.code(503).send(errorBody('SMOKEMESH_E_CLUSTER', (e as Error).message));
    return undefined;
  }
}

/** Routes under /api/v1/alerts… and /api/v1/silences…; changes need the admin token. */
export function alertRoutes(deps: AlertRouteDeps): RouteModule {
  return (app, ctx) => {
    const tags = ['alerts'];
    // Channel queues with the failed attempts each has recorded (retries and final failures).
    const channels = () => {
      const failures = deps.db.failuresByChannel();
      const last = deps.db.lastOutcomes();
      return deps.dispatcher.status().map((c) => ({ ...c, failed_attempts: failures[c.name] ?? 0, last_outcome: last[c.name] ?? null }));
    };
    app.get('/api/v1/alerts', {
      schema: {
        summary: 'Alert definitions, active alerts, channel health, agent up/down events', tags,
        response: {
          200: Type.Object({
            rules: Type.Array(AlertRuleInfoSchema),
            active: Type.Array(ActiveSchema),
            channels: Type.Array(ChannelSchema),
            agent_events: Type.Array(AgentEventSchema),
          }),
        },
      } as FastifySchema,
    }, async () => {
      const engine = deps.engine();
      return {
        rules: engine.rules().map(({ test: _t, ...r }) => r),
        active: engine.active(),
        channels: channels(),
        agent_events: await deps.agentEvents(),
      };
    });
    app.get('/api/v1/alerts/active', {
      schema: { summary: 'Alerts currently matching, per series', tags, response: { 200: Type.Array(ActiveSchema) } } as FastifySchema,
    }, async () => deps.engine().active());
    app.get<{ Querystring: Static<typeof HistoryQuery> }>('/api/v1/alerts/history', {
      schema: {
        summary: 'Raised / cleared / firing events, newest first; filters and paging (X-Total-Count: all matches)', tags, querystring: HistoryQuery,
        response: { 200: { ...Type.Array(EventRowSchema), headers: TotalHeader }, 503: Err },
      } as FastifySchema,
    }, async (req, reply) => {
      const q = { ...req.query, limit: req.query.limit ?? 200 };
      const shared = deps.history?.();
      if (shared) {
        const page = await fromCluster(reply, () => shared.events(q));
        if (!page) return reply;
        void reply.header('x-total-count', page.total);
        return page.rows;
      }
      void reply.header('x-total-count', deps.db.countEvents(q));
      return deps.db.events(q);
    });
    app.get<{ Querystring: Static<typeof DeliveryQuery> }>('/api/v1/alerts/deliveries', {
      schema: {
        summary: 'Deliveries with every attempt (sent, retried, failed) and silenced notifications, newest first; filters and paging (X-Total-Count)',
        tags, querystring: DeliveryQuery,
        response: { 200: { ...Type.Array(DeliveryListRowSchema), headers: TotalHeader }, 503: Err },
      } as FastifySchema,
    }, async (req, reply) => {
      const q = { ...req.query, limit: req.query.limit ?? 200 };
      const shared = deps.history?.();
      if (shared) {
        const page = await fromCluster(reply, () => shared.deliveries(q));
        if (!page) return reply;
        void reply.header('x-total-count', page.total);
        return page.rows;
      }
      void reply.header('x-total-count', deps.db.countDeliveries(q));
      return deps.db.deliveries(q);
    });
    app.get('/api/v1/alerts/channels', {
      schema: { summary: 'Channel queues, last errors and failed attempts', tags, response: { 200: Type.Array(ChannelSchema) } } as FastifySchema,
    }, async () => channels());

    app.get('/api/v1/silences', {
      schema: { summary: 'Silences, active, future and expired', tags, response: { 200: Type.Array(SilenceWithState) } } as FastifySchema,
    }, async () => {
      const now = Date.now();
      return deps.db.silences().map((s) => ({ ...s, active: s.starts <= now && now < s.ends }));
    });
    app.post<{ Body: Static<typeof SilenceBody> }>('/api/v1/silences', {
      preHandler: ctx.requireAdmin,
      schema: {
        summary: 'Create a silence (by target glob, agent, alert, labels; time window)', tags, body: SilenceBody,
        response: { 201: SilenceSchema, 400: Err, 401: Err },
      } as FastifySchema,
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
      deps.onSilence?.({ saved: s });
      return reply.code(201).send(s);
    });
    app.delete<{ Params: Static<typeof IdParams> }>('/api/v1/silences/:id', {
      preHandler: ctx.requireAdmin,
      schema: { summary: 'Delete a silence', tags, params: IdParams, response: { 204: Type.Null({ description: 'deleted' }), 401: Err, 404: Err } } as FastifySchema,
    }, async (req, reply) => {
      if (!deps.db.deleteSilence(req.params.id)) return reply.code(404).send(errorBody('SMOKEMESH_E_NOT_FOUND', `no silence ${req.params.id}`));
      deps.engine().refreshSilences();
      deps.onSilence?.({ deleted: req.params.id });
      return reply.code(204).send();
    });
    app.post<{ Params: Static<typeof IdParams> }>('/api/v1/silences/:id/expire', {
      preHandler: ctx.requireAdmin,
      schema: {
        summary: 'Expire a silence now (kept, so that history naming it still resolves)', tags, params: IdParams,
        response: { 200: SilenceSchema, 401: Err, 404: Err },
      } as FastifySchema,
    }, async (req, reply) => {
      const s = deps.db.silences().find((x) => x.id === req.params.id);
      if (!s) return reply.code(404).send(errorBody('SMOKEMESH_E_NOT_FOUND', `no silence ${req.params.id}`));
      const now = Date.now();
      // A future silence expires before it starts: its window becomes empty.
      if (s.ends > now) {
        const expired = { ...s, starts: Math.min(s.starts, now), ends: now };
        deps.db.saveSilence(expired);
        deps.onSilence?.({ saved: expired });
      }
      deps.engine().refreshSilences();
      return deps.db.silences().find((x) => x.id === req.params.id);
    });
  };
}
