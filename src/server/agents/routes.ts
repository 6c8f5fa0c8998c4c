import { gzipSync } from 'node:zlib';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import Type from 'typebox';
import type { Logger } from 'pino';
import { validate } from '../../config/validate.ts';
import type { Round } from '../../probes/round.ts';
import type { RoundProblem, WriteResult } from '../../store/types.ts';
import {
  AGENT_API, HeartbeatReplySchema, HeartbeatSchema, MAX_PLAN_WAIT_S, PlanReplySchema, RoundsBodySchema, RoundsReplySchema,
  type Heartbeat, type HeartbeatReply, type PlanReply, type RoundsReply,
} from '../../agent/protocol.ts';
import { GroupCommit } from './group-commit.ts';
import type { AgentRegistry, AgentState } from './registry.ts';
import { AGENT_BODY_LIMITS, agentRouteDoc, ApiError, parseBody, payloadError, signedScope } from './signed-scope.ts';

export interface AgentApiDeps {
  registry: AgentRegistry;
  /** Commits rounds (the ingest): resolves once they are on disk, throws SMOKEMESH_E_UNAVAILABLE when nothing could be. */
  accept: (rounds: Round[]) => WriteResult | Promise<WriteResult>;
  /** The store's own validation of one round (Store.check). */
  check: (round: unknown) => RoundProblem | undefined;
  log: Logger;
  /** In a cluster: the URL of the server that evaluates this agent's series (told in heartbeat replies). */
  serverFor?: (agent: string) => string | undefined;
  /** Other concerns' agent routes (tasks: ./task-routes.ts), registered inside the same signed scope. */
  more?: (api: FastifyInstance) => void;
}

/**
 * The agent API: heartbeat, plan (long-poll with ETag) and rounds, in the signed scope
 * (signed-scope.ts: authentication from the headers before any body is read). A push is
 * answered only once its rounds are committed, or refused one by one naming the field.
 */
export async function agentApiRoutes(app: FastifyInstance, deps: AgentApiDeps): Promise<void> {
  const { registry, log } = deps;
  const commit = new GroupCommit(deps.accept);
  await signedScope(app, { registry, log }, (api) => {
    api.addHook('preClose', (done) => {
      registry.close();
      void commit.flush().finally(done);
    });

    api.post(AGENT_API.heartbeat, agentRouteDoc('An agent reports it is alive (version, addresses, spool); HMAC-signed', HeartbeatReplySchema), async (req, reply) => {
      const name = req.smokemeshAgent!;
      const hb = parseBody(req, name) as Heartbeat;
      const issues = validate(HeartbeatSchema, hb);
      if (issues.length) throw payloadError(name, `heartbeat.${issues[0]!.path.join('.')}: ${issues[0]!.message}`);
      const st = registry.heartbeat(name, hb);
      const out: HeartbeatReply = { agent: name, region: st.region, labels: st.labels, heartbeat: st.entry.heartbeat, plan_version: st.plan!.version };
      const server = deps.serverFor?.(name);
      if (server) out.server = server;
      return send(req, reply, 200, out);
    });

    api.get(AGENT_API.plan, agentRouteDoc("The agent's plan (long-poll with ?wait=s and If-None-Match); HMAC-signed", PlanReplySchema, { 304: Type.Null({ description: 'plan unchanged' }) }), async (req, reply) => {
      const name = req.smokemeshAgent!;
      const st = identified(registry, name);
      const q = req.query as { wait?: string };
      const wait = Math.min(Math.max(Number(q.wait ?? 0) || 0, 0), MAX_PLAN_WAIT_S);
      const known = req.headers['if-none-match'];
      if (known && known === registry.etag(st) && wait > 0) await registry.waitForChange(name, known, wait * 1000);
      const etag = registry.etag(st);
      reply.header('etag', etag);
      if (known === etag) return reply.code(304).send();
      const out: PlanReply = { plan: st.plan!, heartbeat: st.entry.heartbeat };
      return send(req, reply, 200, out);
    });

    api.post(AGENT_API.rounds, { bodyLimit: AGENT_BODY_LIMITS.rounds, ...agentRouteDoc('A batch of rounds (gzip JSON); HMAC-signed; answered once committed; idempotent', RoundsReplySchema) }, async (req, reply) => {
      const name = req.smokemeshAgent!;
      const st = identified(registry, name);
      const body = parseBody(req, name) as { rounds: unknown[] };
      const issues = validate(RoundsBodySchema, body);
      if (issues.length) throw payloadError(name, `body.${issues[0]!.path.join('.')}: ${issues[0]!.message}`);
      const { good, goodAt, rejected } = checkRounds(body.rounds, st, deps.check);
      // Throws SMOKEMESH_E_UNAVAILABLE (503) when nothing could be committed: the agent keeps its rounds.
      const result = await commit.add(good);
      for (const x of result.refused) rejected.push({ index: goodAt[x.index]!, error: refusal(goodAt[x.index]!, x) });
      rejected.sort((a, b) => a.index - b.index);
      const accepted = good.length - result.refused.length;
      st.rounds_accepted += accepted;
      st.rounds_rejected += rejected.length;
      if (rejected.length) log.warn({ agent: name, rejected: rejected.length, accepted, first: rejected[0]!.error }, `agent ${name}: refused ${rejected.length} rounds of a batch`);
      const out: RoundsReply = { accepted, rejected };
      return send(req, reply, 200, out);
    });
    // Other concerns' agent routes (tasks: ./task-routes.ts; self-upgrade: ./release-routes.ts), signed like these.
    deps.more?.(api);
  });
}

/**
 * Splits a batch into rounds to commit (with their indices in the batch) and refusals naming
 * the field: the store's own validation first (`check`), then what only the agent API knows
 * (the signing agent, its plan).
 */
export function checkRounds(rounds: unknown[], st: AgentState, check: AgentApiDeps['check']): { good: Round[]; goodAt: number[]; rejected: RoundsReply['rejected'] } {
  const good: Round[] = [];
  const goodAt: number[] = [];
  const rejected: RoundsReply['rejected'] = [];
  const name = st.entry.name;
  rounds.forEach((r, index) => {
    const problem = check(r);
    if (problem) {
      rejected.push({ index, error: refusal(index, problem) });
      return;
    }
    const round = r as Round;
    if (round.agent !== name) rejected.push({ index, error: `rounds[${index}].agent: "${round.agent}" but the request is signed by agent "${name}"` });
    else if (!st.targets.has(round.target)) rejected.push({ index, error: `rounds[${index}].target: "${round.target}" is not in the plan of agent "${name}"` });
    else {
      good.push(round);
      goodAt.push(index);
    }
  });
  return { good, goodAt, rejected };
}

function refusal(index: number, p: RoundProblem): string {
  return `rounds[${index}]${p.field ? '.' + p.field : ''}: ${p.message}`;
}

function identified(registry: AgentRegistry, name: string): AgentState {
  const st = registry.get(name)!;
  if (!st.plan) {
    throw new ApiError(428, { code: 'SMOKEMESH_E_PAYLOAD', reason: 'heartbeat_first', error: `agent "${name}": send a heartbeat first (the server restarted and does not know its region and labels yet)` });
  }
  return st;
}

/** JSON answer, gzip when the agent accepts it and it is worth it. */
export function send(req: FastifyRequest, reply: FastifyReply, status: number, value: unknown): FastifyReply {
  const json = JSON.stringify(value);
  reply.code(status).header('content-type', 'application/json; charset=utf-8');
  if (json.length > 1024 && /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''))) {
    return reply.header('content-encoding', 'gzip').send(gzipSync(json));
  }
  return reply.send(json);
}
