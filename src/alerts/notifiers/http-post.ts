/**
 * What the chat and cloud channels share: one JSON POST with a timeout and clear errors, the
 * `x` / `x_file` secret convention, and config validation that names the notifier and field.
 */
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { STATUS_CODES } from 'node:http';
import Type, { type TObject, type TProperties, type TSchema } from 'typebox';
import type { Dispatcher } from 'undici';
import { lazyModule } from '../../lazy-module.ts';
import { SmokemeshError } from '../../errors.ts';
import { validate } from '../../config/validate.ts';

/**
 * HTTP options every HTTP channel accepts. The time limit per attempt is the dispatcher's
 * (`timeout_ms` of the notifier block, seen here as the abort signal).
 */
export const HttpOptions = {
  proxy_url: Type.Optional(Type.String({ pattern: '^https?://', description: 'HTTP(S) proxy, e.g. http://proxy.corp:3128' })),
  ca_file: Type.Optional(Type.String({ minLength: 1, description: 'PEM file of extra CAs trusted for https URLs' })),
};

/** The object schema of one channel's settings (the registry strips `type` and delivery keys). */
export function channelSchema<P extends TProperties>(properties: P): TObject<P> {
  return Type.Object(properties, { additionalProperties: false });
}

/** Schema of a secret written inline, e.g. `secret: …` (its sibling `secret_file` is a path). */
export function secretField(description: string) {
  return Type.Optional(Type.String({ minLength: 1, description }));
}

/** A SMOKEMESH_E_CONFIG error about one field of a notifier; the config check locates it by `notifier` and `field`. */
export class NotifierConfigError extends SmokemeshError {
  constructor(readonly notifier: string, readonly field: string, readonly reason: string) {
    super('SMOKEMESH_E_CONFIG', `notifiers.${notifier}${field ? '.' + field : ''}: ${reason}`);
  }
}

/** A SMOKEMESH_E_CONFIG error naming `notifiers.<name>.<field>`, to throw. */
export function configError(name: string, field: string, message: string): SmokemeshError {
  return new NotifierConfigError(name, field, message);
}

/**
 * Validates (and fills defaults into) a copy of `config`; throws one SMOKEMESH_E_CONFIG
 * error listing every problem as `notifiers.<name>.<field>: message`.
 */
export function parseConfig<T>(schema: TSchema, kind: string, name: string, config: unknown): T {
  if (typeof config !== 'object' || config === null || Array.isArray(config)) {
    throw configError(name, '', `a ${kind} notifier needs a mapping of settings`);
  }
  const copy = structuredClone(config) as Record<string, unknown>;
  const issues = validate(schema, copy);
  if (issues.length > 0) {
    throw new SmokemeshError('SMOKEMESH_E_CONFIG', issues
      .map((i) => `notifiers.${name}${i.path.length ? '.' + i.path.join('.') : ''}: ${i.message}`).join('\n'));
  }
  return copy as T;
}

/** A secret read when needed, so that a rotated file is picked up without a restart. */
export type Secret = () => Promise<string>;

/**
 * Resolves the pair `<field>` / `<field>_file` of `config`: exactly one may be set (both
 * missing is allowed unless `required`). A file is checked now and read on every use;
 * its trailing newline is dropped.
 */
export function secret(name: string, config: Record<string, unknown>, field: string, required: true): Secret;
export function secret(name: string, config: Record<string, unknown>, field: string, required?: boolean): Secret | undefined;
export function secret(name: string, config: Record<string, unknown>, field: string, required = false): Secret | undefined {
  const inline = config[field] as string | undefined;
  const file = config[`${field}_file`] as string | undefined;
  if (inline !== undefined && file !== undefined) throw configError(name, field, `set ${field} or ${field}_file, not both`);
  if (inline !== undefined) return async () => inline;
  if (file === undefined) {
    if (required) throw configError(name, field, `missing required field "${field}" (or "${field}_file")`);
    return undefined;
  }
  const read = (text: string) => {
    const value = text.replace(/\r?\n$/, '');
    if (value === '') throw configError(name, `${field}_file`, `${file} is empty`);
    return value;
  };
  try {
    read(readFileSync(file, 'utf8'));
  } catch (e) {
    if (e instanceof SmokemeshError) throw e;
    throw configError(name, `${field}_file`, `cannot read ${file}: ${(e as Error).message}`);
  }
  return async () => {
    try {
      return read(await readFile(file, 'utf8'));
    } catch (e) {
      if (e instanceof SmokemeshError) throw new SmokemeshError('SMOKEMESH_E_NOTIFY', e.message);
      throw new SmokemeshError('SMOKEMESH_E_NOTIFY', `notifiers.${name}: cannot read ${field}_file ${file}: ${(e as Error).message}`);
    }
  };
}

