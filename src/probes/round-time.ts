/**
 * How long one round of one target takes, per probe type, from its resolved parameters:
 * what the config check needs to tell whether a round fits its step. Pure; the numbers
 * follow what the probes do (src/probes/fping/plan.ts for icmp, net-round.ts for the rest).
 */
import { estimateShardMs } from './fping/plan.ts';
import { attemptInterval } from './net-round.ts';
import type { ProbeType } from './round.ts';

export interface RoundTime {
  /** ms when every attempt is answered at once. */
  answered: number;
  /** ms when no attempt is answered: each one waits its full timeout. */
  unanswered: number;
  /** ms between attempt starts (icmp: fping's per-target interval). */
  interval: number;
}

/** The duration of one round of one target (alone in its fping process, for icmp). */
export function roundTime(type: ProbeType, p: Record<string, unknown> & { pings: number; timeout: number; step: number }): RoundTime {
  if (type === 'icmp') {
    const timing = { pings: p.pings, timeout: p.timeout, interval: Number(p.interval ?? 1000), mininterval: Number(p.mininterval ?? 0.2) };
    // fping pings a target every `interval` ms, then waits `timeout` for the last reply.
    const unanswered = estimateShardMs(1, timing);
    return { answered: unanswered - timing.timeout, unanswered, interval: timing.interval };
  }
  // tcp, dns, http: attempts run one after another, attempt i starts no earlier than i × interval.
  const interval = attemptInterval({ pings: p.pings, timeout: p.timeout, step: p.step, ...(p.interval !== undefined ? { interval: Number(p.interval) } : {}) });
  return {
    answered: (p.pings - 1) * interval,
    unanswered: (p.pings - 1) * Math.max(interval, p.timeout) + p.timeout,
    interval,
  };
}
