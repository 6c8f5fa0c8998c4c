import { readFileSync } from 'node:fs';
import { createSecureContext, type SecureContext } from 'node:tls';
import { compileRules, hasRegexps, ruleParams } from './http-checks.ts';
import { warmRegexpWorker } from './net-regexp-worker.ts';
import { httpAttempt, type HttpAttemptConfig } from './http-attempt.ts';
import { attemptSignal, runAttempts, unmeasurable } from './net-round.ts';
import { HttpParamsSchema, type HttpParams } from './params.ts';
import type { Probe, ProbeTarget } from './probe.ts';
import type { Measurement } from './round.ts';

/**
 * HTTP(S) probe with blackbox_exporter's module semantics: the target host is the URL;
 * each attempt runs on fresh connections and reports the phases resolve, connect, tls,
 * processing and transfer (summed over redirects); RTT = total time of the attempt.
 * Round.phases = mean per phase over successful attempts, status = last status code,
 * cert_expiry = earliest notAfter of the last peer chain seen.
 */
export const httpProbe: Probe<HttpParams> = {
  type: 'http',
  batch: 1,
  paramsSchema: HttpParamsSchema,
  async measure(targets, signal) {
    const out: Measurement[] = [];
    for (const t of targets) out.push(await measureOne(t, signal));
    return out;
  },
};

async function measureOne(t: ProbeTarget<HttpParams>, signal: AbortSignal): Promise<Measurement> {
  const p = t.params;
  let url: URL;
  let cfg: HttpAttemptConfig;
  try {
    url = parseTargetUrl(t.host);
    cfg = attemptConfig(p);
  } catch (e) {
    return unmeasurable(p.pings, (e as Error).message);
  }
  return runAttempts(p, signal, async (_i, round) => {
    const att = attemptSignal(round, p.timeout);
    try {
      return await httpAttempt(url, cfg, att.signal, round);
    } finally {
      att.dispose();
    }
  });
}

/** The target URL; throws a clear error for anything but an absolute http(s) URL. */
export function parseTargetUrl(host: string): URL {
  let url: URL;
  try {
    url = new URL(host);
  } catch {
    throw new Error(`target ${JSON.stringify(host)} is not a URL (e.g. https://example.org/health)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`unsupported URL scheme ${url.protocol} in ${JSON.stringify(host)}`);
  return url;
}

/** Everything fixed for a round: compiled rules, TLS context from files, credentials. Throws naming the field at fault. */
export function attemptConfig(p: HttpParams): HttpAttemptConfig {
  if (p.basic_auth && p.bearer_token !== undefined) throw new Error('at most one of basic_auth and bearer_token may be set');
  let authorization: string | undefined;
  if (p.basic_auth) authorization = `Basic ${Buffer.from(`${p.basic_auth.username}:${p.basic_auth.password}`).toString('base64')}`;
  if (p.bearer_token !== undefined) authorization = `Bearer ${p.bearer_token}`;
  const rules = compileRules(p);
  if (hasRegexps(rules)) warmRegexpWorker();
  const cfg: HttpAttemptConfig = {
    method: p.method,
    headers: p.headers,
    followRedirects: p.follow_redirects,
    bodySizeLimit: p.body_size_limit,
    secureContext: secureContext(p.tls_config),
    insecureSkipVerify: p.tls_config.insecure_skip_verify,
    rules,
    ruleParams: ruleParams(p),
    checkDeadlineMs: p.timeout,
    preferred_ip_protocol: p.preferred_ip_protocol,
    ip_protocol_fallback: p.ip_protocol_fallback,
  };
  if (p.body !== undefined) cfg.body = p.body;
  if (authorization !== undefined) cfg.authorization = authorization;
  if (p.tls_config.server_name !== undefined) cfg.serverName = p.tls_config.server_name;
  return cfg;
}

function readPem(file: string | undefined, field: string): Buffer | undefined {
  if (file === undefined) return undefined;
  try {
    return readFileSync(file);
  } catch (e) {
    throw new Error(`cannot read tls_config.${field} ${JSON.stringify(file)}: ${(e as Error).message}`);
  }
}

/** A TLS context from tls_config; ca_file replaces the system roots, as in blackbox_exporter. */
function secureContext(c: HttpParams['tls_config']): SecureContext {
  const ca = readPem(c.ca_file, 'ca_file');
  const cert = readPem(c.cert_file, 'cert_file');
  const key = readPem(c.key_file, 'key_file');
  if ((cert === undefined) !== (key === undefined)) throw new Error('tls_config: cert_file and key_file must be set together');
  try {
    return createSecureContext({ ...(ca ? { ca } : {}), ...(cert ? { cert } : {}), ...(key ? { key } : {}) });
  } catch (e) {
    throw new Error(`tls_config: cannot use the given PEM files: ${(e as Error).message}`);
  }
}
