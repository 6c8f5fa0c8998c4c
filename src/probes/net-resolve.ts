import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { describeError } from './net-errors.ts';

/** blackbox_exporter's address family choice. */
export interface FamilyChoice {
  preferred_ip_protocol?: 'ip4' | 'ip6';
  ip_protocol_fallback?: boolean;
}

export interface Resolved {
  address: string;
  family: 4 | 6;
}

/**
 * Resolves `host` (name or address literal, IPv6 with or without brackets) to one address
 * of the preferred family, falling back to the other family when allowed (blackbox's
 * preferred_ip_protocol / ip_protocol_fallback; default ip6 with fallback). Uses the
 * system resolver (getaddrinfo: /etc/hosts, then DNS). Throws an Error whose message names
 * the host and the reason, e.g. `cannot resolve "x.invalid": no such host`.
 */
export async function resolveHost(host: string, choice: FamilyChoice, signal?: AbortSignal): Promise<Resolved> {
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  const preferred = choice.preferred_ip_protocol === 'ip4' ? 4 : 6;
  const fallback = choice.ip_protocol_fallback ?? true;
  const literal = isIP(bare);
  if (literal === 4 || literal === 6) {
    if (literal !== preferred && !fallback) {
      throw new Error(`address ${bare} is not IPv${preferred} and ip_protocol_fallback is off`);
    }
    return { address: bare, family: literal };
  }
  const families = fallback ? [preferred, preferred === 6 ? 4 : 6] : [preferred];
  let lastErr: unknown;
  for (const family of families) {
    if (signal?.aborted) throw signal.reason ?? new Error('aborted');
    try {
      const r = await abortable(lookup(bare, { family }), signal);
      return { address: r.address, family: r.family === 6 ? 6 : 4 };
    } catch (e) {
      if (signal?.aborted) throw e;
      lastErr = e;
    }
  }
  throw new Error(describeError(lastErr, `cannot resolve "${bare}"${fallback ? '' : ` as IPv${preferred}`}`));
}

/** getaddrinfo cannot be cancelled; this stops waiting for it when the signal aborts. */
function abortable<T>(p: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (!signal) return p;
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason ?? new Error('aborted'));
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => { signal.removeEventListener('abort', onAbort); resolve(v); },
      (e: unknown) => { signal.removeEventListener('abort', onAbort); reject(e); },
    );
  });
}
