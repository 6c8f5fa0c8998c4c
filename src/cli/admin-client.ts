import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Agent, request } from 'undici';
import { loadConfig } from '../config/loader.ts';
import { SmokemeshError, type ErrorCode } from '../errors.ts';

/** The options of CLI commands that talk to a running server's admin API. */
export interface AdminCliOptions {
  server?: string;
  config: string;
  tokenFile?: string;
  ca?: string;
}

/** Declares the server, config, token-file and CA options on a command. */
export function adminOptions<C extends { option(flags: string, description: string, defaultValue?: string): C }>(cmd: C): C {
  return cmd
    .option('-s, --server <url>', 'server URL (default: from the config\'s general.listen, else http://127.0.0.1:8888)')
    .option('--config <file>', 'server config, for the URL and the admin token file', 'smokemesh.yaml')
    .option('--token-file <file>', 'admin token file (default: general.admin_token_file, else <data_dir>/admin.token)')
    .option('--ca <file>', 'PEM of the CA that signed the server\'s certificate');
}

/** The server's URL and admin token, from the options or the server's config. */
export function adminConnection(o: AdminCliOptions): { base: string; token: string } {
  const config = existsSync(o.config) ? loadConfig(o.config) : undefined;
  let base = o.server;
  if (!base) {
    const listen = config?.general.listen ?? '127.0.0.1:8888';
    const host = listen.replace(/:\d+$/, '').replace(/^(0\.0\.0\.0|\[::\]|)$/, '127.0.0.1');
    base = `${config?.general.tls ? 'https' : 'http'}://${host}:${/:(\d+)$/.exec(listen)?.[1] ?? '8888'}`;
  }
  const file = o.tokenFile ?? config?.general.admin_token_file ?? join(resolve(config?.general.data_dir ?? './data'), 'admin.token');
  let token: string;
  try {
    token = readFileSync(file, 'utf8').trim();
  } catch (e) {
    throw new SmokemeshError('SMOKEMESH_E_USAGE', `cannot read the admin token file ${file}: ${(e as Error).message} (give --token-file or --config)`);
  }
  return { base: base.replace(/\/$/, ''), token };
}

export type AdminCall = <T>(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown, headers?: Record<string, string>) => Promise<T>;

/**
 * A caller of the admin API with the token: JSON bodies (or raw bytes for a Buffer), JSON
 * answers; a refusal becomes a SmokemeshError with the server's code and message.
 */
export function adminClient(o: AdminCliOptions): { call: AdminCall; close(): Promise<void> } {
  const { base, token } = adminConnection(o);
  const dispatcher = new Agent({ connect: o.ca ? { ca: readFileSync(o.ca, 'utf8') } : {}, headersTimeout: 120_000, bodyTimeout: 120_000 });
  const call: AdminCall = async <T>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const raw = body instanceof Buffer;
    let res;
    try {
      res = await request(base + path, {
        method: method as 'GET', dispatcher,
        headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': raw ? 'application/octet-stream' : 'application/json' } : {}), ...headers },
        ...(body !== undefined ? { body: raw ? body : JSON.stringify(body) } : {}),
      });
    } catch (e) {
      throw new SmokemeshError('SMOKEMESH_E_USAGE', `cannot reach ${base}: ${(e as Error & { cause?: Error }).cause?.message ?? (e as Error).message}`);
    }
    const text = await res.body.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    if (res.statusCode >= 400) {
      const err = json as { code?: string; error?: string } | undefined;
      const ours = err?.code?.startsWith('SMOKEMESH_E_') ? (err.code as ErrorCode) : undefined;
      throw new SmokemeshError(ours ?? 'SMOKEMESH_E_USAGE', `${ours ? '' : `${err?.code ?? `HTTP ${res.statusCode}`}: `}${err?.error ?? text.slice(0, 300)}`);
    }
    return json as T;
  };
  return { call, close: () => dispatcher.close() };
}
