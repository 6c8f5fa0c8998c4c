import Type, { type Static } from 'typebox';
import { MAX_PINGS, MAX_STEP } from './round.ts';

/**
 * Parameters of each probe type, with defaults. `pings`, `timeout`, `step` and `offset` are
 * common to all; the rest belong to one type. A preset in `probes:` and every target node
 * may set any of them; the config loader validates the resolved set per target.
 */
export const CommonParamsSchema = {
  pings: Type.Integer({ minimum: 1, maximum: MAX_PINGS, description: 'attempts per round (SmokePing: pings)' }),
  timeout: Type.Integer({ minimum: 1, maximum: 60000, description: 'per-attempt timeout, ms' }),
  step: Type.Integer({ minimum: 1, maximum: MAX_STEP, description: 'seconds between rounds' }),
  offset: Type.Union([Type.Literal('random'), Type.String({ pattern: '^\\d{1,2}(\\.\\d+)?%$' })], {
    description: "where in the step the round starts: 'random' or 'N%'",
  }),
};

export const IcmpParamsSchema = Type.Object({
  ...CommonParamsSchema,
  packet_size: Type.Integer({ minimum: 0, maximum: 65000, default: 56, description: 'ICMP payload bytes (fping -b)' }),
  tos: Type.Integer({ minimum: 0, maximum: 255, default: 0, description: 'type of service byte (fping -O)' }),
  source: Type.Optional(Type.String({ description: 'source address (fping -S)' })),
  interval: Type.Integer({ minimum: 1, maximum: 60000, default: 1000, description: 'ms between pings to one target (fping -p)' }),
  // Floor 0.2 ms: one fping process can have at most 65535 pings in flight per 10 s (its
  // sequence map), i.e. 6553 packets/s; faster makes it exit with "not enough sequence numbers".
  // Default 0.2 ms (SmokePing: 10): the planner widens it to spread small rounds, and fewer
  // processes matter on raw sockets (see docs/probes/icmp.md).
  mininterval: Type.Number({ minimum: 0.2, maximum: 1000, default: 0.2, description: 'least ms between any two packets of one fping process (fping -i)' }),
}, { additionalProperties: false });

// Shared by tcp, dns and http (blackbox_exporter's names and defaults).
const IpProtocol = Type.Enum(['ip4', 'ip6'], { default: 'ip6', description: 'address family tried first when resolving the host' });
const IpFallback = Type.Boolean({ default: true, description: 'try the other family when the preferred one has no address' });
const Interval = Type.Optional(Type.Integer({
  minimum: 0, maximum: 60000,
  description: 'ms between attempt starts; default min(1000, step/4/pings) so a round fits in a quarter of the step',
}));

export const TcpParamsSchema = Type.Object({
  ...CommonParamsSchema,
  port: Type.Integer({ minimum: 1, maximum: 65535, description: 'TCP port to connect to' }),
  preferred_ip_protocol: IpProtocol,
  ip_protocol_fallback: IpFallback,
  interval: Interval,
}, { additionalProperties: false });

const Rcode = Type.String({ pattern: '^[A-Z]+$' });
/** A user regexp in RE2 (Go) syntax; `re2: true` makes config validation compile it (src/config/validate.ts). */
const Re2 = (description?: string) => Type.String({ re2: true, ...(description ? { description } : {}) });
const Re2List = (description?: string) => Type.Array(Re2(), description ? { description } : {});
export const DnsParamsSchema = Type.Object({
  ...CommonParamsSchema,
  query_name: Type.String({ minLength: 1, default: 'localhost', description: 'name to query; the target host is the DNS server' }),
  query_type: Type.String({ pattern: '^[A-Z0-9]+$', default: 'A' }),
  transport_protocol: Type.Union([Type.Literal('udp'), Type.Literal('tcp')], { default: 'udp' }),
  port: Type.Integer({ minimum: 1, maximum: 65535, default: 53 }),
  valid_rcodes: Type.Array(Rcode, { default: ['NOERROR'] }),
  recursion_desired: Type.Boolean({ default: true }),
  validate_answer_rrs: Type.Optional(Type.Object({
    fail_if_matches_regexp: Type.Optional(Re2List('fail if any answer RR matches any of these')),
    fail_if_not_matches_regexp: Type.Optional(Re2List('fail if any answer RR does not match one of these')),
    fail_if_all_match_regexp: Type.Optional(Re2List('fail if every answer RR matches one of these')),
    fail_if_none_matches_regexp: Type.Optional(Re2List('fail if no answer RR matches one of these')),
  }, { additionalProperties: false, description: 'regexps over the answer RRs in zone-file text form (name TTL class type data)' })),
  preferred_ip_protocol: IpProtocol,
  ip_protocol_fallback: IpFallback,
  interval: Interval,
}, { additionalProperties: false });

const HeaderMatch = Type.Object({
  header: Type.String({ minLength: 1 }),
  regexp: Re2(),
  allow_missing: Type.Boolean({ default: false }),
}, { additionalProperties: false });

export const HttpParamsSchema = Type.Object({
  ...CommonParamsSchema,
  method: Type.String({ pattern: '^[A-Z]+$', default: 'GET' }),
  headers: Type.Record(Type.String(), Type.String(), { default: {} }),
  body: Type.Optional(Type.String()),
  valid_status_codes: Type.Array(Type.Integer({ minimum: 100, maximum: 599 }), { default: [], description: 'empty = any 2xx' }),
  valid_http_versions: Type.Array(Type.String(), { default: [] }),
  fail_if_ssl: Type.Boolean({ default: false }),
  fail_if_not_ssl: Type.Boolean({ default: false }),
  fail_if_body_matches_regexp: Type.Array(Re2(), { default: [] }),
  fail_if_body_not_matches_regexp: Type.Array(Re2(), { default: [] }),
  fail_if_header_matches: Type.Array(HeaderMatch, { default: [] }),
  fail_if_header_not_matches: Type.Array(HeaderMatch, { default: [] }),
  follow_redirects: Type.Boolean({ default: true }),
  tls_config: Type.Object({
    ca_file: Type.Optional(Type.String()),
    cert_file: Type.Optional(Type.String()),
    key_file: Type.Optional(Type.String()),
    server_name: Type.Optional(Type.String()),
    insecure_skip_verify: Type.Boolean({ default: false }),
  }, { additionalProperties: false, default: {} }),
  preferred_ip_protocol: IpProtocol,
  ip_protocol_fallback: IpFallback,
  body_size_limit: Type.Integer({ minimum: 0, default: 0, description: 'bytes; 0 = no limit' }),
  basic_auth: Type.Optional(Type.Object({ username: Type.String(), password: Type.String() }, { additionalProperties: false })),
  bearer_token: Type.Optional(Type.String()),
  interval: Interval,
}, { additionalProperties: false });

/** Resolved parameter types, one per probe. */
export type IcmpParams = Static<typeof IcmpParamsSchema>;
export type TcpParams = Static<typeof TcpParamsSchema>;
export type DnsParams = Static<typeof DnsParamsSchema>;
export type HttpParams = Static<typeof HttpParamsSchema>;

export const PARAMS_SCHEMAS = {
  icmp: IcmpParamsSchema,
  tcp: TcpParamsSchema,
  dns: DnsParamsSchema,
  http: HttpParamsSchema,
} as const;
