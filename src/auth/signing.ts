import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Request signing between agents and the server: HMAC-SHA256 with the agent's own secret over
 * the method, the path with its query, the timestamp, a nonce and the SHA-256 of the body bytes
 * exactly as sent (gzip included). Shared by both sides so they can never disagree on the format.
 */

export const HEADER = {
  agent: 'x-smokemesh-agent',
  timestamp: 'x-smokemesh-timestamp',
  nonce: 'x-smokemesh-nonce',
  digest: 'x-smokemesh-content-sha256',
  signature: 'x-smokemesh-signature',
} as const;

/** How far a request's timestamp may be from the server's clock, either way. */
export const MAX_SKEW_MS = 5 * 60_000;

/** Why a request was refused; each has one message on both sides. */
export type AuthReason =
  | 'missing_header'
  | 'unknown_agent'
  | 'bad_digest'
  | 'bad_signature'
  | 'stale_timestamp'
  | 'replayed_nonce';

export interface SignInput {
  agent: string;
  secret: string;
  method: string;
  /** Path with query string, exactly as it appears in the request line. */
  path: string;
  body?: Uint8Array;
  /** ms since the epoch; default now. */
  now?: number;
  /** Default: 16 random bytes, base64url. */
  nonce?: string;
}

/** The string both sides sign; one line per part so no part can bleed into the next. */
export function canonical(method: string, path: string, timestamp: string, nonce: string, digest: string): string {
  return ['SMOKEMESH-HMAC-SHA256', method.toUpperCase(), path, timestamp, nonce, digest].join('\n');
}

export function bodyDigest(body: Uint8Array | undefined): string {
  return createHash('sha256').update(body ?? new Uint8Array(0)).digest('hex');
}

function hmac(secret: string, text: string): string {
  return createHmac('sha256', secret).update(text).digest('hex');
}

/** Returns the headers that authenticate one request. */
export function signRequest(i: SignInput): Record<string, string> {
  const timestamp = String(i.now ?? Date.now());
  const nonce = i.nonce ?? randomBytes(16).toString('base64url');
  const digest = bodyDigest(i.body);
  return {
    [HEADER.agent]: i.agent,
    [HEADER.timestamp]: timestamp,
    [HEADER.nonce]: nonce,
    [HEADER.digest]: digest,
    [HEADER.signature]: hmac(i.secret, canonical(i.method, i.path, timestamp, nonce, digest)),
  };
}

export interface VerifyHeadersInput {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  /** The agent's secret, or undefined when the agent is not configured. */
  secretOf: (agent: string) => string | undefined;
  /** Records a nonce; false when it was seen within the window (a replay). */
  useNonce: (agent: string, nonce: string, timestamp: number) => boolean;
  now?: number;
}

export interface VerifyInput extends VerifyHeadersInput {
  body?: Uint8Array;
}

export type VerifyResult =
  | { ok: true; agent: string }
  | { ok: false; agent?: string; reason: AuthReason; message: string };

function header(headers: VerifyHeadersInput['headers'], name: string): string | undefined {
  const x = headers[name];
  return Array.isArray(x) ? x[0] : x;
}

/**
 * Checks a request from its headers alone, before any body byte is read: the agent is known,
 * the signature (which covers the declared body digest) matches its secret, the timestamp is
 * fresh, and the nonce is new. The nonce is recorded only once the signature is good (a forger
 * cannot burn a real agent's nonces) and then at once, before the body: a valid header set is
 * good for one request, so a replay of it is refused here, whatever body it carries, and no
 * number of replays can make the server read a body. The body is checked by `verifyBody`.
 */
export function verifyHeaders(v: VerifyHeadersInput): VerifyResult {
  const agent = header(v.headers, HEADER.agent);
  const timestamp = header(v.headers, HEADER.timestamp);
  const nonce = header(v.headers, HEADER.nonce);
  const digest = header(v.headers, HEADER.digest);
  const signature = header(v.headers, HEADER.signature);
  const missing = Object.entries({ [HEADER.agent]: agent, [HEADER.timestamp]: timestamp, [HEADER.nonce]: nonce, [HEADER.digest]: digest, [HEADER.signature]: signature })
    .filter(([, val]) => !val).map(([k]) => k);
  if (missing.length) {
    return { ok: false, agent, reason: 'missing_header', message: `request is not signed: missing header${missing.length > 1 ? 's' : ''} ${missing.join(', ')}` };
  }
  const secret = v.secretOf(agent!);
  if (secret === undefined) {
    return { ok: false, agent, reason: 'unknown_agent', message: `agent "${agent}" is not configured on this server (add it under agents: with a secret_file)` };
  }
  const expected = Buffer.from(hmac(secret, canonical(v.method, v.path, timestamp!, nonce!, digest!)), 'hex');
  const given = Buffer.from(/^[0-9a-f]{64}$/i.test(signature!) ? signature! : '', 'hex');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return { ok: false, agent, reason: 'bad_signature', message: `agent "${agent}": bad signature (the agent's secret file does not match the server's secret_file for it)` };
  }
  const ts = Number(timestamp);
  const now = v.now ?? Date.now();
  if (!Number.isFinite(ts) || Math.abs(now - ts) > MAX_SKEW_MS) {
    const off = Number.isFinite(ts) ? `${Math.round((ts - now) / 1000)} s` : `"${timestamp}" is not a number`;
    return { ok: false, agent, reason: 'stale_timestamp', message: `agent "${agent}": request timestamp is off by ${off} (more than ${MAX_SKEW_MS / 60_000} min allowed; check the agent's clock, e.g. NTP)` };
  }
  if (!v.useNonce(agent!, nonce!, ts)) {
    return { ok: false, agent, reason: 'replayed_nonce', message: `agent "${agent}": nonce ${nonce} was already used (replayed request)` };
  }
  return { ok: true, agent: agent! };
}

/** Checks the body bytes (as sent, gzip included; none = empty) against the signed digest header. */
export function verifyBody(agent: string, headers: VerifyHeadersInput['headers'], body: Uint8Array | undefined): VerifyResult {
  if (bodyDigest(body) !== header(headers, HEADER.digest)?.toLowerCase()) {
    return { ok: false, agent, reason: 'bad_digest', message: `agent "${agent}": the body does not match its ${HEADER.digest} header (altered in transit?)` };
  }
  return { ok: true, agent };
}

/** Checks a whole request: its headers (consuming the nonce), then its body. */
export function verifyRequest(v: VerifyInput): VerifyResult {
  const h = verifyHeaders(v);
  return h.ok ? verifyBody(h.agent, v.headers, v.body) : h;
}
