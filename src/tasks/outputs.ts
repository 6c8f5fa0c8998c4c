import Type, { type Static } from 'typebox';
import { NullableNumber } from '../schema.ts';

/**
 * The outputs of the task kinds: one schema each, for the agents' results, the API, the CLI's
 * text and the web app's tables. No I/O and no Node modules here (the web app imports it).
 */

/** One hop of an mtr report: times in ms; null where nothing answered. */
export const MtrHopSchema = Type.Object({
  hop: Type.Integer({ minimum: 1 }),
  /** The address that answered this hop; null for "???" (no answer). */
  host: Type.Union([Type.String(), Type.Null()]),
  loss_pct: Type.Number({ minimum: 0, maximum: 100 }),
  sent: Type.Integer({ minimum: 0 }),
  last: NullableNumber(), avg: NullableNumber(), best: NullableNumber(), worst: NullableNumber(), stdev: NullableNumber(),
  asn: Type.Optional(Type.String({ description: 'with asn: true (mtr -z), e.g. AS13335' })),
});
export type MtrHop = Static<typeof MtrHopSchema>;

export const MtrReportSchema = Type.Object({
  destination: Type.String(),
  cycles: Type.Integer(),
  hops: Type.Array(MtrHopSchema),
});
export type MtrReport = Static<typeof MtrReportSchema>;

/** traceroute's hops (src/tasks/traceroute-parser.ts). `null`: a probe without an answer. */
export const TracerouteProbeSchema = Type.Union([
  Type.Object({ address: Type.String(), rtt_ms: Type.Number(), note: Type.Optional(Type.String()) }),
  Type.Null(),
], { description: 'null: no answer (*)' });
export type TracerouteProbe = Static<typeof TracerouteProbeSchema>;

export const TracerouteHopSchema = Type.Object({
  hop: Type.Integer({ minimum: 1 }),
  probes: Type.Array(TracerouteProbeSchema),
  /** Every address that answered this hop, in order of first appearance. */
  addresses: Type.Array(Type.String()),
});
export type TracerouteHop = Static<typeof TracerouteHopSchema>;

export const TracerouteReportSchema = Type.Object({
  destination: Type.String(),
  address: Type.String(),
  max_hops: Type.Integer(),
  hops: Type.Array(TracerouteHopSchema),
});
export type TracerouteReport = Static<typeof TracerouteReportSchema>;

/** The output of the tasks that reuse a probe's attempts (ping, tcp): the round's figures in ms. */
export const AttemptsOutputSchema = Type.Object({
  sent: Type.Integer(),
  received: Type.Integer(),
  loss_pct: Type.Number(),
  rtts_ms: Type.Array(Type.Number(), { description: 'every reply, in the order measured' }),
  min_ms: NullableNumber(), median_ms: NullableNumber(), mean_ms: NullableNumber(), max_ms: NullableNumber(), stddev_ms: NullableNumber(),
  error: Type.Optional(Type.String({ description: 'why the last failed attempt failed' })),
});
export type AttemptsOutput = Static<typeof AttemptsOutputSchema>;

export const DnsTaskOutputSchema = Type.Object({
  server: Type.String({ description: 'address:port asked' }),
  transport: Type.String(),
  rcode: Type.String(),
  flags: Type.Array(Type.String(), { description: 'aa, tc, rd, ra, ad, cd when set' }),
  time_ms: Type.Number(),
  answers: Type.Array(Type.String(), { description: 'zone-file lines, as dig prints them' }),
  authorities: Type.Array(Type.String()),
  additionals: Type.Array(Type.String()),
});
export type DnsTaskOutput = Static<typeof DnsTaskOutputSchema>;

export const HttpTaskOutputSchema = Type.Object({
  url: Type.String(),
  status: Type.Optional(Type.Integer()),
  total_ms: NullableNumber(),
  phases_ms: Type.Optional(Type.Record(Type.String(), Type.Number(), { description: 'resolve, connect, tls, processing, transfer' })),
  cert_expiry: Type.Optional(Type.String({ description: 'earliest certificate expiry of the chain (ISO 8601)' })),
  error: Type.Optional(Type.String()),
});
export type HttpTaskOutput = Static<typeof HttpTaskOutputSchema>;
