import type { Answer } from 'dns-packet';

/**
 * One resource record in zone-file text form, as dig and blackbox_exporter (miekg/dns)
 * print it: `name.<TAB>ttl<TAB>class<TAB>type<TAB>rdata`, names fully qualified with the
 * trailing dot. Record types this formatter does not know print their rdata in the
 * RFC 3597 generic form `\# <length> <hex>`.
 */
export function rrText(rr: Answer): string {
  const a = rr as Answer & { ttl?: number; class?: string; data?: unknown };
  return `${fqdn(a.name)}\t${a.ttl ?? 0}\t${a.class ?? 'IN'}\t${a.type}\t${rdataText(a.type, a.data)}`;
}

function fqdn(name: string): string {
  return name === '' || name === '.' ? '.' : name.endsWith('.') ? name : `${name}.`;
}

function quote(s: string | Buffer): string {
  const text = typeof s === 'string' ? s : s.toString('latin1');
  return `"${text.replace(/["\\]/g, '\\$&')}"`;
}

function rdataText(type: string, data: unknown): string {
  const d = data as Record<string, unknown>;
  switch (type) {
    case 'A':
    case 'AAAA':
      return String(data);
    case 'CNAME':
    case 'NS':
    case 'PTR':
    case 'DNAME':
      return fqdn(String(data));
    case 'MX':
      return `${d.preference} ${fqdn(String(d.exchange))}`;
    case 'SRV':
      return `${d.priority ?? 0} ${d.weight ?? 0} ${d.port} ${fqdn(String(d.target))}`;
    case 'SOA':
      return `${fqdn(String(d.mname))} ${fqdn(String(d.rname))} ${d.serial} ${d.refresh} ${d.retry} ${d.expire} ${d.minimum}`;
    case 'TXT': {
      const parts = Array.isArray(data) ? data : [data];
      return parts.map((p) => quote(p as string | Buffer)).join(' ');
    }
    case 'CAA':
      return `${d.flags ?? 0} ${d.tag} ${quote(String(d.value))}`;
    case 'HINFO':
      return `${quote(String(d.cpu))} ${quote(String(d.os))}`;
    default:
      if (Buffer.isBuffer(data)) return `\\# ${data.length}${data.length ? ' ' + data.toString('hex') : ''}`;
      return JSON.stringify(data, (_k, v: unknown) => (v && typeof v === 'object' && (v as { type?: string }).type === 'Buffer' ? Buffer.from((v as { data: number[] }).data).toString('hex') : v));
  }
}
