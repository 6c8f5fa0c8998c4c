import { createHash } from 'node:crypto';
import { createWriteStream, readFileSync, rmSync } from 'node:fs';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { gunzipSync, gzipSync } from 'node:zlib';
import { Agent, request } from 'undici';
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

/** Default bound of one request (long-polls pass their own): a server that hangs counts as failed. */
const REQUEST_TIMEOUT_MS = 30_000;

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

export interface Reply<T> {
  status: number;
  etag?: string;
  body?: T;
}

/**
 * Signs, compresses and sends agent API requests; answers are JSON (gzip accepted). With
 * several servers, requests go to one of them until it fails (unreachable, timeout, 5xx); the
 * request is then tried on the next ones in turn, and the one that answers is used from then on.
 */
export class AgentClient {
  private readonly bases: URL[];
  private current = 0;
  private readonly dispatcher: Agent;

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
    // Long-polls hold a request up to a minute; keep timeouts above that.
    this.dispatcher = new Agent({ connect: ca ? { ca } : {}, headersTimeout: 120_000, bodyTimeout: 120_000, keepAliveTimeout: 30_000 });
  }

  /** The server requests go to now. */
  get server(): string {
    return this.bases[this.current]!.origin;
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
        last = e;
      }
    }
    throw last;
  }

  /**
   * Sends one signed request (to the current server, else the next ones); throws
   * AgentRequestError on refusal or when no server could be reached. A request without an
   * answer after `timeoutMs` (default 30 s; long-polls pass their wait plus a margin) failed.
   */
  async call<T>(method: 'GET' | 'POST', path: string, opts: { json?: unknown; headers?: Record<string, string>; signal?: AbortSignal; timeoutMs?: number } = {}): Promise<Reply<T>> {
    const body = opts.json === undefined ? undefined : gzipSync(JSON.stringify(opts.json), { level: 6 });
    return this.failover((base) => this.send<T>(base, method, path, body, opts), opts.signal);
  }

  private async send<T>(base: URL, method: 'GET' | 'POST', path: string, body: Buffer | undefined, opts: { headers?: Record<string, string>; signal?: AbortSignal; timeoutMs?: number }): Promise<Reply<T>> {
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
    const timeout = opts.timeoutMs ?? REQUEST_TIMEOUT_MS;
    let res;
    let raw: Buffer;
    try {
      res = await request(url, { method, headers, body, dispatcher: this.dispatcher, signal: opts.signal, headersTimeout: timeout, bodyTimeout: timeout });
      raw = Buffer.from(await res.body.arrayBuffer());
    } catch (e) {
      const err = e as Error & { code?: string; cause?: { code?: string; message?: string } };
      const why = err.cause?.message ?? err.message;
      throw new AgentRequestError(0, err.code ?? err.cause?.code ?? 'NETWORK', `cannot reach ${base.origin}: ${why}`);
    }
    if (res.headers['content-encoding'] === 'gzip' && raw.length) raw = gunzipSync(raw);
    const etag = typeof res.headers.etag === 'string' ? res.headers.etag : undefined;
    if (res.statusCode === 304) return { status: 304, etag };
    let parsed: unknown;
    try {
      parsed = raw.length ? JSON.parse(raw.toString('utf8')) : undefined;
    } catch {
      parsed = undefined;
    }
    if (res.statusCode >= 400) {
      const e = parsed as Partial<AgentApiError> | undefined;
      const retryAfter = Number(res.headers['retry-after']);
      throw new AgentRequestError(res.statusCode, e?.code ?? `HTTP_${res.statusCode}`, e?.error ?? raw.toString('utf8').slice(0, 200), e?.reason,
        Number.isFinite(retryAfter) && retryAfter >= 0 ? Math.min(retryAfter, 300) * 1000 : undefined);
    }
    return { status: res.statusCode, etag, body: parsed as T };
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
    let res;
    try {
      res = await request(url, { method: 'GET', headers, dispatcher: this.dispatcher, signal });
    } catch (e) {
      const err = e as Error & { code?: string; cause?: { message?: string } };
      throw new AgentRequestError(0, err.code ?? 'NETWORK', `cannot reach ${base.origin}: ${err.cause?.message ?? err.message}`);
    }
    if (res.statusCode !== 200) {
      const text = Buffer.from(await res.body.arrayBuffer()).toString('utf8');
      let e: Partial<AgentApiError> | undefined;
      try {
        e = JSON.parse(text) as Partial<AgentApiError>;
      } catch {
        e = undefined;
      }
      throw new AgentRequestError(res.statusCode, e?.code ?? `HTTP_${res.statusCode}`, e?.error ?? text.slice(0, 200), e?.reason);
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
      await pipeline(res.body, count, createWriteStream(dest, { mode: 0o600 }));
    } catch (e) {
      rmSync(dest, { force: true });
      throw e;
    }
    return { size, sha256: hash.digest('hex') };
  }

  async close(): Promise<void> {
    await this.dispatcher.close();
  }
}
