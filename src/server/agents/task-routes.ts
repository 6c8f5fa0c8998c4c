import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { validate } from '../../config/validate.ts';
import { AGENT_API, MAX_PLAN_WAIT_S, TaskResultsBodySchema, TaskResultsReplySchema, TasksReplySchema, type RoundsReply, type TasksReply } from '../../agent/protocol.ts';
import type { TaskDispatch } from '../../tasks/service.ts';
import { send } from './routes.ts';
import { AGENT_BODY_LIMITS, agentRouteDoc, parseBody, payloadError } from './signed-scope.ts';

/**
 * The agent API's task routes, registered inside its signed scope (./signed-scope.ts, through
 * ./routes.ts): authenticated from the headers before any body byte is read, like every agent
 * route. A long-poll GET that hands an agent its tasks the moment they are queued, and a POST
 * for each result (one task output, up to AGENT_BODY_LIMITS.taskResults).
 */
export function agentTaskRoutes(api: FastifyInstance, deps: { tasks: TaskDispatch; log: Logger }): void {
  api.addHook('preClose', (done) => {
    deps.tasks.close(); // wakes the long-polls so the server can close
    done();
  });

  api.get(AGENT_API.tasks, agentRouteDoc('Tasks for this agent (long-poll with ?wait=s): handed out once, the moment they are queued; HMAC-signed', TasksReplySchema), async (req, reply) => {
    const name = req.smokemeshAgent!;
    const q = req.query as { wait?: string };
    const wait = Math.min(Math.max(Number(q.wait ?? 0) || 0, 0), MAX_PLAN_WAIT_S);
    // A poll whose connection is gone must not be handed tasks nobody will receive.
    const gone = new AbortController();
    // (The response's 'close', not the request's: that one fires once a GET has been read.)
    reply.raw.once('close', () => gone.abort());
    const out: TasksReply = { tasks: await deps.tasks.take(name, wait * 1000, gone.signal) };
    return send(req, reply, 200, out);
  });

  api.post(AGENT_API.taskResults, { bodyLimit: AGENT_BODY_LIMITS.taskResults, ...agentRouteDoc('Results of tasks this agent ran (gzip JSON); HMAC-signed', TaskResultsReplySchema) }, async (req, reply) => {
    const name = req.smokemeshAgent!;
    const body = parseBody(req, name, AGENT_BODY_LIMITS.taskResults) as { results: unknown[] };
    const issues = validate(TaskResultsBodySchema, body);
    if (issues.length) throw payloadError(name, `body.${issues[0]!.path.join('.')}: ${issues[0]!.message}`);
    const out: RoundsReply = await deps.tasks.report(name, body.results);
    if (out.rejected.length) deps.log.warn({ agent: name, rejected: out.rejected }, `agent ${name}: refused ${out.rejected.length} task results`);
    return send(req, reply, 200, out);
  });
}
