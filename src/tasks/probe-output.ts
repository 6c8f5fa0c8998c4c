import { lossPct, makeRound, type Measurement } from '../probes/round.ts';
import type { AttemptsOutput } from './outputs.ts';


/** A probe's measurement as a task's output (statistics by the round's own rules). */
export function attemptsOutput(m: Measurement): AttemptsOutput {
  const r = makeRound({ target: '/', agent: '-', probe: 'icmp', time: 0, step: 1 }, m);
  const out: AttemptsOutput = {
    sent: r.sent, received: r.rtts.length, loss_pct: Math.round(lossPct(r) * 10) / 10,
    rtts_ms: m.rtts.map((v) => Math.round(v * 1000) / 1000),
    min_ms: r.min, median_ms: r.median, mean_ms: r.mean, max_ms: r.max, stddev_ms: r.stddev,
  };
  if (m.error !== undefined) out.error = m.error;
  return out;
}