/** Checks that `value` is an absolute http(s) URL; returns it parsed. */
export function httpUrl(name: string, field: string, value: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw configError(name, field, `"${redact(value)}" is not a URL (expected http://… or https://…)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw configError(name, field, `must be an http:// or https:// URL, not ${url.protocol}`);
  }
  return url;
}

/**
 * A required URL that is itself a secret (Slack, DingTalk, WeCom webhooks carry their token):
 * `<field>` or `<field>_file`, checked to be an http(s) URL now and on every read.
 */
export function secretUrl(name: string, config: Record<string, unknown>, field: string): () => Promise<URL> {
  const get = secret(name, config, field, true);
  const inline = config[field] as string | undefined;
  const file = config[`${field}_file`] as string | undefined;
  if (inline !== undefined) httpUrl(name, field, inline);
  else httpUrl(name, `${field}_file`, readFileSync(file!, 'utf8').trim());
  return async () => {
    const value = (await get()).trim();
    try {
      return httpUrl(name, inline !== undefined ? field : `${field}_file`, value);
    } catch (e) {
      throw new SmokemeshError('SMOKEMESH_E_NOTIFY', (e as Error).message);
    }
  };
}

/** undici, loaded at the first request (servers without an HTTP notifier or action never load it). */
export const undici = lazyModule(() => import('undici'));

/** A channel's connection pool, made at its first request. */
export type LazyDispatcher = () => Promise<Dispatcher>;

/**
 * The connection pool for a channel's proxy / CA options (undefined: undici's default). The CA
 * file is read now (a bad one is a config error); the pool is made at the first request.
 */
export function dispatcherFor(name: string, opts: { proxy_url?: string; ca_file?: string }): LazyDispatcher | undefined {
  let ca: string | undefined;
  if (opts.ca_file !== undefined) {
    try {
      ca = readFileSync(opts.ca_file, 'utf8');
    } catch (e) {
      throw configError(name, 'ca_file', `cannot read ${opts.ca_file}: ${(e as Error).message}`);
    }
  }
  const proxy = opts.proxy_url;
  if (proxy === undefined && !ca) return undefined;
  let made: Dispatcher | undefined;
  return async () => {
    const u = await undici();
    made ??= proxy !== undefined ? new u.ProxyAgent({ uri: proxy, ...(ca ? { requestTls: { ca } } : {}) }) : new u.Agent({ connect: { ca } });
    return made;
  };
}

export interface PostRequest {
  /** Names the channel in errors, e.g. `slack notifier "ops"`. */
  channel: string;
  url: string | URL;
  /** Serialised as JSON. */
  body: unknown;
  headers?: Record<string, string>;
  /** Aborts the request: the dispatcher's per-attempt timeout, or shutdown. */
  signal: AbortSignal;
  /** Own limit, a safety net for callers whose signal never fires; default 60 s. */
  timeoutMs?: number;
  dispatcher?: LazyDispatcher;
}

export interface PostResponse {
  status: number;
  text: string;
  /** The body parsed as JSON, when it is JSON. */
  json: unknown;
}

/**
 * POSTs `body` as JSON and resolves with a 2xx response; anything else (non-2xx, timeout,
 * cancel, network error) throws a SMOKEMESH_E_NOTIFY error naming the channel, the endpoint
 * (secrets in its path and query removed) and the HTTP status with its standard reason; the
 * response body goes only to the error's `detail` (see httpFailure).
 */
