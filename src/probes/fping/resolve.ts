import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';

/** A host name or literal turned into the address fping is given, or why it cannot be. */
export type Resolution = { address: string } | { error: string };

/**
 * Resolves each distinct host to one IP address the way fping itself would (the first
 * answer of getaddrinfo, so /etc/hosts and the system's IPv4/IPv6 preference apply).
 * IP literals pass through; `[v6]` brackets are removed. Lookups run `concurrency` at a
 * time. A name that does not resolve gets an error naming it; it never fails the batch.
 */
export async function resolveHosts(hosts: Iterable<string>, signal: AbortSignal, concurrency = 32): Promise<Map<string, Resolution>> {
  const out = new Map<string, Resolution>();
  const names: string[] = [];
  for (const host of hosts) {
    if (out.has(host)) continue;
    const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
    if (isIP(bare)) out.set(host, { address: bare });
    else if (bare === '' || bare.startsWith('-') || /\s/.test(bare)) out.set(host, { error: `invalid host name "${host}"` });
    else { out.set(host, { error: 'not resolved' }); names.push(host); }
  }
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < names.length && !signal.aborted) {
      const host = names[next++]!;
      try {
        const r = await lookup(host, { verbatim: true });
        out.set(host, { address: r.address });
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        const why = code === 'ENOTFOUND' ? 'no such host' : code ?? String(err);
        out.set(host, { error: `cannot resolve "${host}": ${why}` });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, names.length) }, worker));
  return out;
}
