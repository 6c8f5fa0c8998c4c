import type { RoundSink } from '../pipeline.ts';
import type { Round } from '../probes/round.ts';
import { labelString } from './exposition.ts';

/** RTT histogram bounds in seconds (0.5 ms … 5 s): LAN to intercontinental with loss timeouts. */
export const RTT_BOUNDS_S = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5] as const;

/** Cumulative RTT counts over the server's lifetime (a Prometheus histogram). */
export interface RttHistogram {
  counts: Float64Array;
  sum: number;
}

/** The latest round of one series, its rendered labels and its RTT histogram. */
export interface SeriesState {
  round: Round;
  /** `target="…",agent="…",probe="…"`, rendered once. */
  labels: string;
  hist: RttHistogram;
}

/**
 * What /metrics and the region aggregation read: the latest round of each series, RTT
 * histograms per series and per (probe, source region, target region), and rounds received
 * per probe type. Fed as a round sink; never throws for one bad round.
 */
export class ExportState implements RoundSink {
  readonly name = 'export';
  readonly series = new Map<string, SeriesState>();
  readonly regionHist = new Map<string, { probe: string; source: string; target: string; hist: RttHistogram }>();
  readonly receivePoints: Record<string, number> = {};

  /** `regionOf(agent)` and `targetRegion(target)` are read at write time (agents move regions rarely). */
  constructor(private readonly regionOf: (agent: string) => string | undefined, private readonly targetRegion: (target: string) => string | undefined) {}

  write(rounds: readonly Round[]): void {
    for (const r of rounds) {
      this.receivePoints[r.probe] = (this.receivePoints[r.probe] ?? 0) + 1;
      const key = `${r.target}\0${r.agent}`;
      let s = this.series.get(key);
      if (!s) this.series.set(key, (s = { round: r, labels: labelString({ target: r.target, agent: r.agent, probe: r.probe }).slice(1, -1), hist: newHist() }));
      if (r.time >= s.round.time) s.round = r;
      addRtts(s.hist, r.rtts);
      const source = this.regionOf(r.agent);
      const target = this.targetRegion(r.target);
      if (source === undefined || target === undefined) continue;
      const rk = `${r.probe}\0${source}\0${target}`;
      let h = this.regionHist.get(rk);
      if (!h) this.regionHist.set(rk, (h = { probe: r.probe, source, target, hist: newHist() }));
      addRtts(h.hist, r.rtts);
    }
  }

  /** The latest rounds, for the region aggregation. */
  *latest(): Generator<Round> {
    for (const s of this.series.values()) yield s.round;
  }

  /** Forgets series whose last round is older than `steps` of their steps (removed targets, gone agents). */
  prune(now: number, steps = 10): number {
    let n = 0;
    for (const [k, s] of this.series) {
      if (now - s.round.time > steps * s.round.step * 1000) {
        this.series.delete(k);
        n++;
      }
    }
    return n;
  }
}

function newHist(): RttHistogram {
  return { counts: new Float64Array(RTT_BOUNDS_S.length + 1), sum: 0 };
}

function addRtts(h: RttHistogram, rttsMs: readonly number[]): void {
  for (const ms of rttsMs) {
    const s = ms / 1000;
    h.sum += s;
    let i = 0;
    while (i < RTT_BOUNDS_S.length && s > RTT_BOUNDS_S[i]!) i++;
    h.counts[i]!++;
  }
}
