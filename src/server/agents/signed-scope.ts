import { gunzipSync } from 'node:zlib';
import type { FastifyInstance, FastifyReply, FastifyRequest, FastifySchema } from 'fastify';
import type { TSchema } from 'typebox';
import type { Logger } from 'pino';
import { verifyBody, verifyHeaders, type VerifyResult } from '../../auth/signing.ts';
import { UnavailableError, isUnavailable } from '../../errors.ts';
import { AgentApiErrorSchema, type AgentApiError } from '../../agent/protocol.ts';
import { MAX_TASK_OUTPUT_BYTES } from '../../config/tasks-schema.ts';
import type { BinaryAnswer } from '../api/schemas.ts';
import type { AgentRegistry } from './registry.ts';

/**
 * Body limits of the agent API. A batch of 500 rounds of 1000 pings is about 4.3 MiB of JSON
 * and 1.8 MiB gzipped (measured; docs/agents.md; 6 MiB with 7-digit RTTs), so the rounds route
 * takes 8 MiB as sent and 8 MiB decompressed; parsing that much takes a bounded ~0.1–0.3 s of
 * the event loop. The task-results route takes one task output (tasks.max_output_bytes, at most
 * 16 MiB). Every other route of the scope takes 64 KiB unless it says otherwise. JSON
 * may nest at most MAX_JSON_DEPTH levels. Only an authenticated request gets as far as its body.
 */
export const AGENT_BODY_LIMITS = {
  /** Bytes as sent (gzip) on the rounds route. */
  rounds: 8 * 1024 * 1024,
  /** Bytes once decompressed, on any route. */
  json: 8 * 1024 * 1024,
  /** Bytes as sent on the other routes (heartbeat…). */
  other: 64 * 1024,
  /**
   * Bytes as sent and decompressed on the task-results route: an agent posts one result at a
   * time, whose output may be as large as tasks.max_output_bytes allows, plus its envelope.
   */
  taskResults: MAX_TASK_OUTPUT_BYTES + 1024 * 1024,
} as const;

/** Deepest nesting of arrays and objects accepted (a round is 4 deep): deep JSON costs the parser seconds. */
export const MAX_JSON_DEPTH = 32;

declare module 'fastify' {
  interface FastifyRequest {
    smokemeshAgent?: string;
  }
}

/** A refusal with its status and the agent API's error body. */
export class ApiError extends Error {
  constructor(readonly status: number, readonly body: AgentApiError) {
    super(body.error);
  }
}

/**
 * Registers `routes` in a scope where every request is signed by an agent. Authentication runs
 * as an `onRequest` hook of the scope, from the headers alone, before any body byte is read:
 * unknown agents, stale timestamps, bad or missing signature headers and replayed nonces get
 * 401 and the connection is closed (the upload is not read into memory). Bodies are then read
 * up to AGENT_BODY_LIMITS (a route may set its own `bodyLimit`) and checked against the signed
 * digest. Any route added here (new agent endpoints too) gets all of this. A store that cannot
 * commit (SMOKEMESH_E_UNAVAILABLE) is answered 503 with Retry-After.
 */
export async function signedScope(app: FastifyInstance, deps: { registry: AgentRegistry; log: Logger }, routes: (api: FastifyInstance) => Promise<void> | void): Promise<void> {
  const { registry, log } = deps;
  await app.register(async (api) => {
    // Raw bytes: the signature covers the body exactly as sent.
    api.removeAllContentTypeParsers();
    api.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: AGENT_BODY_LIMITS.other }, (_req, body, done) => done(null, body));

    const refuse = (req: FastifyRequest, reply: FastifyReply, v: Extract<VerifyResult, { ok: false }>) => {
      const st = v.agent ? registry.get(v.agent) : undefined;
      if (st) st.auth_failures++;
      log.warn({ agent: v.agent, reason: v.reason, ip: req.ip, url: req.url }, `SMOKEMESH_E_AUTH (${v.reason}): ${v.message}`);
      discardBody(req);
      return reply.code(401).send({ code: 'SMOKEMESH_E_AUTH', reason: v.reason, error: v.message });
    };

    api.addHook('onRequest', async (req, reply) => {
      const v = verifyHeaders({
        method: req.method, path: req.url, headers: req.headers,
        secretOf: (name) => registry.secretOf(name),
        useNonce: (name, nonce, ts) => registry.nonces.use(name, nonce, ts),
      });
      if (!v.ok) return refuse(req, reply, v);
      req.smokemeshAgent = v.agent;
      registry.seen(v.agent, req.ip);
      return undefined;
    });

    api.addHook('preHandler', async (req, reply) => {
      const v = verifyBody(req.smokemeshAgent!, req.headers, req.body instanceof Buffer ? req.body : undefined);
      if (!v.ok) return refuse(req, reply, v);
      return undefined;
    });

    api.setErrorHandler((err: Error & { statusCode?: number }, req, reply) => {
      if (err instanceof ApiError) return reply.code(err.status).send(err.body);
      if (isUnavailable(err)) {
        const seconds = Math.max(1, Math.ceil((err instanceof UnavailableError ? err.retryAfterMs : 1000) / 1000));
        return reply.code(503).header('retry-after', String(seconds)).send({ code: 'SMOKEMESH_E_UNAVAILABLE', error: `${err.message}; retry in ${seconds} s` });
      }
      const status = err.statusCode && err.statusCode < 500 ? err.statusCode : 500;
      if (status >= 500) log.error({ err, url: req.url, agent: req.smokemeshAgent }, 'agent request failed');
      const error = status === 413 ? `${err.message} (limits: docs/agents.md, "Body limits")` : err.message;
      return reply.code(status).send({ code: status === 413 ? 'SMOKEMESH_E_PAYLOAD' : status >= 500 ? 'SMOKEMESH_E_INTERNAL' : 'SMOKEMESH_E_PAYLOAD', error });
    });

    await routes(api);
  });
}

