/**
 * The latest round of every series of the localization scopes, kept as the engine reads it:
 * one small record per series (its key, the target and agent names shared between series,
 * time, step, pings sent and lost, median), updated in place by each newer round — not the
 * whole round with its RTT list and its own copies of the names. A step is given these
 * records themselves (their labels filled in for its scope), so it allocates no object per
 * series: at 100,000 series the server keeps a few megabytes here, and a step leaves no
 * garbage per series behind to grow the heap.
 */
import type { Round } from '../probes/round.ts';
import { seriesKey, type SeriesInput } from './types.ts';

const NO_LABELS: Readonly<Record<string, string>> = Object.freeze({});

export class LatestRounds {
  private bySeries = new Map<string, SeriesInput>();
  /** One copy of each target and agent name (every round arrives with its own). */
  private names = new Map<string, string>();

  get size(): number {
    return this.bySeries.size;
  }

  /** Keeps `r` when it is the series' first round or newer than the one kept. */
  write(r: Pick<Round, 'target' | 'agent' | 'time' | 'step' | 'sent' | 'loss' | 'median'>): void {
    const key = seriesKey(r.target, r.agent);
    const cur = this.bySeries.get(key);
    if (!cur) {
      this.bySeries.set(key, {
        target: this.name(r.target), agent: this.name(r.agent), key,
        targetLabels: NO_LABELS, agentLabels: NO_LABELS, agentRegion: '',
        time: r.time, step: r.step, sent: r.sent, lost: r.loss, median: r.median,
      });
      return;
    }
    if (r.time < cur.time) return;
    cur.time = r.time;
    cur.step = r.step;
    cur.sent = r.sent;
    cur.lost = r.loss;
    cur.median = r.median;
  }

  /** Every record kept (their labels are those the last `labelled` call gave them). */
  values(): IterableIterator<SeriesInput> {
    return this.bySeries.values();
  }

  /** Forgets the series whose target `keep` rejects. */
  retain(keep: (target: string) => boolean): void {
    for (const [k, s] of this.bySeries) if (!keep(s.target)) this.bySeries.delete(k);
    this.names.clear();
    for (const s of this.bySeries.values()) {
      this.names.set(s.target, s.target);
      this.names.set(s.agent, s.agent);
    }
  }

  private name(s: string): string {
    const kept = this.names.get(s);
    if (kept !== undefined) return kept;
    this.names.set(s, s);
    return s;
  }
}

/** Sets the labels a scope reads on a record (in place) and returns it. */
export function labelled(s: SeriesInput, targetLabels: Readonly<Record<string, string>>, agentLabels: Readonly<Record<string, string>>, agentRegion: string): SeriesInput {
  s.targetLabels = targetLabels;
  s.agentLabels = agentLabels;
  s.agentRegion = agentRegion;
  return s;
}
