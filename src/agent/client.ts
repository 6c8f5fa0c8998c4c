import { createHash } from 'node:crypto';
import { createWriteStream, readFileSync, rmSync } from 'node:fs';
import { Transform } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { pipeline } from 'node:stream/promises';
import { gunzipSync, gzipSync } from 'node:zlib';
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { SmokemeshError } from '../errors.ts';
import { signRequest } from '../auth/signing.ts';
import type { AgentApiError } from './protocol.ts';

/** A refused or failed agent request; `status` 0 means the server could not be reached. */
export class AgentRequestError extends Error {
  constructor(readonly status: number, readonly code: string, message: string, readonly reason?: string, readonly retryAfterMs?: number) {
    super(message);
    this.name = 'AgentRequestError';
  }

  /** Whether the server could not commit and asks to retry later (503 SMOKEMESH_E_UNAVAILABLE): the rounds stay in the spool. */
  get isUnavailable(): boolean {
    return this.code === 'SMOKEMESH_E_UNAVAILABLE' || this.status === 503;
  }

  /** Whether the server refused who we are (nothing will change by resending as is). */
  get isAuth(): boolean {
    return this.code === 'SMOKEMESH_E_AUTH';
  }
}

export interface ClientOptions {
  /** One server URL, or several separated by commas (the agent moves to the next when one fails). */
  server: string;
  agent: string;
  secret: string;
  /** PEM file of the CA that signed the server's certificate. */
  caFile?: string;
  /** Told when requests move to another server of the list (for the log). */
  onSwitch?: (from: string, to: string, why: string) => void;
}

export interface Reply<T> {
  status: number;
  etag?: string;
  body?: T;
}

/** Default bound of one request (long-polls pass their own, longPollTimeout): a server silent for longer counts as failed. */
const REQUEST_TIMEOUT_MS = 30_000;
/** A download (a release bundle) may take longer; a socket silent for this long is given up. */
const DOWNLOAD_IDLE_MS = 120_000;

/** How long a long-poll of `waitS` seconds may take before it counts as failed. */
export function longPollTimeout(waitS: number): number {
  return (waitS + 30) * 1000;
}

/**
 * Parses `--server`: one URL or several separated by commas, each http: or https:, no
 * duplicates. Throws SMOKEMESH_E_USAGE naming the bad entry.
 */
