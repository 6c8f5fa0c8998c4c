import Type, { type Static } from 'typebox';
import { validate } from '../config/validate.ts';
import { httpAttempt } from '../probes/http-attempt.ts';
import { attemptConfig, parseTargetUrl } from '../probes/http.ts';
import { HttpParamsSchema, type HttpParams } from '../probes/params.ts';
import type { HttpTaskOutput } from './outputs.ts';
import { familyChoice } from './tcp.ts';
import { IpVersionParam, type TaskKind } from './task.ts';

export const HttpTaskParamsSchema = Type.Object({
  url: Type.String({ minLength: 1, maxLength: 2048, pattern: '^https?://', description: 'http:// or https:// URL (its host is what the task policy judges)' }),
  method: Type.Enum(['GET', 'HEAD'], { default: 'GET' }),
  timeout_ms: Type.Integer({ minimum: 100, maximum: 60000, default: 10000 }),
  insecure_skip_verify: Type.Boolean({ default: false, description: 'accept any TLS certificate' }),
  ip_version: IpVersionParam,
}, { additionalProperties: false });
export type HttpTaskParams = Static<typeof HttpTaskParamsSchema>;


/** Largest response body read (bytes): a task measures, it does not download. */
const BODY_LIMIT = 1024 * 1024;

/**
 * The http probe's attempt settings for one task request. Redirects are not followed: the
 * policy judged this URL's host, not wherever a Location header points.
 */
function probeParams(p: HttpTaskParams): HttpParams {
  const params = {
    pings: 1, timeout: p.timeout_ms, step: 60, offset: 'random', method: p.method, follow_redirects: false,
    valid_status_codes: Array.from({ length: 500 }, (_, i) => 100 + i), body_size_limit: BODY_LIMIT,
    tls_config: { insecure_skip_verify: p.insecure_skip_verify }, ...familyChoice(p.ip_version),
  };
  validate(HttpParamsSchema, params); // fills the remaining defaults
  return params as HttpParams;
}

/** One HTTP(S) request on a fresh connection with blackbox_exporter's phases. */
export const httpTask: TaskKind<HttpTaskParams> = {
  kind: 'http',
  summary: 'one HTTP(S) request: status and phases (resolve, connect, tls, processing, transfer)',
  paramsSchema: HttpTaskParamsSchema,
  target: (p) => parseTargetUrl(p.url).hostname.replace(/^\[|\]$/g, ''),
  timeoutMs: (p) => p.timeout_ms + 5_000,
  async run(p, signal) {
    let url: URL;
    let cfg;
    try {
      url = parseTargetUrl(p.url);
      cfg = attemptConfig(probeParams(p));
    } catch (e) {
      return { ok: false, error: (e as Error).message };
    }
    const deadline = AbortSignal.any([signal, AbortSignal.timeout(p.timeout_ms)]);
    const o = await httpAttempt(url, cfg, deadline);
    const output: HttpTaskOutput = { url: url.href, total_ms: o.ok ? Math.round(o.rtt * 1000) / 1000 : null };
    if (o.status !== undefined) output.status = o.status;
    if (o.ok && o.phases) output.phases_ms = Object.fromEntries(Object.entries(o.phases).map(([k, v]) => [k, Math.round(v * 1000) / 1000]));
    if (o.cert_expiry !== undefined) output.cert_expiry = new Date(o.cert_expiry * 1000).toISOString();
    if (!o.ok) output.error = o.error;
    return o.ok ? { ok: true, output } : { ok: false, error: o.error, output };
  },
};
