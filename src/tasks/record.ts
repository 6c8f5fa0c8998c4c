import Type, { type Static } from 'typebox';
import { TASK_KINDS } from './task.ts';

/**
 * Schemas of tasks as the API shows them and the database keeps them: one source for request
 * validation, response serialization, the OpenAPI description and the web app's types.
 */

/**
 * Where one agent's part of a task stands. Final: done, failed (it ran and the tool failed),
 * refused (never sent: policy, limits, unknown agent), agent_down (never sent: the agent is
 * down), timeout (not fetched within tasks.pickup_s, or no result within its time).
 */
export const RESULT_STATUSES = ['queued', 'running', 'done', 'failed', 'refused', 'agent_down', 'timeout'] as const;
export type ResultStatus = (typeof RESULT_STATUSES)[number];
export const FINAL_STATUSES: ReadonlySet<ResultStatus> = new Set(['done', 'failed', 'refused', 'agent_down', 'timeout']);

export const AgentResultSchema = Type.Object({
  agent: Type.String(),
  status: Type.Enum(RESULT_STATUSES),
  queued: Type.Integer({ description: 'ms since the epoch: when the task was queued for the agent' }),
  started: Type.Optional(Type.Integer({ description: 'when the agent fetched it' })),
  finished: Type.Optional(Type.Integer({ description: 'when its result (or final status) came' })),
  output: Type.Optional(Type.Unknown({ description: 'the kind\'s output: mtr {destination, cycles, hops[]}, traceroute {destination, address, max_hops, hops[]}, ping/tcp {sent, received, loss_pct, rtts_ms…}, dns {rcode, flags, answers…}, http {status, phases_ms…}' })),
  error: Type.Optional(Type.String()),
  summary: Type.Optional(Type.String({ description: 'mtr and traceroute: where loss starts, or that the path is clean' })),
});
export type AgentResult = Static<typeof AgentResultSchema>;

/** One agent's part of a task as a database row holds it (SQLite and the cluster's PostgreSQL alike). */
export interface ResultRow {
  task_id: string; agent: string; status: ResultStatus; queued: number; started: number | null; finished: number | null;
  output: string | null; error: string | null; summary: string | null;
}

/** A stored part as the API gives it (absent fields for nulls, the output parsed). */
export function resultFromRow(r: ResultRow): AgentResult {
  const out: AgentResult = { agent: r.agent, status: r.status, queued: r.queued };
  if (r.started !== null) out.started = r.started;
  if (r.finished !== null) out.finished = r.finished;
  if (r.output !== null) out.output = JSON.parse(r.output) as unknown;
  if (r.error !== null) out.error = r.error;
  if (r.summary !== null) out.summary = r.summary;
  return out;
}

/** Which agents run a task: listed names, or every live agent matching all the filters given. */
export const AgentChoiceSchema = Type.Object({
  names: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { maxItems: 1000 })),
  regions: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { maxItems: 100 })),
  labels: Type.Optional(Type.Record(Type.String({ minLength: 1 }), Type.String())),
  probing: Type.Optional(Type.String({ minLength: 1, description: 'a target path: the agents that probe it' })),
  all: Type.Optional(Type.Boolean({ description: 'every agent (the other fields then filter)' })),
}, { additionalProperties: false });
export type AgentChoice = Static<typeof AgentChoiceSchema>;

export const TaskRequestSchema = Type.Object({
  kind: Type.Enum(TASK_KINDS),
  params: Type.Record(Type.String(), Type.Unknown(), { description: 'the kind\'s parameters (GET /api/v1/tasks/kinds lists them)' }),
  agents: AgentChoiceSchema,
  requested_by: Type.Optional(Type.String({ maxLength: 200, description: 'who asks (recorded with the caller\'s address)' })),
}, { additionalProperties: false });
export type TaskRequest = Static<typeof TaskRequestSchema>;

export const TaskRecordSchema = Type.Object({
  id: Type.String(),
  kind: Type.Enum(TASK_KINDS),
  params: Type.Record(Type.String(), Type.Unknown()),
  host: Type.String({ description: 'the host the task contacts' }),
  target: Type.Optional(Type.String({ description: 'target path, for traces an alert asked for' })),
  origin: Type.Enum(['api', 'alert'], { description: 'api: an admin started it; alert: an alert asked for a trace' }),
  created: Type.Integer(),
  created_by: Type.String({ description: 'admin@address (requested_by), or the alert that asked' }),
  choice: AgentChoiceSchema,
  state: Type.Enum(['running', 'finished'], { description: 'finished once every agent\'s part is final' }),
  version: Type.Integer({ description: 'grows with every change (for GET ?version=&wait=)' }),
  results: Type.Array(AgentResultSchema),
});
export type TaskRecord = Static<typeof TaskRecordSchema>;

export const TaskSummarySchema = Type.Object({
  ...Type.Omit(TaskRecordSchema, ['results', 'params', 'choice']).properties,
  agents: Type.Integer(),
  counts: Type.Record(Type.String(), Type.Integer(), { description: 'results by status' }),
  summaries: Type.Record(Type.String(), Type.String(), { description: 'trace verdicts by agent (mtr, traceroute)' }),
});
export type TaskSummary = Static<typeof TaskSummarySchema>;