export async function postJson(req: PostRequest): Promise<PostResponse> {
  const where = endpoint(req.url);
  const timeoutMs = req.timeoutMs ?? 60_000;
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = AbortSignal.any([req.signal, timeout]);
  let status: number;
  let text: string;
  try {
    const { fetch } = await undici();
    const dispatcher = await req.dispatcher?.();
    const res = await fetch(req.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8', 'user-agent': 'smokemesh', ...req.headers },
      body: JSON.stringify(req.body),
      signal,
      redirect: 'error',
      ...(dispatcher ? { dispatcher } : {}),
    });
    status = res.status;
    text = await res.text();
  } catch (e) {
    if (timeout.aborted && !req.signal.aborted) {
      throw new SmokemeshError('SMOKEMESH_E_NOTIFY', `${req.channel}: no answer from ${where} within ${timeoutMs} ms`, { cause: e });
    }
    if (req.signal.aborted) {
      const timedOut = (req.signal.reason as { name?: string } | undefined)?.name === 'TimeoutError';
      throw new SmokemeshError('SMOKEMESH_E_NOTIFY', timedOut
        ? `${req.channel}: no answer from ${where} within the delivery timeout`
        : `${req.channel}: cancelled while sending to ${where}`, { cause: e });
    }
    throw new SmokemeshError('SMOKEMESH_E_NOTIFY', `${req.channel}: cannot reach ${where}: ${describeFetchError(e)}`, { cause: e });
  }
  if (status < 200 || status > 299) throw httpFailure(req.channel, status, where, text);
  let json: unknown;
  try {
    json = text === '' ? undefined : JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status, text, json };
}

/**
 * The error of a non-2xx answer. Delivery errors are stored and shown by the open read API,
 * and a remote's body may hold anything (tokens echoed back, internal URLs), so the message
 * says only status, standard reason and endpoint; the body is the `detail` (debug log).
 */
export function httpFailure(channel: string, status: number, where: string, body: string): SmokemeshError {
  const reason = STATUS_CODES[status];
  return new SmokemeshError('SMOKEMESH_E_NOTIFY', `${channel}: HTTP ${status}${reason ? ` ${reason}` : ''} from ${where}`, { detail: excerpt(body) });
}

/**
 * Builds the error for a vendor that reports failure inside an HTTP 200 body: the message
 * keeps the vendor's error code (a short token: see each vendor's code list), the vendor's
 * own words go to `detail`.
 */
export function vendorError(channel: string, code: unknown, message: unknown, text: string): SmokemeshError {
  return new SmokemeshError('SMOKEMESH_E_NOTIFY', `${channel}: rejected with code ${shortToken(code)}`,
    { detail: `${message !== undefined ? `${String(message)}: ` : ''}${excerpt(text)}` });
}

/** A vendor's error code as a short, plain token (it is remote data too). */
function shortToken(code: unknown): string {
  const s = String(code).replace(/[^\w.-]/g, '_');
  return s.length > 32 ? `${s.slice(0, 32)}…` : s || 'missing';
}

/** The first 300 characters of a response body, on one line. */
export function excerpt(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  if (flat === '') return '(empty body)';
  return flat.length > 300 ? flat.slice(0, 300) + '…' : flat;
}

/** scheme://host[:port] of a URL: paths and queries of webhooks carry tokens, so never show them. */
function endpoint(url: string | URL): string {
  try {
    return new URL(url).origin;
  } catch {
    return '(invalid URL)';
  }
}

/** A URL with everything after the host hidden, for config errors. */
function redact(value: string): string {
  const m = /^([a-z][a-z0-9+.-]*:\/\/[^/?#]*)/i.exec(value);
  return m ? `${m[1]}/…` : value.length > 12 ? value.slice(0, 12) + '…' : value;
}

/** The most telling words of a fetch failure: the socket error code (ECONNREFUSED …) when there is one. */
export function describeFetchError(e: unknown): string {
  const cause = (e as { cause?: { code?: string; message?: string } }).cause;
  if (cause?.code) return `${cause.code}${cause.message ? ' ' + cause.message : ''}`;
  return (e as Error).message ?? String(e);
}
