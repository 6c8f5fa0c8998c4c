/**
 * `webhook`: POSTs the AlertEvent (the versioned JSON envelope, `version: 1`) to a URL, with
 * custom headers, an optional HMAC-SHA256 signature of the exact body, and optionally a body
 * template instead of the envelope (`{{alert.name}}`-style fields, `{{json}}` = the envelope).
 * Any 2xx answer is success; anything else is a failure the dispatcher retries.
 */
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import Type, { type Static } from 'typebox';
import { SmokemeshError } from '../../errors.ts';
import type { AlertEvent, Notifier, NotifierKind } from './notifier.ts';
import { describeFetchError, httpFailure } from './http-post.ts';

export const WebhookConfigSchema = Type.Object({
  url: Type.String({ pattern: '^https?://', description: 'http(s) URL receiving the event' }),
  method: Type.Enum(['POST', 'PUT'], { default: 'POST' }),
  headers: Type.Record(Type.String({ minLength: 1 }), Type.String(), { default: {} }),
  secret: Type.Optional(Type.String({ minLength: 1, description: 'HMAC-SHA256 key for the signature header' })),
  secret_file: Type.Optional(Type.String({ minLength: 1 })),
  signature_header: Type.String({ default: 'X-Smokemesh-Signature', description: 'carries sha256=<hex of HMAC over the body>' }),
  body_template: Type.Optional(Type.String({ description: 'body instead of the JSON envelope; {{field.path}} and {{json}} are filled in' })),
  content_type: Type.String({ default: 'application/json' }),
}, { additionalProperties: false });
export type WebhookConfig = Static<typeof WebhookConfigSchema>;

/** Fills `{{a.b}}` with the event's field (arrays joined by ", "), `{{json}}` with the envelope. */
export function renderBody(template: string, e: AlertEvent): string {
  return template.replace(/\{\{\s*([\w.]+)\s*\}\}/g, (_all, path: string) => {
    if (path === 'json') return JSON.stringify(e);
    let v: unknown = e;
    for (const k of path.split('.')) v = v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined;
    if (v === undefined || v === null) return '';
    return Array.isArray(v) ? v.join(', ') : typeof v === 'object' ? JSON.stringify(v) : String(v);
  });
}

/** `sha256=<hex>` of the body under the secret. */
export function signBody(secret: string, body: string): string {
  return 'sha256=' + createHmac('sha256', secret).update(body).digest('hex');
}

export const webhookKind: NotifierKind<WebhookConfig> = {
  kind: 'webhook',
  configSchema: WebhookConfigSchema,
  create(name, c): Notifier {
    const secret = c.secret_file ? readFileSync(c.secret_file, 'utf8').trim() : c.secret;
    return {
      name,
      kind: 'webhook',
      async send(event, signal) {
        const body = c.body_template !== undefined ? renderBody(c.body_template, event) : JSON.stringify(event);
        const headers: Record<string, string> = {
          'content-type': c.content_type,
          'user-agent': 'smokemesh',
          'x-smokemesh-event': event.id,
          ...c.headers,
        };
        if (secret) headers[c.signature_header] = signBody(secret, body);
        let res: Response;
        try {
          res = await fetch(c.url, { method: c.method, headers, body, signal, redirect: 'manual' });
        } catch (err) {
          throw new SmokemeshError('SMOKEMESH_E_NOTIFY', `webhook "${name}": cannot reach ${new URL(c.url).host}: ${describeFetchError(err)}`, { cause: err });
        }
        const text = await res.text().catch(() => '');
        if (res.status < 200 || res.status > 299) throw httpFailure(`webhook "${name}"`, res.status, new URL(c.url).origin, text);
      },
    };
  },
};