/**
 * Bytes of a refused request's body read (and thrown away) before its connection is closed:
 * as much as the largest body a route takes, so that an agent refused mid-upload reads its 401.
 */
const DISCARD_LIMIT = Math.max(AGENT_BODY_LIMITS.rounds, AGENT_BODY_LIMITS.taskResults);

/**
 * A refused request's body is never buffered: Node reads what the client still sends and
 * throws it away (so the client can read the 401 instead of a reset); past DISCARD_LIMIT
 * bytes the connection is closed.
 */
function discardBody(req: FastifyRequest): void {
  const raw = req.raw;
  if (raw.complete) return;
  let seen = 0;
  raw.on('data', (chunk: Buffer) => {
    seen += chunk.length;
    if (seen > DISCARD_LIMIT) raw.socket.destroy();
  });
}

/** The request's JSON body, decompressed (gzip) within `limit` bytes (default AGENT_BODY_LIMITS.json); 400 naming the problem otherwise. */
export function parseBody(req: FastifyRequest, agent: string, limit: number = AGENT_BODY_LIMITS.json): unknown {
  let raw = req.body instanceof Buffer ? req.body : Buffer.alloc(0);
  if (req.headers['content-encoding'] === 'gzip') {
    try {
      raw = gunzipSync(raw, { maxOutputLength: limit });
    } catch (e) {
      throw payloadError(agent, `body is not valid gzip or is larger than ${limit} bytes once decompressed: ${(e as Error).message}`);
    }
  } else if (raw.length > limit) {
    throw payloadError(agent, `body is larger than ${limit} bytes`);
  }
  if (nestsDeeper(raw, MAX_JSON_DEPTH)) throw payloadError(agent, `body nests arrays or objects deeper than ${MAX_JSON_DEPTH} levels`);
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch (e) {
    throw payloadError(agent, `body is not JSON: ${(e as Error).message.slice(0, 200)}`);
  }
}

/** Whether JSON text nests deeper than `limit` (one linear pass over the bytes, strings skipped). */
export function nestsDeeper(buf: Uint8Array, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < buf.length; i++) {
    const c = buf[i]!;
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped byte
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > limit) return true;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return false;
}

/** 400 SMOKEMESH_E_PAYLOAD naming the agent and the problem. */
export function payloadError(agent: string, message: string): ApiError {
  return new ApiError(400, { code: 'SMOKEMESH_E_PAYLOAD', error: `agent "${agent}": ${message}` });
}

/**
 * Route options describing an agent API operation in the OpenAPI document: its answer (a JSON
 * schema, or a non-JSON body: binaryAnswer()), and the agent API's error body for 400, 401,
 * 413, 428 and 503. JSON answers are sent as signed-over bytes (routes.ts send()), so the
 * schemas document them rather than serialise them.
 */
export function agentRouteDoc(summary: string, ok: TSchema | BinaryAnswer, extra: Record<number, TSchema> = {}): { schema: FastifySchema } {
  const err = AgentApiErrorSchema;
  return { schema: { summary, tags: ['agent API'], response: { 200: ok, ...extra, 400: err, 401: err, 413: err, 428: err, 503: err } } };
}
