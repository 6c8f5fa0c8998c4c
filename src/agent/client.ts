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
  server: string;
  agent: string;
  secret: string;
  /** PEM file of the CA that signed the server's certificate. */
  caFile?: string;
}

export interface Reply<T> {
  status: number;
  etag?: string;
  body?: T;
}

/** Long-polls hold a request up to a minute: a socket silent for longer than this is given up. */
const IDLE_TIMEOUT_MS = 120_000;

/**
 * Signs, compresses and sends agent API requests; answers are JSON (gzip accepted). Node's own
 * http/https with a keep-alive agent: an idle agent process stays small (the undici package
 * alone adds about 16 MiB of RSS).
 */
export class AgentClient {
  private readonly base: URL;
  private readonly dispatcher: HttpAgent;

  constructor(private readonly opts: ClientOptions) {
    try {
      this.base = new URL(opts.server);
    } catch {
      throw new SmokemeshError('SMOKEMESH_E_USAGE', `--server "${opts.server}" is not a URL (e.g. https://smokemesh.example:8888)`);
    }
    if (this.base.protocol !== 'http:' && this.base.protocol !== 'https:') {
      throw new SmokemeshError('SMOKEMESH_E_USAGE', `--server "${opts.server}": only http: and https: are supported`);
    }
    let ca: string | undefined;
    if (opts.caFile) {
      try {
        ca = readFileSync(opts.caFile, 'utf8');
      } catch (e) {
        throw new SmokemeshError('SMOKEMESH_E_USAGE', `--ca ${opts.caFile}: cannot read it: ${(e as Error).message}`);
      }
    }
    this.dispatcher = this.base.protocol === 'https:' ? new HttpsAgent({ keepAlive: true, ...(ca ? { ca } : {}) }) : new HttpAgent({ keepAlive: true });
  }

  /** One request: resolves with the response (its body unread); rejects when the server cannot be reached. */
  private send(method: 'GET' | 'POST', url: URL, headers: Record<string, string>, body?: Buffer, signal?: AbortSignal): Promise<IncomingMessage> {
    return new Promise((resolve, reject) => {
      const req = (url.protocol === 'https:' ? httpsRequest : httpRequest)(url, { method, headers, agent: this.dispatcher, ...(signal ? { signal } : {}) }, (res) => {
        res.setTimeout(IDLE_TIMEOUT_MS, () => res.destroy(Object.assign(new Error(`no data for ${IDLE_TIMEOUT_MS / 1000} s`), { code: 'ETIMEDOUT' })));
        resolve(res);
      });
      req.setTimeout(IDLE_TIMEOUT_MS, () => req.destroy(Object.assign(new Error(`no answer for ${IDLE_TIMEOUT_MS / 1000} s`), { code: 'ETIMEDOUT' })));
      req.on('error', reject);
      req.end(body);
    });
  }

  /** A failure to reach the server as an AgentRequestError (status 0). */
  private unreachable(e: unknown): AgentRequestError {
    const err = e as Error & { code?: string; cause?: { code?: string; message?: string } };
    return new AgentRequestError(0, err.code ?? err.cause?.code ?? 'NETWORK', `cannot reach ${this.base.origin}: ${err.cause?.message ?? err.message}`);
  }

  /** Sends one signed request; throws AgentRequestError on refusal or network failure. */
  async call<T>(method: 'GET' | 'POST', path: string, opts: { json?: unknown; headers?: Record<string, string>; signal?: AbortSignal } = {}): Promise<Reply<T>> {
    const url = new URL(path, this.base);
    const pathAndQuery = url.pathname + url.search;
    const body = opts.json === undefined ? undefined : gzipSync(JSON.stringify(opts.json), { level: 6 });
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
      res = await this.send(method, url, headers, body, opts.signal);
      raw = await buffer(res);
    } catch (e) {
      throw this.unreachable(e);
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
    const url = new URL(path, this.base);
    const headers = signRequest({ agent: this.opts.agent, secret: this.opts.secret, method: 'GET', path: url.pathname + url.search });
    let res: IncomingMessage;
    try {
      res = await this.send('GET', url, headers, undefined, signal);
    } catch (e) {
      throw this.unreachable(e);
    }
    if (res.statusCode !== 200) {
      let text: string;
      try {
        text = (await buffer(res)).toString('utf8');
      } catch (e) {
        throw this.unreachable(e);
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
    this.dispatcher.destroy();
  }
}
