import type { FastifySchema } from 'fastify';
import Type, { type Static } from 'typebox';
import { TASKS } from '../../tasks/index.ts';
import { TaskRecordSchema, TaskRequestSchema, TaskSummarySchema, type AgentChoice } from '../../tasks/record.ts';
import { TaskError, type TaskDispatch } from '../../tasks/service.ts';
import { TASK_KINDS } from '../../tasks/task.ts';
import { ErrorSchema } from '../api/schemas.ts';
import type { RouteModule } from '../context.ts';

/** What the task routes use. */
export interface TaskRouteDeps {
  service: TaskDispatch;
  /** The agent names a choice picks; throws (or rejects with) an Error saying what is wrong with it. */
  choose: (choice: AgentChoice) => string[] | Promise<string[]>;
  /** The policy in words, for the UI. */
  policy: () => { targets: boolean; networks: string[]; names: string[] };
}

const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });
const GetQuery = Type.Object({
  version: Type.Optional(Type.Integer({ minimum: 0, description: 'with wait: answer once the task has changed from this version' })),
  wait: Type.Integer({ minimum: 0, maximum: 60, default: 0, description: 'seconds to hold the request for a change (long-poll)' }),
});
const ListQuery = Type.Object({
  limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }),
  before: Type.Optional(Type.Integer({ minimum: 0, description: 'created before (ms since the epoch), for paging' })),
  kind: Type.Optional(Type.Enum(TASK_KINDS)),
  agent: Type.Optional(Type.String({ minLength: 1 })),
  target: Type.Optional(Type.String({ minLength: 1, description: 'target path (alert traces)' })),
  origin: Type.Optional(Type.Enum(['api', 'alert'])),
});
const KindsReply = Type.Object({
  enabled: Type.Boolean(),
  policy: Type.Object({ targets: Type.Boolean(), networks: Type.Array(Type.String()), names: Type.Array(Type.String()) }),
  kinds: Type.Array(Type.Object({ kind: Type.Enum(TASK_KINDS), summary: Type.String(), params: Type.Unknown({ description: 'JSON schema of the parameters' }) })),
});

/**
 * /api/v1/tasks: start a task (admin token), follow it (long-poll on its version), list tasks,
 * and the kinds with their parameter schemas. Reads are open like every GET of the API.
 */
export function taskRoutes(deps: TaskRouteDeps): RouteModule {
  return (app, ctx) => {
    const tags = ['tasks'];
    app.post<{ Body: Static<typeof TaskRequestSchema> }>('/api/v1/tasks', {
      preHandler: ctx.requireAdmin,
      schema: {
        summary: 'Start a diagnostic task (mtr, traceroute, ping, dns, http, tcp) on the chosen agents',
        description: 'Answers at once with the task (201); each agent\'s result follows: GET /api/v1/tasks/{id}?version=N&wait=25. '
          + 'Refused: 400 parameters out of range or no agent chosen, 401 no admin token, 403 host outside the task policy or tasks disabled, '
          + '503 (in a cluster) the coordination database does not answer.',
        tags, body: TaskRequestSchema,
        response: { 201: TaskRecordSchema, 400: ErrorSchema, 401: ErrorSchema, 403: ErrorSchema, 503: ErrorSchema },
      } as FastifySchema,
    }, async (req, reply) => {
      const b = req.body;
      let agents: string[];
      try {
        agents = await deps.choose(b.agents);
      } catch (e) {
        if (e instanceof TaskError) throw e; // the cluster's database did not answer (503)
        throw new TaskError(400, 'SMOKEMESH_E_PARAM', (e as Error).message);
      }
      const createdBy = `admin@${req.ip}${b.requested_by ? ` (${b.requested_by})` : ''}`;
      const rec = await deps.service.create({ kind: b.kind, params: b.params, agents, choice: b.agents, createdBy, origin: 'api' });
      return reply.code(201).send(rec);
    });

    app.get('/api/v1/tasks/kinds', {
      schema: { summary: 'Task kinds with their parameter schemas, and the task policy', tags, response: { 200: KindsReply } } as FastifySchema,
    }, async () => ({
      enabled: deps.service.enabled(),
      policy: deps.policy(),
      kinds: TASK_KINDS.map((k) => ({ kind: k, summary: TASKS[k].summary, params: TASKS[k].paramsSchema })),
    }));

    app.get<{ Params: Static<typeof IdParams>; Querystring: Static<typeof GetQuery> }>('/api/v1/tasks/:id', {
      schema: {
        summary: 'A task with every agent\'s result so far; with version and wait, held until it changes',
        tags, params: IdParams, querystring: GetQuery, response: { 200: TaskRecordSchema, 404: ErrorSchema, 503: ErrorSchema },
      } as FastifySchema,
    }, async (req) => {
      const { id } = req.params;
      const { version, wait } = req.query;
      if (version !== undefined && wait > 0) await deps.service.waitForChange(id, version, wait * 1000);
      const rec = await deps.service.get(id);
      if (!rec) throw new TaskError(404, 'SMOKEMESH_E_NOT_FOUND', `no task ${id} (tasks are kept tasks.retention_days)`);
      return rec;
    });

    app.get<{ Querystring: Static<typeof ListQuery> }>('/api/v1/tasks', {
      schema: {
        summary: 'Tasks, newest first, with result counts by status (no outputs)',
        tags, querystring: ListQuery, response: { 200: Type.Object({ tasks: Type.Array(TaskSummarySchema) }), 503: ErrorSchema },
      } as FastifySchema,
    }, async (req) => ({ tasks: await deps.service.list(req.query) }));
  };
}

