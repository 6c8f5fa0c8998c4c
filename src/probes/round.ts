import Type, { type Static } from 'typebox';
import { NullableNumber } from '../schema.ts';

/** The probe kinds smokemesh knows; each has one file in src/probes/. */
export const PROBE_TYPES = ['icmp', 'tcp', 'dns', 'http'] as const;
export type ProbeType = (typeof PROBE_TYPES)[number];

/** HTTP phase names (blackbox_exporter's), each in milliseconds. */
export const HTTP_PHASES = ['resolve', 'connect', 'tls', 'processing', 'transfer'] as const;
export type HttpPhase = (typeof HTTP_PHASES)[number];

/**
 * Upper bounds of a round: what an agent may send and the store will keep. A config cannot ask
 * for more (general.pings and general.step share MAX_PINGS and MAX_STEP), so anything beyond is
 * a broken or hostile agent. Docs: docs/agents.md (What is refused).
 */
export const ROUND_LIMITS = {
  /** Most pings per round: general.pings' maximum; `sent` and the RTT count stay within it. */
  pings: 1000,
  /** Longest step, s: general.step's maximum (one day). */
  step: 86_400,
  /** Longest RTT or phase, ms (one hour: no probe waits that long). */
  ms: 3_600_000,
  /** Longest error text, characters (longer ones are cut by makeRound with "…"). */
  text: 512,
  /** Longest target path and agent name. */
  path: 1024,
  name: 128,
  /** Most phase keys, and longest phase name. */
  phases: 16,
  phaseName: 32,
  /** Largest status code (HTTP status, DNS rcode). */
  status: 65_535,
  /** Latest certificate expiry, s since the epoch (the year 9999). */
  certExpiry: 253_402_300_799,
} as const;
export const MAX_PINGS = ROUND_LIMITS.pings;
export const MAX_STEP = ROUND_LIMITS.step;

const Ms = Type.Number({ minimum: 0, maximum: ROUND_LIMITS.ms });
const StatMs = NullableNumber({ minimum: 0, maximum: ROUND_LIMITS.ms });

/**
 * One round: one measurement of one target by one agent at one time.
 * This schema is the wire format between agents and the server and the unit the store,
 * the alert engine and the exporters consume. Times are ms since the epoch; RTTs are ms
 * with µs precision (3 decimals), sorted ascending.
 */
export const RoundSchema = Type.Object({
  target: Type.String({ minLength: 2, maxLength: ROUND_LIMITS.path, pattern: '^/', description: 'target path, e.g. /Group/host' }),
  agent: Type.String({ minLength: 1, maxLength: ROUND_LIMITS.name }),
  probe: Type.Enum(PROBE_TYPES),
  time: Type.Integer({ minimum: 0, maximum: 8_640_000_000_000_000, description: 'round start, ms since the epoch' }),
  step: Type.Integer({ minimum: 1, maximum: ROUND_LIMITS.step, description: 'seconds between rounds of this target' }),
  sent: Type.Integer({ minimum: 0, maximum: ROUND_LIMITS.pings, description: 'pings sent (at most general.pings\' maximum)' }),
  rtts: Type.Array(Ms, { maxItems: ROUND_LIMITS.pings, description: 'received RTTs in ms, sorted ascending, at most `sent`' }),
  loss: Type.Integer({ minimum: 0, maximum: ROUND_LIMITS.pings, description: 'pings lost (sent - received)' }),
  median: StatMs,
  mean: StatMs,
  stddev: StatMs,
  min: StatMs,
  max: StatMs,
  phases: Type.Optional(Type.Record(Type.String(), Ms, {
    maxProperties: ROUND_LIMITS.phases,
    propertyNames: { minLength: 1, maxLength: ROUND_LIMITS.phaseName },
    description: 'HTTP/DNS phases, mean over successful attempts',
  })),
  status: Type.Optional(Type.Integer({ minimum: 0, maximum: ROUND_LIMITS.status, description: 'HTTP status code or DNS rcode of the last answer' })),
  error: Type.Optional(Type.String({ maxLength: ROUND_LIMITS.text, description: 'why the last failed attempt failed' })),
  cert_expiry: Type.Optional(Type.Integer({ minimum: 0, maximum: ROUND_LIMITS.certExpiry, description: 'earliest certificate expiry of the chain, s since the epoch' })),
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
  if (m.error !== undefined) round.error = clipText(m.error);
  if (m.cert_expiry !== undefined) round.cert_expiry = m.cert_expiry;
  return round;
}

/** Cuts a text to ROUND_LIMITS.text characters (a probe's error can quote a long answer). */
export function clipText(text: string): string {
  return text.length <= ROUND_LIMITS.text ? text : text.slice(0, ROUND_LIMITS.text - 1) + '…';
}

/** Loss of a round in percent of pings sent (100 when nothing was sent). */
export function lossPct(r: Pick<Round, 'sent' | 'loss'>): number {
  return r.sent === 0 ? 100 : (100 * r.loss) / r.sent;
}

/** The key of a series (target × agent) in maps and hashes: the two names joined by a NUL (which neither can hold). */
export function seriesKey(target: string, agent: string): string {
  return `${target}\u0000${agent}`;
}
