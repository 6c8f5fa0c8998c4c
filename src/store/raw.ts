import { smokepingMedian, toMicros, type ProbeType, type Round } from '../probes/round.ts';
import { unpackAscending } from './codec.ts';
import type { SeriesPoint } from './types.ts';

/** A raw round as stored: one row per (series, time). */
export interface RawRow {
  time: number;
  step: number;
  sent: number;
  rtts: Buffer | null;
  extra: string | null;
}

/** What a series row says about its target. */
export interface SeriesRow {
  id: number;
  target: string;
  agent: string;
  probe: string;
  step: number;
  first: number;
  last: number;
}

interface RoundExtra {
  phases?: Record<string, number>;
  status?: number;
  error?: string;
  cert_expiry?: number;
}

/** The JSON `extra` column of a round: phases, status, error, certificate expiry; null when none. */
export function rawExtra(r: Round): string | null {
  if (!r.phases && r.status === undefined && r.error === undefined && r.cert_expiry === undefined) return null;
  const x: RoundExtra = {};
  if (r.phases) x.phases = r.phases;
  if (r.status !== undefined) x.status = r.status;
  if (r.error !== undefined) x.error = r.error;
  if (r.cert_expiry !== undefined) x.cert_expiry = r.cert_expiry;
  return JSON.stringify(x);
}

/** Rebuilds the round (derived statistics as makeRound computes them). */
export function roundFromRaw(s: Pick<SeriesRow, 'target' | 'agent' | 'probe'>, row: RawRow): Round {
  const rtts = unpackAscending(row.rtts);
  const st = stats(rtts);
  const round: Round = {
    target: s.target,
    agent: s.agent,
    probe: s.probe as ProbeType,
    time: row.time,
    step: row.step,
    sent: row.sent,
    rtts,
    loss: Math.max(0, row.sent - rtts.length),
    median: smokepingMedian(rtts),
    mean: st.mean,
    stddev: st.stddev,
    min: rtts.length ? rtts[0]! : null,
    max: rtts.length ? rtts[rtts.length - 1]! : null,
  };
  if (row.extra) Object.assign(round, JSON.parse(row.extra) as RoundExtra);
  return round;
}

/** A raw round as a series point: its smoke is the RTTs themselves. */
export function pointFromRaw(row: RawRow): SeriesPoint {
  const rtts = unpackAscending(row.rtts);
  const st = stats(rtts);
  const lost = Math.max(0, row.sent - rtts.length);
  const point: SeriesPoint = {
    time: row.time,
    rounds: 1,
    sent: row.sent,
    lost,
    loss_pct: row.sent > 0 ? (100 * lost) / row.sent : null,
    median: smokepingMedian(rtts),
    mean: st.mean,
    min: rtts.length ? rtts[0]! : null,
    max: rtts.length ? rtts[rtts.length - 1]! : null,
    stddev: st.stddev,
    smoke: rtts,
  };
  if (row.extra) {
    const x = JSON.parse(row.extra) as RoundExtra;
    if (x.phases) point.phases = x.phases;
    if (x.status !== undefined) point.status = x.status;
    if (x.error !== undefined) point.error = x.error;
  }
  return point;
}

function stats(rtts: number[]): { mean: number | null; stddev: number | null } {
  const n = rtts.length;
  if (n === 0) return { mean: null, stddev: null };
  let sum = 0;
  for (const v of rtts) sum += v;
  const mean = sum / n;
  let m2 = 0;
  for (const v of rtts) m2 += (v - mean) * (v - mean);
  return { mean: toMicros(mean), stddev: toMicros(Math.sqrt(m2 / n)) };
}
