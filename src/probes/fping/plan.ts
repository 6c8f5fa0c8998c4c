/**
 * How one ICMP round is cut into fping processes (shards) and what each one is told.
 * Pure functions; see docs/probes/icmp.md for the reasoning behind the numbers.
 */
import type { IcmpParams } from '../params.ts';
import { socketArgs, type SocketKind } from './socket.ts';

/** Limits of the shard planner. */
export interface ShardLimits {
  /** Most fping processes run at once for one batch. */
  maxShards: number;
  /** Most targets in one fping process (10,000 IPv6 addresses are 400 kB of argv, ARG_MAX is 2 MB or more). */
  maxShardSize: number;
  /** Ping sockets: part of `interval` one sweep over a shard may take; the rest absorbs an fping running late. */
  sweepFraction: number;
  /** Raw sockets only: part of the step a round may take before a process is added. */
  stepFraction: number;
}

export const DEFAULT_SHARD_LIMITS: ShardLimits = { maxShards: 16, maxShardSize: 10000, sweepFraction: 0.25, stepFraction: 0.4 };

type Timing = Pick<IcmpParams, 'pings' | 'interval' | 'mininterval' | 'timeout'> & { step?: number };

/**
 * Expected wall time (ms) of one fping -C run over `size` targets: fping sends one packet
 * every `mininterval` ms across all its targets and pings one target at most every
 * `interval` ms, so a sweep takes max(size × mininterval, interval); after the last sweep
 * it waits up to `timeout` for the last replies.
 */
export function estimateShardMs(size: number, p: Timing): number {
  if (size <= 0) return 0;
  const sweep = Math.max(size * p.mininterval, p.interval);
  return (p.pings - 1) * sweep + size * p.mininterval + p.timeout;
}

/**
 * Splits `n` targets into fping processes; returns their sizes (differing by at most one).
 *
 * - `ping` sockets: processes do not see each other's replies, so a round costs the same CPU
 *   in one process or many. Enough processes that each sweeps its targets at `mininterval`
 *   within `sweepFraction` of `interval`: the round then lasts pings × interval, as for one
 *   target, even when a busy machine slows fping down.
 * - `raw` sockets: every process reads every ICMP packet of the host, so the fewest whose
 *   round fits in `stepFraction` of the step.
 *
 * At most `maxShards` processes; when even they do not fit, the round runs longer than planned.
 */
export function planShards(n: number, p: Timing, kind: SocketKind, limits: ShardLimits = DEFAULT_SHARD_LIMITS): number[] {
  if (n <= 0) return [];
  let count: number;
  if (kind === 'ping') {
    const perShard = Math.floor((p.interval * limits.sweepFraction) / p.mininterval);
    count = Math.ceil(n / Math.max(1, Math.min(limits.maxShardSize, perShard)));
  } else {
    const budgetMs = (p.step ?? 60) * 1000 * limits.stepFraction;
    count = Math.ceil(n / limits.maxShardSize);
    while (count < limits.maxShards && count < n && estimateShardMs(Math.ceil(n / count), p) > budgetMs) count++;
  }
  count = Math.max(1, Math.min(count, limits.maxShards, n));
  const base = Math.floor(n / count);
  const extra = n % count;
  return Array.from({ length: count }, (_, i) => base + (i < extra ? 1 : 0));
}

/** Formats a number of ms for fping's command line (it takes fractions for -i/-p). */
function ms(v: number): string {
  return Number.isInteger(v) ? String(v) : String(Math.round(v * 1000) / 1000);
}

/**
 * fping's argv (without the program) for one shard: SmokePing's FPing command line,
 * `-C <pings> -q -i <mininterval> -p <interval> -t <timeout> -b <size> [-O tos] [-S src]`,
 * then the addresses. `-B1 -r1` are left out: retries and backoff do not apply to -C. Ping
 * sockets get their `-S` binds (see socket.ts). Addresses must be IP literals (callers
 * resolve names), so no argument can start with '-'.
 */
export function fpingArgs(p: IcmpParams, addresses: readonly string[], kind: SocketKind = 'raw'): string[] {
  const args = ['-C', String(p.pings), '-q', '-i', ms(p.mininterval), '-p', ms(p.interval), '-t', ms(p.timeout), '-b', String(p.packet_size)];
  if (p.tos) args.push('-O', String(p.tos));
  return [...args, ...socketArgs(kind, p.source), ...addresses];
}
