import Type, { type Static } from 'typebox';
import { lossPct, makeRound, type Measurement } from '../probes/round.ts';
import { NullableNumber } from '../schema.ts';

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
