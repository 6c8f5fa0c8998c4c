import { gunzipSync, gzipSync } from 'node:zlib';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { verifyRequest } from '../../auth/signing.ts';
import { validate } from '../../config/validate.ts';
import { RoundSchema, type Round } from '../../probes/round.ts';
import {
  AGENT_API, HeartbeatSchema, MAX_PLAN_WAIT_S, RoundsBodySchema,
  type AgentApiError, type Heartbeat, type HeartbeatReply, type PlanReply, type RoundsReply,
} from '../../agent/protocol.ts';
import { GroupCommit } from './group-commit.ts';
import type { AgentRegistry, AgentState } from './registry.ts';

/** Largest body accepted after decompression (a batch of 20 000 rounds of 100 pings fits). */
const MAX_BODY = 64 * 1024 * 1024;
/** Rounds timed further ahead than this are refused: a wrong clock would poison the series. */
const MAX_FUTURE_MS = 10 * 60_000;

declare module 'fastify' {
  interface FastifyRequest {
    smokemeshAgent?: string;
  }
}

class ApiError extends Error {
  constructor(readonly status: number, readonly body: AgentApiError) {
    super(body.error);
  }
}

/**
 * The agent API: heartbeat, plan (long-poll with ETag) and rounds. Registered in a scope of its
 * own, because it reads raw bodies: the signature covers the bytes exactly as sent.
 */
export async function agentApiRoutes(app: FastifyInstance, deps: { registry: AgentRegistry; accept: (rounds: Round[]) => void; log: Logger; more?: (api: FastifyInstance) => void }): Promise<void> {
  const { registry, log } = deps;
  const commit = new GroupCommit(deps.accept);
  await app.register(async (api) => {
    api.removeAllContentTypeParsers();
    api.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: MAX_BODY }, (_req, body, done) => done(null, body));
    api.addHook('preClose', (done) => {
      registry.close();
      commit.flush();
      done();
    });

    api.addHook('preHandler', async (req, reply) => {
      const body = req.body instanceof Buffer ? req.body : undefined;
      const v = verifyRequest({
        method: req.method, path: req.url, headers: req.headers, body,
        secretOf: (name) => registry.secretOf(name),
        useNonce: (name, nonce, ts) => registry.nonces.use(name, nonce, ts),
      });
      if (!v.ok) {
        const st = v.agent ? registry.get(v.agent) : undefined;
        if (st) st.auth_failures++;
        log.warn({ agent: v.agent, reason: v.reason, ip: req.ip, url: req.url }, `SMOKEMESH_E_AUTH (${v.reason}): ${v.message}`);
        return reply.code(401).send({ code: 'SMOKEMESH_E_AUTH', reason: v.reason, error: v.message });
      }
      req.smokemeshAgent = v.agent;
      registry.seen(v.agent, req.ip);
    });

    api.setErrorHandler((err: Error & { statusCode?: number }, req, reply) => {
      if (err instanceof ApiError) return reply.code(err.status).send(err.body);
      const status = err.statusCode && err.statusCode < 500 ? err.statusCode : 500;
      if (status >= 500) log.error({ err, url: req.url, agent: req.smokemeshAgent }, 'agent request failed');
      return reply.code(status).send({ code: status === 413 ? 'SMOKEMESH_E_PAYLOAD' : 'SMOKEMESH_E_INTERNAL', error: err.message });
    });

    api.post(AGENT_API.heartbeat, async (req, reply) => {
      const name = req.smokemeshAgent!;
      const hb = parseBody(req, name) as Heartbeat;
      const issues = validate(HeartbeatSchema, hb);
      if (issues.length) throw payloadError(name, `heartbeat.${issues[0]!.path.join('.')}: ${issues[0]!.message}`);
      const st = registry.heartbeat(name, hb);
      const out: HeartbeatReply = { agent: name, region: st.region, labels: st.labels, heartbeat: st.entry.heartbeat, plan_version: st.plan!.version };
      return send(req, reply, 200, out);
    });

    api.get(AGENT_API.plan, async (req, reply) => {
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

    api.post(AGENT_API.rounds, async (req, reply) => {
      const name = req.smokemeshAgent!;
      const st = identified(registry, name);
      const body = parseBody(req, name) as { rounds: unknown[] };
      const issues = validate(RoundsBodySchema, body);
      if (issues.length) throw payloadError(name, `body.${issues[0]!.path.join('.')}: ${issues[0]!.message}`);
      const { good, rejected } = checkRounds(body.rounds, st);
      await commit.add(good);
      st.rounds_accepted += good.length;
      st.rounds_rejected += rejected.length;
      if (rejected.length) log.warn({ agent: name, rejected: rejected.length, accepted: good.length, first: rejected[0]!.error }, `agent ${name}: refused ${rejected.length} rounds of a batch`);
      const out: RoundsReply = { accepted: good.length, rejected };
      return send(req, reply, 200, out);
    });
    // Other concerns' agent routes (tasks: ./task-routes.ts), signed like these.
    deps.more?.(api);
  });
}

/** Splits a batch into valid rounds of this agent's plan and refusals naming the field. */
export function checkRounds(rounds: unknown[], st: AgentState, now = Date.now()): { good: Round[]; rejected: RoundsReply['rejected'] } {
  const good: Round[] = [];
  const rejected: RoundsReply['rejected'] = [];
  const name = st.entry.name;
  rounds.forEach((r, index) => {
    const issues = validate(RoundSchema, r);
    if (issues.length) {
      rejected.push({ index, error: issues.map((i) => `rounds[${index}].${i.path.join('.')}: ${i.message}`).join('; ') });
      return;
    }
    const round = r as Round;
    if (round.agent !== name) rejected.push({ index, error: `rounds[${index}].agent: "${round.agent}" but the request is signed by agent "${name}"` });
    else if (!st.targets.has(round.target)) rejected.push({ index, error: `rounds[${index}].target: "${round.target}" is not in the plan of agent "${name}"` });
    else if (round.time > now + MAX_FUTURE_MS) rejected.push({ index, error: `rounds[${index}].time: ${new Date(round.time).toISOString()} is in the future (check the agent's clock)` });
    else good.push(round);
  });
  return { good, rejected };
}

function identified(registry: AgentRegistry, name: string): AgentState {
  const st = registry.get(name)!;
  if (!st.plan) {
    throw new ApiError(428, { code: 'SMOKEMESH_E_PAYLOAD', reason: 'heartbeat_first', error: `agent "${name}": send a heartbeat first (the server restarted and does not know its region and labels yet)` });
  }
  return st;
}

export function payloadError(agent: string, message: string): ApiError {
  return new ApiError(400, { code: 'SMOKEMESH_E_PAYLOAD', error: `agent "${agent}": ${message}` });
}

export function parseBody(req: FastifyRequest, agent: string): unknown {
  let raw = req.body instanceof Buffer ? req.body : Buffer.alloc(0);
  if (req.headers['content-encoding'] === 'gzip') {
    try {
      raw = gunzipSync(raw, { maxOutputLength: MAX_BODY });
    } catch (e) {
      throw payloadError(agent, `body is not valid gzip or is larger than ${MAX_BODY} bytes: ${(e as Error).message}`);
    }
  }
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch (e) {
    throw payloadError(agent, `body is not JSON: ${(e as Error).message}`);
  }
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
