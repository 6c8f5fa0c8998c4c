import { makeRound, type Round } from '../../src/probes/round.ts';

/** A small deterministic PRNG (mulberry32), so synthetic history is the same every run. */
import { prng } from '../fixtures/prng.ts';

export { prng };

export interface SyntheticSpec {
  target: string;
  agent: string;
  from: number;
  to: number;
  step: number;
  pings: number;
  /** Typical RTT in ms. */
  base: number;
  /** Chance that one ping is lost (0..1). */
  lossRate?: number;
  seed?: number;
  probe?: Round['probe'];
}

/**
 * Rounds of a made-up path: a daily wave around `base`, log-normal-ish jitter, and
 * independent ping loss. Only for filling a store to develop and benchmark the UI against.
 */
export function* syntheticRounds(s: SyntheticSpec): Generator<Round> {
  const rnd = prng(s.seed ?? 1);
  const stepMs = s.step * 1000;
  for (let t = Math.ceil(s.from / stepMs) * stepMs; t < s.to; t += stepMs) {
    const wave = 1 + 0.25 * Math.sin((2 * Math.PI * t) / 86_400_000);
    const rtts: number[] = [];
    for (let i = 0; i < s.pings; i++) {
      if (rnd() < (s.lossRate ?? 0)) continue;
      rtts.push(s.base * wave * (1 + 0.3 * -Math.log(1 - rnd() * 0.999)));
    }
    const m: Parameters<typeof makeRound>[1] = { sent: s.pings, rtts };
    if (s.probe === 'http') {
      // As the probe records it: a 503 is a failed attempt with its reason; lost attempts time out.
      if (rtts.length < s.pings) m.error = 'timeout after 10000 ms';
      if (rtts.length && rnd() < 0.05) {
        rtts.pop();
        m.error = 'status 503 not in valid_status_codes [2xx]';
      }
      if (rtts.length) {
        const total = rtts[0]!;
        m.phases = { resolve: total * 0.05, connect: total * 0.2, tls: total * 0.3, processing: total * 0.35, transfer: total * 0.1 };
        m.status = 200;
      }
    }
    yield makeRound({ target: s.target, agent: s.agent, probe: s.probe ?? 'icmp', time: t, step: s.step }, m);
  }
}
