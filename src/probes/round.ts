import Type, { type Static } from 'typebox';
import { NullableNumber } from '../schema.ts';

/** The probe kinds smokemesh knows; each has one file in src/probes/. */
export const PROBE_TYPES = ['icmp', 'tcp', 'dns', 'http'] as const;
export type ProbeType = (typeof PROBE_TYPES)[number];

/** HTTP phase names (blackbox_exporter's), each in milliseconds. */
export const HTTP_PHASES = ['resolve', 'connect', 'tls', 'processing', 'transfer'] as const;
export type HttpPhase = (typeof HTTP_PHASES)[number];

const Ms = Type.Number({ minimum: 0 });

/**
 * One round: one measurement of one target by one agent at one time.
 * This schema is the wire format between agents and the server and the unit the store,
 * the alert engine and the exporters consume. Times are ms since the epoch; RTTs are ms
 * with µs precision (3 decimals), sorted ascending.
 */
export const RoundSchema = Type.Object({
  target: Type.String({ minLength: 1, description: 'target path, e.g. /Group/host' }),
  agent: Type.String({ minLength: 1 }),
  probe: Type.Enum(PROBE_TYPES),
  time: Type.Integer({ minimum: 0, description: 'round start, ms since the epoch' }),
  step: Type.Integer({ minimum: 1, description: 'seconds between rounds of this target' }),
  sent: Type.Integer({ minimum: 0 }),
  rtts: Type.Array(Ms, { description: 'received RTTs in ms, sorted ascending' }),
  loss: Type.Integer({ minimum: 0, description: 'pings lost (sent - received)' }),
  median: NullableNumber({ minimum: 0 }),
  mean: NullableNumber({ minimum: 0 }),
  stddev: NullableNumber({ minimum: 0 }),
  min: NullableNumber({ minimum: 0 }),
  max: NullableNumber({ minimum: 0 }),
  phases: Type.Optional(Type.Record(Type.String(), Ms, { description: 'HTTP/DNS phases, mean over successful attempts' })),
  status: Type.Optional(Type.Integer({ description: 'HTTP status code or DNS rcode of the last answer' })),
  error: Type.Optional(Type.String({ description: 'why the last failed attempt failed' })),
  cert_expiry: Type.Optional(Type.Integer({ description: 'earliest certificate expiry of the chain, s since the epoch' })),
});
export type Round = Static<typeof RoundSchema>;

/** What a probe reports for one target; the round's statistics are derived from it. */
export interface Measurement {
  sent: number;
  /** RTTs of the replies in ms, any order. Lost attempts are simply absent. */
  rtts: number[];
  phases?: Record<string, number>;
  status?: number;
  error?: string;
  cert_expiry?: number;
}

/** Rounds to microseconds, the precision every RTT is kept at. */
export function toMicros(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

/**
 * SmokePing's median: sorted[floor(n/2)], the upper median for even counts.
 * Returns null when nothing was received.
 */
export function smokepingMedian(sorted: readonly number[]): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** Builds a round from a measurement: sorts RTTs and derives loss, median, mean, stddev, min, max. */
export function makeRound(
  base: { target: string; agent: string; probe: ProbeType; time: number; step: number },
  m: Measurement,
): Round {
  const rtts = m.rtts.map(toMicros).sort((a, b) => a - b);
  const n = rtts.length;
  let mean: number | null = null;
  let stddev: number | null = null;
  if (n > 0) {
    const sum = rtts.reduce((a, b) => a + b, 0);
    mean = sum / n;
    const m2 = rtts.reduce((a, b) => a + (b - mean!) * (b - mean!), 0);
    stddev = toMicros(Math.sqrt(m2 / n));
    mean = toMicros(mean);
  }
  const round: Round = {
    ...base,
    sent: m.sent,
    rtts,
    loss: Math.max(0, m.sent - n),
    median: smokepingMedian(rtts),
    mean,
    stddev,
    min: n > 0 ? rtts[0]! : null,
    max: n > 0 ? rtts[n - 1]! : null,
  };
  if (m.phases) round.phases = m.phases;
  if (m.status !== undefined) round.status = m.status;
  if (m.error !== undefined) round.error = m.error;
  if (m.cert_expiry !== undefined) round.cert_expiry = m.cert_expiry;
  return round;
}

/** Loss of a round in percent of pings sent (100 when nothing was sent). */
export function lossPct(r: Pick<Round, 'sent' | 'loss'>): number {
  return r.sent === 0 ? 100 : (100 * r.loss) / r.sent;
}
