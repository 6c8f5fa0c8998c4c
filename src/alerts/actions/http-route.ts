/**
 * The `http_route` action: route failover on a router with an HTTP API. The route's current
 * next hop is read (GET `url`, a JSON object whose `field` holds it); when the alert raises
 * it is written as `backup`, when it clears as `primary` (PUT or POST of `{field: value}`),
 * only from the other known value (route-switch.ts) and, when the GET carried an ETag, with
 * If-Match, so a change made in between is answered 412 and read again rather than undone.
 */
import Type, { type Static } from 'typebox';
import { SmokemeshError } from '../../errors.ts';
import { channelSchema, configError, describeFetchError, dispatcherFor, undici, httpFailure, HttpOptions, httpUrl, parseConfig, secret, secretField } from '../notifiers/http-post.ts';
import type { AlertEvent, Notifier, NotifierKind } from '../notifiers/notifier.ts';
import { routeStep, wantedFor } from './route-switch.ts';

/** Most bytes of the router's answer read (it is remote data). */
const MAX_ANSWER = 65_536;

export const HttpRouteConfigSchema = channelSchema({
  url: Type.String({ pattern: '^https?://', description: 'the route\'s resource: GET answers its JSON, PUT/POST changes it' }),
  method: Type.Enum(['PUT', 'POST', 'PATCH'], { default: 'PUT' }),
  field: Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_-]*(\\.[A-Za-z_][A-Za-z0-9_-]*)*$', default: 'next_hop', description: 'the key holding the next hop (dots for nested keys); the write sends it alone' }),
  primary: Type.String({ minLength: 1, maxLength: 256, description: 'next hop while the link is fine' }),
  backup: Type.String({ minLength: 1, maxLength: 256, description: 'next hop while the alert is raised' }),
  token: secretField('sent as Authorization: Bearer <token>'),
  token_file: Type.Optional(Type.String({ minLength: 1 })),
  dry_run: Type.Boolean({ default: false, description: 'read and decide, never write' }),
  restore: Type.Boolean({ default: true, description: 'on clear, point the route back at primary' }),
  ...HttpOptions,
});
export type HttpRouteConfig = Static<typeof HttpRouteConfigSchema>;

/** The value at a dotted key of a JSON value (undefined when absent or not a string). */
function at(json: unknown, field: string): string | undefined {
  let v: unknown = json;
  for (const k of field.split('.')) v = v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>)[k] : undefined;
  return typeof v === 'string' ? v : undefined;
}

/** `{a: {b: value}}` for the field `a.b`. */
function nest(field: string, value: string): Record<string, unknown> {
  return field.split('.').reduceRight<unknown>((inner, k) => ({ [k]: inner }), value) as Record<string, unknown>;
}

export const httpRouteKind: NotifierKind = {
  kind: 'http_route',
  configSchema: HttpRouteConfigSchema,
  create(name, raw): Notifier {
    const c = parseConfig<HttpRouteConfig>(HttpRouteConfigSchema, 'http_route', name, raw);
    if (c.primary === c.backup) throw configError(name, 'backup', 'must differ from primary');
    const url = httpUrl(name, 'url', c.url);
    const token = secret(name, c as Record<string, unknown>, 'token');
    const dispatcher = dispatcherFor(name, c);
    const channel = `http_route action "${name}"`;
    const where = url.origin;

    const call = async (method: string, signal: AbortSignal, body?: unknown, etag?: string) => {
      const headers: Record<string, string> = { accept: 'application/json', 'user-agent': 'smokemesh' };
      if (token) headers.authorization = `Bearer ${await token()}`;
      if (body !== undefined) headers['content-type'] = 'application/json';
      if (etag) headers['if-match'] = etag;
      try {
        const { fetch } = await undici();
        const pool = await dispatcher?.();
        const res = await fetch(url, { method, headers, signal, redirect: 'error', ...(body !== undefined ? { body: JSON.stringify(body) } : {}), ...(pool ? { dispatcher: pool } : {}) });
        const text = (await res.text()).slice(0, MAX_ANSWER);
        return { status: res.status, text, etag: res.headers.get('etag') ?? undefined };
      } catch (e) {
        if (signal.aborted) throw new SmokemeshError('SMOKEMESH_E_NOTIFY', `${channel}: no answer from ${where} within the delivery timeout`, { cause: e });
        throw new SmokemeshError('SMOKEMESH_E_NOTIFY', `${channel}: cannot reach ${where}: ${describeFetchError(e)}`, { cause: e });
      }
    };

    return {
      name,
      kind: 'http_route',
      async send(event: AlertEvent, signal: AbortSignal) {
        const want = wantedFor(event.state);
        if (want === 'primary' && !c.restore) return `restore is off: left at ${c.backup}`;
        const [to, other] = want === 'backup' ? [c.backup, c.primary] : [c.primary, c.backup];
        for (let tries = 0; ; tries++) {
          const got = await call('GET', signal);
          if (got.status < 200 || got.status > 299) throw httpFailure(`${channel}: GET`, got.status, where, got.text);
          let json: unknown;
          try {
            json = JSON.parse(got.text);
          } catch {
            throw new SmokemeshError('SMOKEMESH_E_NOTIFY', `${channel}: GET ${where}: the answer is not JSON`);
          }
          const current = at(json, c.field);
          if (current === undefined) throw new SmokemeshError('SMOKEMESH_E_NOTIFY', `${channel}: GET ${where}: no string at "${c.field}" in the answer`);
          const step = routeStep({ target: current }, to, other);
          if (step.act === 'none') return `${want} ${to}: ${step.why}`;
          if (step.act === 'refuse') throw new SmokemeshError('SMOKEMESH_E_NOTIFY', `${channel}: ${step.why}`);
          if (c.dry_run) return `dry run: ${current} → ${to} would be written (${c.method} ${where})`;
          const put = await call(c.method, signal, nest(c.field, to), got.etag);
          // 412: changed since our read (If-Match); read again and decide again, once.
          if (put.status === 412 && tries === 0) continue;
          if (put.status < 200 || put.status > 299) throw httpFailure(`${channel}: ${c.method}`, put.status, where, put.text);
          return `${current} → ${to} (${c.method} ${where}: HTTP ${put.status}${put.etag ? `, etag ${put.etag.slice(0, 64)}` : ''})`;
        }
      },
    };
  },
};
