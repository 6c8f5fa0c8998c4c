import { loadavg } from 'node:os';
import { makeRound, type Round } from '../src/probes/round.ts';

/** Deterministic pseudo-random numbers (mulberry32). */
export { prng as rng } from '../test/fixtures/prng.ts';

/**
 * A plausible round: base RTT per series, log-normal-ish jitter, 1 % of rounds with some loss,
 * µs precision as fping reports.
 */
export function syntheticRound(rand: () => number, target: string, time: number, step: number, pings: number, base: number): Round {
  const lost = rand() < 0.01 ? Math.floor(rand() * pings) : 0;
  const rtts = Array.from({ length: pings - lost }, () => base * (1 + 0.05 * rand()) + Math.exp(rand() * 1.5) - 1);
  return makeRound({ target, agent: 'bench', probe: 'icmp', time, step }, { sent: pings, rtts });
}

export function load(): string {
  return loadavg().map((v) => v.toFixed(2)).join(' ');
}
