import type { ErrorCode } from '../errors.ts';
import Type, { type Static } from 'typebox';
import { PlanSchema } from '../plan/assignment.ts';
import { TaskAssignmentSchema } from '../tasks/task.ts';
import { UpgradeStatusSchema } from '../release/protocol.ts';

/**
 * The agent API's wire format (JSON, gzip on request and answer bodies), shared by the server
 * routes and the agent client. Rounds travel as RoundSchema (src/probes/round.ts).
 */

export const AGENT_API = {
  heartbeat: '/api/v1/agent/heartbeat',
  plan: '/api/v1/agent/plan',
  rounds: '/api/v1/agent/rounds',
  tasks: '/api/v1/agent/tasks',
  taskResults: '/api/v1/agent/task-results',
} as const;

/** Longest long-poll the server holds a plan request open, in seconds. */
export const MAX_PLAN_WAIT_S = 60;

export const SpoolStatusSchema = Type.Object({
  /** Rounds waiting in the agent's outbox. */
  backlog: Type.Integer({ minimum: 0 }),
  bytes: Type.Integer({ minimum: 0 }),
  /** Rounds dropped since the spool was created because the disk quota was reached. */
  dropped: Type.Integer({ minimum: 0 }),
  oldest: Type.Optional(Type.Integer({ description: 'time of the oldest waiting round' })),
});
export type SpoolStatus = Static<typeof SpoolStatusSchema>;

export const HeartbeatSchema = Type.Object({
  version: Type.String({ maxLength: 64 }),
  region: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
  labels: Type.Record(Type.String({ minLength: 1, maxLength: 128 }), Type.String({ maxLength: 256 })),
  addresses: Type.Object({
    intranet: Type.Optional(Type.String({ maxLength: 64 })),
    public: Type.Optional(Type.String({ maxLength: 256 })),
  }, { additionalProperties: false }),
  spool: SpoolStatusSchema,
  started_at: Type.Integer({ minimum: 0 }),
  plan_version: Type.Optional(Type.String()),
  /** Self-upgrade status (src/release/protocol.ts); absent from agents that predate it. */
  upgrade: Type.Optional(UpgradeStatusSchema),
}, { additionalProperties: false });
export type Heartbeat = Static<typeof HeartbeatSchema>;

export const HeartbeatReplySchema = Type.Object({
  agent: Type.String(),
  region: Type.String(),
  labels: Type.Record(Type.String(), Type.String()),
  /** Seconds between heartbeats the server expects. */
  heartbeat: Type.Integer({ minimum: 1 }),
  plan_version: Type.String(),
  /**
   * In a cluster: the URL of the server that evaluates this agent's series. An agent that has
   * it in its own server list sends its requests there (docs/scale.md, "Several servers").
   */
  server: Type.Optional(Type.String()),
});
export type HeartbeatReply = Static<typeof HeartbeatReplySchema>;

export const PlanReplySchema = Type.Object({
  plan: PlanSchema,
  heartbeat: Type.Integer({ minimum: 1 }),
});
export type PlanReply = Static<typeof PlanReplySchema>;

export const RoundsBodySchema = Type.Object({
  rounds: Type.Array(Type.Unknown(), { maxItems: 20_000 }),
});

export const RoundsReplySchema = Type.Object({
  accepted: Type.Integer(),
  /** Rounds refused one by one (bad field, target not in the plan, other agent): never resent. */
  rejected: Type.Array(Type.Object({ index: Type.Integer(), error: Type.String() })),
});
export type RoundsReply = Static<typeof RoundsReplySchema>;

/** GET tasks (long-poll like the plan): the tasks the agent may start now. */
export const TasksReplySchema = Type.Object({ tasks: Type.Array(TaskAssignmentSchema) });
export type TasksReply = Static<typeof TasksReplySchema>;

/** POST task-results: results of tasks as they finish (TaskReportSchema each, checked one by one). */
export const TaskResultsBodySchema = Type.Object({ results: Type.Array(Type.Unknown(), { maxItems: 100 }) });
export const TaskResultsReplySchema = RoundsReplySchema;

/** Body of every refused agent request. */
export const AgentApiErrorSchema = Type.Object({
  code: Type.Unsafe<ErrorCode>(Type.String({ description: 'a code of the catalogue in docs/errors.md' })),
  reason: Type.Optional(Type.String({ description: 'why the signature was refused (401 only)' })),
  error: Type.String(),
});
export type AgentApiError = Static<typeof AgentApiErrorSchema>;
