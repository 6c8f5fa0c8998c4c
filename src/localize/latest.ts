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
  /** target → agent → record (two lookups instead of building the series key of every round). */
  private byTarget = new Map<string, Map<string, SeriesInput>>();
  /** One copy of each agent name (every round arrives with its own). */
  private agents = new Map<string, string>();

  /** Keeps `r` when it is the series' first round or newer than the one kept. */
  write(r: Pick<Round, 'target' | 'agent' | 'time' | 'step' | 'sent' | 'loss' | 'median'>): void {
    let ofTarget = this.byTarget.get(r.target);
    if (!ofTarget) this.byTarget.set(r.target, (ofTarget = new Map()));
    const cur = ofTarget.get(r.agent);
    if (!cur) {
      let agent = this.agents.get(r.agent);
      if (agent === undefined) this.agents.set(r.agent, (agent = r.agent));
      ofTarget.set(agent, {
        target: r.target, agent, key: seriesKey(r.target, agent),
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
  *values(): IterableIterator<SeriesInput> {
    for (const ofTarget of this.byTarget.values()) yield* ofTarget.values();
  }

  /** Forgets the series whose target `keep` rejects. */
  retain(keep: (target: string) => boolean): void {
    for (const target of this.byTarget.keys()) if (!keep(target)) this.byTarget.delete(target);
    this.agents.clear();
    for (const ofTarget of this.byTarget.values()) for (const agent of ofTarget.keys()) this.agents.set(agent, agent);
  }
}

/** Sets the labels a scope reads on a record (in place) and returns it. */
export function labelled(s: SeriesInput, targetLabels: Readonly<Record<string, string>>, agentLabels: Readonly<Record<string, string>>, agentRegion: string): SeriesInput {
  s.targetLabels = targetLabels;
  s.agentLabels = agentLabels;
  s.agentRegion = agentRegion;
  return s;
}
