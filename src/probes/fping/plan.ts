/**
 * How one ICMP round is cut into fping processes (shards) and what each one is told.
 * Pure functions; see docs/probes/icmp.md for the reasoning behind the numbers.
 */
import type { IcmpParams } from '../params.ts';

/** Limits of the shard planner. */
export interface ShardLimits {
  /** Most fping processes run at once for one batch. */
  maxShards: number;
  /** Most targets in one fping process (keeps argv well under ARG_MAX). */
  maxShardSize: number;
  /** Part of the step a round may take; the rest is slack for start-up and late rounds. */
  stepFraction: number;
}

export const DEFAULT_SHARD_LIMITS: ShardLimits = { maxShards: 16, maxShardSize: 4000, stepFraction: 0.4 };

type Timing = Pick<IcmpParams, 'pings' | 'interval' | 'mininterval' | 'timeout'>;

/**
 * Expected wall time (ms) of one fping -C run over `size` targets: fping sends one
 * packet every `mininterval` ms across all its targets and pings one target at most every
 * `interval` ms, so a sweep takes max(size × mininterval, interval); after the last sweep
 * it waits up to `timeout` for the last replies.
 */
export function estimateShardMs(size: number, p: Timing): number {
  if (size <= 0) return 0;
  const sweep = Math.max(size * p.mininterval, p.interval);
  return (p.pings - 1) * sweep + size * p.mininterval + p.timeout;
}

/**
 * Splits `n` targets into the fewest shards whose estimated run fits in
 * `stepFraction` of the step. Fewest, because every fping process holds a raw ICMP
 * socket that sees every ICMP packet of the host: more processes cost more CPU.
 * Returns the shard sizes (differing by at most one), at most `maxShards` of them; when
 * even that does not fit, the round simply runs longer than planned.
 */
export function planShards(n: number, p: Timing & { step?: number }, limits: ShardLimits = DEFAULT_SHARD_LIMITS): number[] {
  if (n <= 0) return [];
  const budgetMs = (p.step ?? 60) * 1000 * limits.stepFraction;
  let count = Math.max(1, Math.ceil(n / limits.maxShardSize));
  while (count < limits.maxShards && count < n && estimateShardMs(Math.ceil(n / count), p) > budgetMs) count++;
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
 * then the addresses. `-B1 -r1` are left out: retries and backoff do not apply to -C.
 * Addresses must be IP literals (callers resolve names), so no argument can start with '-'.
 */
export function fpingArgs(p: IcmpParams, addresses: readonly string[]): string[] {
  const args = ['-C', String(p.pings), '-q', '-i', ms(p.mininterval), '-p', ms(p.interval), '-t', ms(p.timeout), '-b', String(p.packet_size)];
  if (p.tos) args.push('-O', String(p.tos));
  if (p.source) args.push('-S', p.source);
  return [...args, ...addresses];
}
