import { randomInt } from 'node:crypto';
import * as packet from 'dns-packet';
import Type, { type Static } from 'typebox';
import { encodeQuery, exchangeTcp, exchangeUdp } from '../probes/dns.ts';
import { rrText } from '../probes/net-dns-rr.ts';
import { resolveHost } from '../probes/net-resolve.ts';
import { familyChoice } from './tcp.ts';
import type { DnsTaskOutput } from './outputs.ts';
import { HostParam, IpVersionParam, type TaskKind } from './task.ts';

export const DnsTaskParamsSchema = Type.Object({
  host: { ...HostParam, description: 'the DNS server asked (what the task policy judges)' },
  name: Type.String({ minLength: 1, maxLength: 253, pattern: '^[-0-9A-Za-z_.*]+$', default: 'localhost', description: 'the name queried' }),
  type: Type.String({ pattern: '^[A-Z0-9]{1,10}$', default: 'A', description: 'query type: A, AAAA, MX, TXT, NS, SOA, CNAME, PTR, SRV, CAA…' }),
  transport: Type.Enum(['udp', 'tcp'], { default: 'udp' }),
  port: Type.Integer({ minimum: 1, maximum: 65535, default: 53 }),
  recursion_desired: Type.Boolean({ default: true }),
  timeout_ms: Type.Integer({ minimum: 10, maximum: 30000, default: 3000 }),
  ip_version: IpVersionParam,
}, { additionalProperties: false });
export type DnsTaskParams = Static<typeof DnsTaskParamsSchema>;


const FLAGS: [string, number][] = [
  ['aa', packet.AUTHORITATIVE_ANSWER], ['tc', packet.TRUNCATED_RESPONSE], ['rd', packet.RECURSION_DESIRED],
  ['ra', packet.RECURSION_AVAILABLE], ['ad', packet.AUTHENTIC_DATA], ['cd', packet.CHECKING_DISABLED],
];

/** One DNS query (like dig), the dns probe's own encoder and transports. */
export const dnsTask: TaskKind<DnsTaskParams> = {
  kind: 'dns',
  summary: 'DNS query: rcode, flags, answer records and time (like dig)',
  paramsSchema: DnsTaskParamsSchema,
  target: (p) => p.host,
  timeoutMs: (p) => 2 * p.timeout_ms + 5_000,
  async run(p, signal) {
    let server: { address: string; family: 4 | 6 };
    let query: Buffer;
    try {
      server = await resolveHost(p.host, familyChoice(p.ip_version), signal);
      query = encodeQuery({ query_name: p.name, query_type: p.type, recursion_desired: p.recursion_desired }, randomInt(0, 0x10000));
    } catch (e) {
      return { ok: false, error: (e as Error).message };
    }
    const ex = await (p.transport === 'tcp' ? exchangeTcp : exchangeUdp)(server, p.port, query, p.timeout_ms, signal);
    if (!ex.ok) return { ok: false, error: ex.error };
    let msg: packet.Packet;
    try {
      msg = packet.decode(ex.answer);
    } catch (e) {
      return { ok: false, error: `malformed DNS answer (${ex.answer.length} bytes): ${(e as Error).message}` };
    }
    const flags = msg.flags ?? 0;
    const output: DnsTaskOutput = {
      server: server.family === 6 ? `[${server.address}]:${p.port}` : `${server.address}:${p.port}`,
      transport: p.transport,
      rcode: (msg as { rcode?: string }).rcode ?? String(flags & 0xf),
      flags: FLAGS.filter(([, bit]) => flags & bit).map(([name]) => name),
      time_ms: Math.round(Object.values(ex.phases).reduce((a, b) => a + b, 0) * 1000) / 1000,
      answers: (msg.answers ?? []).map(rrText),
      authorities: (msg.authorities ?? []).map(rrText),
      additionals: (msg.additionals ?? []).filter((rr) => rr.type !== 'OPT').map(rrText),
    };
    return { ok: true, output };
  },
};
