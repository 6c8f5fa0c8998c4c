import { request as httpRequest, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import { connect as netConnect, isIP, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { connect as tlsConnect, type PeerCertificate, type SecureContext, type TLSSocket } from 'node:tls';
import { describeError } from './net-errors.ts';
import { resolveHost, type FamilyChoice } from './net-resolve.ts';
import { hostPort } from './tcp.ts';
import { checkResponse, hasRegexps, MAX_CHECKED_BODY, needsBody, type FinalResponse, type ResponseRules, type RuleParams } from './http-checks.ts';
import { runCheck } from './net-regexp-worker.ts';
import type { AttemptOutcome } from './net-round.ts';

/** The phases of one attempt in ms, blackbox_exporter's names, summed over redirects. */
export type HttpPhases = { resolve: number; connect: number; tls: number; processing: number; transfer: number };

/** Everything an attempt needs that does not change within a round. */
export interface HttpAttemptConfig extends FamilyChoice {
  method: string;
  headers: Record<string, string>;
  body?: string;
  /** Authorization header from basic_auth / bearer_token, sent on every hop. */
  authorization?: string;
  followRedirects: boolean;
  bodySizeLimit: number;
  secureContext: SecureContext;
  serverName?: string;
  insecureSkipVerify: boolean;
  rules: ResponseRules;
  /** The rules as plain data, for the regexp worker. */
  ruleParams: RuleParams;
  /** Upper bound of the regexp checks of one response, ms (the probe's timeout). */
  checkDeadlineMs: number;
}

/** blackbox_exporter stops following after this many redirects and judges the last response. */
export const MAX_REDIRECTS = 10;

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

interface HopRequest { url: URL; method: string; headers: Record<string, string>; body?: string }

interface HopResult {
  status: number;
  httpVersion: string;
  rawHeaders: string[];
  location?: string;
  body?: Buffer;
  bodySize?: number;
  tls: boolean;
  certExpiry?: number;
}

class HopError extends Error {
  constructor(message: string, readonly certExpiry?: number) { super(message); }
}

/**
 * One HTTP(S) attempt against `target`: each hop on a fresh connection (our own resolve,
 * then TCP connect, then TLS, then the request), redirects followed up to 10 when allowed,
 * phases summed over the hops, the final response judged by the rules. RTT = total time.
 * Resolves (never rejects) with the outcome; `signal` bounds the whole attempt up to the
 * response; the regexp checks after it have their own deadline and stop when `round` aborts.
 */
export async function httpAttempt(target: URL, cfg: HttpAttemptConfig, signal: AbortSignal, round: AbortSignal = signal): Promise<AttemptOutcome> {
  const phases: HttpPhases = { resolve: 0, connect: 0, tls: 0, processing: 0, transfer: 0 };
  const t0 = performance.now();
  let req: HopRequest = { url: target, method: cfg.method, headers: { ...cfg.headers }, body: cfg.body };
  let status: number | undefined;
  let certExpiry: number | undefined;
  try {
    for (let redirects = 0; ; redirects++) {
      const hop = await runHop(req, cfg, phases, signal);
      status = hop.status;
      certExpiry = hop.certExpiry;
      if (cfg.followRedirects && REDIRECTS.has(hop.status) && hop.location !== undefined && redirects < MAX_REDIRECTS) {
        req = nextRequest(req, hop.status, hop.location);
        continue;
      }
      const rtt = performance.now() - t0;
      const reason = await judge(hop, cfg, round);
      const base = { status, ...(certExpiry !== undefined ? { cert_expiry: certExpiry } : {}) };
      if (reason) return { ok: false, error: reason, ...base };
      return { ok: true, rtt, phases: { ...phases }, ...base };
    }
  } catch (e) {
    const out: AttemptOutcome = { ok: false, error: e instanceof Error ? e.message : String(e) };
    if (status !== undefined) out.status = status;
    const exp = e instanceof HopError ? e.certExpiry : certExpiry;
    if (exp !== undefined) out.cert_expiry = exp;
    return out;
  }
}

/**
 * The reason the final response fails the rules, or undefined. Rules with regexps run on
 * the regexp worker: body and headers come from the target, and a slow match must not stall
 * the event loop. The rest is a few comparisons and runs here.
 */
async function judge(hop: HopResult, cfg: HttpAttemptConfig, round: AbortSignal): Promise<string | undefined> {
  if (!hasRegexps(cfg.rules)) return checkResponse(hop, cfg.rules);
  const res: FinalResponse = { status: hop.status, httpVersion: hop.httpVersion, rawHeaders: hop.rawHeaders, tls: hop.tls };
  if (hop.body) res.body = hop.body;
  if (hop.bodySize !== undefined) res.bodySize = hop.bodySize;
  try {
    return await runCheck('httpResponse', { res, rules: cfg.ruleParams }, { deadlineMs: cfg.checkDeadlineMs, signal: round });
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}

/** The request a redirect leads to, with Go's net/http rules for method, body and credentials. */
function nextRequest(prev: HopRequest, status: number, location: string): HopRequest {
  let url: URL;
  try {
    url = new URL(location, prev.url);
  } catch {
    throw new Error(`redirect to an invalid Location ${JSON.stringify(location)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`redirect to unsupported URL ${url.href}`);
  let { method, body } = prev;
  const headers = { ...prev.headers };
  if (status === 303 ? method !== 'HEAD' : (status === 301 || status === 302) && method === 'POST') {
    method = 'GET';
    body = undefined;
    for (const k of Object.keys(headers)) if (/^content-(type|length)$/i.test(k)) delete headers[k];
  }
  // Like Go's client: credentials written in `headers` do not follow to another host.
  if (url.host !== prev.url.host) {
    for (const k of Object.keys(headers)) if (/^(authorization|cookie|www-authenticate)$/i.test(k)) delete headers[k];
  }
  return { url, method, headers, body };
}

/** Earliest notAfter (unix seconds) over the peer's certificate chain. */
function earliestExpiry(sock: TLSSocket): number | undefined {
  let cert: PeerCertificate | undefined;
  try { cert = sock.getPeerCertificate(true); } catch { return undefined; }
  let earliest: number | undefined;
  const seen = new Set<object>();
  let c = cert as (PeerCertificate & { issuerCertificate?: PeerCertificate }) | undefined;
  while (c && c.valid_to && !seen.has(c)) {
    seen.add(c);
    const t = Date.parse(c.valid_to);
    if (Number.isFinite(t)) earliest = earliest === undefined ? Math.floor(t / 1000) : Math.min(earliest, Math.floor(t / 1000));
    c = c.issuerCertificate;
  }
  return earliest;
}

/** One request/response on a fresh connection; adds its phases to `phases`; throws HopError/Error with a clear reason. */
async function runHop(req: HopRequest, cfg: HttpAttemptConfig, phases: HttpPhases, signal: AbortSignal): Promise<HopResult> {
  const url = req.url;
  const https = url.protocol === 'https:';
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  const port = Number(url.port || (https ? 443 : 80));
  const tStart = performance.now();
  const addr = await resolveHost(host, cfg, signal).catch((e: unknown) => {
    throw new Error(signal.aborted ? abortReason(signal, 'resolving') : (e as Error).message);
  });
  const tResolved = performance.now();
  phases.resolve += tResolved - tStart;
  const where = hostPort(addr.address, port);

  let raw: Socket | undefined;
  let sock: Socket | undefined;
  const onAbort = (): void => { sock?.destroy(); raw?.destroy(); };
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    // TCP connect
    sock = raw = netConnect({ host: addr.address, port, family: addr.family });
    // Errors are handled where each step waits; this keeps a late one from crashing the process.
    sock.on('error', ignore);
    await settle(sock, 'connect', signal, (e) => describeError(e, `connect to ${where}`), 'connecting');
    const tConnected = performance.now();
    phases.connect += tConnected - tResolved;

    // TLS handshake
    let certExpiry: number | undefined;
    let ready = tConnected;
    if (https) {
      const hostHeader = Object.entries(req.headers).find(([k]) => k.toLowerCase() === 'host')?.[1]?.replace(/:\d+$/, '').replace(/^\[(.*)\]$/, '$1');
      const name = cfg.serverName ?? hostHeader ?? host;
      const tlsSock = tlsConnect({
        socket: sock,
        secureContext: cfg.secureContext,
        // Verified below, after the handshake, so that a rejected chain still yields its expiry.
        rejectUnauthorized: false,
        ALPNProtocols: ['http/1.1'],
        ...(isIP(name) ? { host: name } : { servername: name, host: name }),
      });
      sock = tlsSock;
      tlsSock.on('error', ignore);
      await settle(tlsSock, 'secureConnect', signal, (e) => describeError(e, `TLS handshake with ${where}`), 'in the TLS handshake');
      certExpiry = earliestExpiry(tlsSock);
      // Node checked chain and host name (authorizationError); nothing has been sent yet.
      if (!tlsSock.authorized && !cfg.insecureSkipVerify) {
        const code = String(tlsSock.authorizationError);
        throw new HopError(describeError({ code, message: code }, `TLS handshake with ${where}`), certExpiry);
      }
      ready = performance.now();
      phases.tls += ready - tConnected;
    }

    // Request → first byte → body end
    const conn = sock;
    let firstByte = 0;
    conn.once('data', () => { firstByte = performance.now(); });
    const headers: OutgoingHttpHeaders = { 'User-Agent': 'smokemesh-probe', Connection: 'close', ...req.headers };
    if (cfg.authorization) headers.Authorization = cfg.authorization;
    if (req.body !== undefined) headers['Content-Length'] = Buffer.byteLength(req.body);
    const hr = httpRequest({
      method: req.method,
      host,
      port,
      path: `${url.pathname}${url.search}`,
      headers,
      createConnection: () => conn,
    });
    const res = await new Promise<IncomingMessage>((resolve, reject) => {
      hr.once('response', resolve);
      hr.on('error', (e) => reject(new Error(signal.aborted ? abortReason(signal, 'waiting for the response') : describeError(e, `HTTP request to ${where}`))));
      hr.end(req.body);
    });
    const { body, size } = await readBody(res, cfg, signal);
    const tEnd = performance.now();
    const first = firstByte || tEnd;
    phases.processing += first - ready;
    phases.transfer += tEnd - first;
    const location = res.headers.location;
    const out: HopResult = { status: res.statusCode ?? 0, httpVersion: res.httpVersion, rawHeaders: res.rawHeaders, tls: https };
    if (location !== undefined) out.location = location;
    if (body) {
      out.body = body;
      if (size > body.length) out.bodySize = size;
    }
    if (certExpiry !== undefined) out.certExpiry = certExpiry;
    return out;
  } finally {
    signal.removeEventListener('abort', onAbort);
    sock?.destroy();
    raw?.destroy();
  }
}

/**
 * Reads the body to its end and enforces body_size_limit; keeps its first MAX_CHECKED_BODY
 * bytes when a rule needs them (memory stays bounded whatever the target sends), and
 * returns the full size.
 */
function readBody(res: IncomingMessage, cfg: HttpAttemptConfig, signal: AbortSignal): Promise<{ body?: Buffer; size: number }> {
  const keep = needsBody(cfg.rules);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    res.on('data', (c: Buffer) => {
      const before = size;
      size += c.length;
      if (cfg.bodySizeLimit > 0 && size > cfg.bodySizeLimit) {
        reject(new Error(`body exceeds body_size_limit (${cfg.bodySizeLimit} bytes)`));
        res.destroy();
        return;
      }
      if (keep && before < MAX_CHECKED_BODY) chunks.push(c.subarray(0, MAX_CHECKED_BODY - before));
    });
    res.once('end', () => resolve(keep ? { body: Buffer.concat(chunks), size } : { size }));
    res.on('error', (e) => reject(new Error(signal.aborted ? abortReason(signal, 'reading the body') : describeError(e, 'reading the body'))));
    res.once('aborted', () => reject(new Error(signal.aborted ? abortReason(signal, 'reading the body') : 'connection closed while reading the body')));
  });
}

/** Waits for `event` on `sock`; rejects with a worded reason on error, close or abort. */
function settle(sock: Socket, event: string, signal: AbortSignal, word: (e: unknown) => string, doing: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const cleanup = (): void => {
      sock.off(event, ok);
      sock.off('error', bad);
      sock.off('close', closed);
      signal.removeEventListener('abort', aborted);
    };
    const ok = (): void => { cleanup(); resolve(); };
    const bad = (e: unknown): void => { cleanup(); reject(new Error(word(e))); };
    const closed = (): void => { cleanup(); reject(new Error(signal.aborted ? abortReason(signal, doing) : `connection closed ${doing}`)); };
    const aborted = (): void => { cleanup(); sock.destroy(); reject(new Error(abortReason(signal, doing))); };
    sock.once(event, ok);
    sock.once('error', bad);
    sock.once('close', closed);
    if (signal.aborted) aborted();
    else signal.addEventListener('abort', aborted, { once: true });
  });
}

function ignore(): void { /* see the callers */ }

function abortReason(signal: AbortSignal, doing: string): string {
  const r = signal.reason as unknown;
  const msg = r instanceof Error ? r.message : 'aborted';
  return msg.startsWith('timeout') ? `${msg} ${doing}` : msg;
}