export function parseServerList(text: string): URL[] {
  const out: URL[] = [];
  for (const part of text.split(',').map((p) => p.trim())) {
    if (!part) throw new SmokemeshError('SMOKEMESH_E_USAGE', `--server "${text}": an empty entry in the list (expected URL[,URL…])`);
    let url: URL;
    try {
      url = new URL(part);
    } catch {
      throw new SmokemeshError('SMOKEMESH_E_USAGE', `--server "${part}" is not a URL (e.g. https://smokemesh.example:8888)`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new SmokemeshError('SMOKEMESH_E_USAGE', `--server "${part}": only http: and https: are supported`);
    }
    if (out.some((u) => u.href === url.href)) throw new SmokemeshError('SMOKEMESH_E_USAGE', `--server: "${part}" is listed twice`);
    out.push(url);
  }
  return out;
}

/**
 * Whether a failed request should be tried on the next server: it could not be reached or
 * timed out (status 0), or it failed on the server's side (5xx). A 4xx is an answer about the
 * request itself, the same from every server.
 */
export function movesToNextServer(e: unknown): boolean {
  return e instanceof AgentRequestError && (e.status === 0 || e.status >= 500);
}

/** How long a server that failed is not moved to on a server's word (AgentClient.prefer). */
const PREFER_AFTER_FAILURE_MS = 60_000;

/** Whether two server URLs name the same server (origin and path, a trailing slash aside). */
function sameServer(a: URL, b: URL): boolean {
  const path = (u: URL) => u.pathname.replace(/\/+$/, '');
  return a.origin === b.origin && path(a) === path(b);
}

/**
 * Signs, compresses and sends agent API requests; answers are JSON (gzip accepted). Node's own
 * http/https with a keep-alive agent: an idle agent process stays small (the undici package
 * alone adds about 16 MiB of RSS). With several servers, requests go to one of them until it
 * fails (unreachable, timeout, 5xx); the request is then tried on the next ones in turn, and
 * the one that answers is used from then on.
 */
export class AgentClient {
  private readonly bases: URL[];
  private current = 0;
  /** When each server (index in `bases`) last failed a request. */
  private readonly failedAt = new Map<number, number>();
  private readonly http = new HttpAgent({ keepAlive: true });
  private readonly https: HttpsAgent;

  constructor(private readonly opts: ClientOptions) {
    this.bases = parseServerList(opts.server);
    let ca: string | undefined;
    if (opts.caFile) {
      try {
        ca = readFileSync(opts.caFile, 'utf8');
      } catch (e) {
        throw new SmokemeshError('SMOKEMESH_E_USAGE', `--ca ${opts.caFile}: cannot read it: ${(e as Error).message}`);
      }
    }
    this.https = new HttpsAgent({ keepAlive: true, ...(ca ? { ca } : {}) });
  }

  /** The server requests go to now. */
  get server(): string {
    return this.bases[this.current]!.origin;
  }

  /**
   * Sends the next requests to `url` when it is one of this agent's servers (a server of a
   * cluster names the one that evaluates this agent's series). A URL not in the list is
   * ignored (an agent talks only to the servers it was given), and so is a server that failed
   * in the last minute (the others have not yet counted it dead). True when this moved.
   */
  prefer(url: string): boolean {
    let wanted: URL;
    try {
      wanted = new URL(url);
    } catch {
      return false;
    }
    const at = this.bases.findIndex((b) => sameServer(b, wanted));
    if (at < 0 || at === this.current) return false;
    const failed = this.failedAt.get(at);
    if (failed !== undefined && Date.now() - failed < PREFER_AFTER_FAILURE_MS) return false;
    this.current = at;
    return true;
  }

  /**
   * Runs `send` against the current server, then (on a failure that movesToNextServer) against
   * each other server once, in list order; the server that answered becomes the current one.
   * Throws the last failure when none answered.
   */
  private async failover<R>(send: (base: URL) => Promise<R>, signal?: AbortSignal): Promise<R> {
    let last: unknown;
    for (let i = 0; i < this.bases.length; i++) {
      const at = (this.current + i) % this.bases.length;
      try {
        const r = await send(this.bases[at]!);
        if (at !== this.current) {
          const from = this.server;
          this.current = at;
          this.opts.onSwitch?.(from, this.server, (last as Error).message);
        }
        return r;
      } catch (e) {
        if (!movesToNextServer(e) || signal?.aborted) throw e;
        this.failedAt.set(at, Date.now());
        last = e;
      }
    }
    throw last;
  }

  /** One request: resolves with the response (its body unread); rejects when the server cannot be reached or stays silent for `timeoutMs`. */
  private send(method: 'GET' | 'POST', url: URL, headers: Record<string, string>, body: Buffer | undefined, signal: AbortSignal | undefined, timeoutMs: number): Promise<IncomingMessage> {
    return new Promise((resolve, reject) => {
      const https = url.protocol === 'https:';
      const req = (https ? httpsRequest : httpRequest)(url, { method, headers, agent: https ? this.https : this.http, ...(signal ? { signal } : {}) }, (res) => {
        res.setTimeout(timeoutMs, () => res.destroy(Object.assign(new Error(`no data for ${timeoutMs / 1000} s`), { code: 'ETIMEDOUT' })));
        resolve(res);
      });
      req.setTimeout(timeoutMs, () => req.destroy(Object.assign(new Error(`no answer for ${timeoutMs / 1000} s`), { code: 'ETIMEDOUT' })));
      req.on('error', reject);
      req.end(body);
    });
  }

  /** A failure to reach a server as an AgentRequestError (status 0). */
  private unreachable(base: URL, e: unknown): AgentRequestError {
    const err = e as Error & { code?: string; cause?: { code?: string; message?: string } };
    return new AgentRequestError(0, err.code ?? err.cause?.code ?? 'NETWORK', `cannot reach ${base.origin}: ${err.cause?.message ?? err.message}`);
  }

  /**
   * Sends one signed request (to the current server, else the next ones); throws
   * AgentRequestError on refusal or when no server could be reached. A request without an
   * answer for `timeoutMs` (default 30 s; long-polls pass longPollTimeout(wait)) failed.
   */
  async call<T>(method: 'GET' | 'POST', path: string, opts: { json?: unknown; headers?: Record<string, string>; signal?: AbortSignal; timeoutMs?: number } = {}): Promise<Reply<T>> {
    const body = opts.json === undefined ? undefined : gzipSync(JSON.stringify(opts.json), { level: 6 });
    return this.failover((base) => this.callOne<T>(base, method, path, body, opts), opts.signal);
  }

  private async callOne<T>(base: URL, method: 'GET' | 'POST', path: string, body: Buffer | undefined, opts: { headers?: Record<string, string>; signal?: AbortSignal; timeoutMs?: number }): Promise<Reply<T>> {
    const url = new URL(path, base);
    const pathAndQuery = url.pathname + url.search;
    const headers: Record<string, string> = {
      ...opts.headers,
      ...signRequest({ agent: this.opts.agent, secret: this.opts.secret, method, path: pathAndQuery, body }),
      'accept-encoding': 'gzip',
    };
    if (body) {
      headers['content-type'] = 'application/json';
      headers['content-encoding'] = 'gzip';
    }
    let res: IncomingMessage;
    let raw: Buffer;
    try {
      res = await this.send(method, url, headers, body, opts.signal, opts.timeoutMs ?? REQUEST_TIMEOUT_MS);
      raw = await buffer(res);
    } catch (e) {
      throw this.unreachable(base, e);
    }
    const status = res.statusCode ?? 0;
    if (res.headers['content-encoding'] === 'gzip' && raw.length) raw = gunzipSync(raw);
    const etag = typeof res.headers.etag === 'string' ? res.headers.etag : undefined;
    if (status === 304) return { status: 304, etag };
    let parsed: unknown;
    try {
      parsed = raw.length ? JSON.parse(raw.toString('utf8')) : undefined;
    } catch {
      parsed = undefined;
    }
    if (status >= 400) {
      const e = parsed as Partial<AgentApiError> | undefined;
      const retryAfter = Number(res.headers['retry-after']);
      throw new AgentRequestError(status, e?.code ?? `HTTP_${status}`, e?.error ?? raw.toString('utf8').slice(0, 200), e?.reason,
        Number.isFinite(retryAfter) && retryAfter >= 0 ? Math.min(retryAfter, 300) * 1000 : undefined);
    }
    return { status, etag, body: parsed as T };
  }

  /**
   * Downloads a file with a signed GET into `dest` (600), stopping past `maxBytes`; returns its
   * size and SHA-256 for the caller to check against a signed manifest. A partial file is removed.
   */
  async download(path: string, dest: string, maxBytes: number, signal?: AbortSignal): Promise<{ size: number; sha256: string }> {
    return this.failover((base) => this.downloadFrom(base, path, dest, maxBytes, signal), signal);
  }

  private async downloadFrom(base: URL, path: string, dest: string, maxBytes: number, signal?: AbortSignal): Promise<{ size: number; sha256: string }> {
    const url = new URL(path, base);
    const headers = signRequest({ agent: this.opts.agent, secret: this.opts.secret, method: 'GET', path: url.pathname + url.search });
    let res: IncomingMessage;
    try {
      res = await this.send('GET', url, headers, undefined, signal, DOWNLOAD_IDLE_MS);
    } catch (e) {
      throw this.unreachable(base, e);
    }
    if (res.statusCode !== 200) {
      let text: string;
      try {
        text = (await buffer(res)).toString('utf8');
      } catch (e) {
        throw this.unreachable(base, e);
      }
      let e: Partial<AgentApiError> | undefined;
      try {
        e = JSON.parse(text) as Partial<AgentApiError>;
      } catch {
        e = undefined;
      }
      throw new AgentRequestError(res.statusCode ?? 0, e?.code ?? `HTTP_${res.statusCode}`, e?.error ?? text.slice(0, 200), e?.reason);
    }
    const hash = createHash('sha256');
    let size = 0;
    const count = new Transform({
      transform(chunk: Buffer, _enc, done) {
        size += chunk.length;
        if (size > maxBytes) return done(new SmokemeshError('SMOKEMESH_E_RELEASE', `${path}: more than the ${maxBytes} bytes the signed manifest announces`));
        hash.update(chunk);
        done(null, chunk);
      },
    });
    try {
      await pipeline(res, count, createWriteStream(dest, { mode: 0o600 }));
    } catch (e) {
      rmSync(dest, { force: true });
      throw e;
    }
    return { size, sha256: hash.digest('hex') };
  }

  async close(): Promise<void> {
    this.http.destroy();
    this.https.destroy();
  }
}
