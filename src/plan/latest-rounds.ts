import type { Round } from '../probes/round.ts';

/** Rounds older than this many of their steps are dropped (as the export state forgets series). */
export const KEEP_STEPS = 10;
/** The held rounds are swept for old ones at most this often, from add() (a view nobody reads stays bounded too). */
const SWEEP_MS = 60_000;

/**
 * The latest round of every series (target × agent) that reported lately, from wherever
 * rounds come: this server's ingest, or another server of its cluster through the shared
 * series index. A round replaces the one held for its series when it is newer (a round of the
 * same time is the same round, sent again or shared back: the one held stays, so this
 * server's own rounds stay the objects its export state holds too);
 * rounds older than `keepSteps` of their own steps are not kept, so what is held is bounded
 * by the series that had a round in that window. What the region view of a cluster's server reads.
 */
export class LatestRounds {
  private readonly held = new Map<string, Round>();
  private swept = -Infinity;

  constructor(private readonly keepSteps = KEEP_STEPS) {}

  /** Takes the rounds that are newer than the one held for their series; returns how many it took. */
  add(rounds: Iterable<Round>, now: number): number {
    if (now - this.swept >= SWEEP_MS) this.prune(now);
    let n = 0;
    for (const r of rounds) {
      if (this.old(r, now)) continue;
      const key = `${r.target}\0${r.agent}`;
      const had = this.held.get(key);
      if (had && had.time >= r.time) continue;
      this.held.set(key, r);
      n++;
    }
    return n;
  }

  /** Forgets series whose latest round is older than `keepSteps` of its steps (removed targets, gone agents); returns how many. */
  prune(now: number): number {
    this.swept = now;
    let n = 0;
    for (const [k, r] of this.held) {
      if (!this.old(r, now)) continue;
      this.held.delete(k);
      n++;
    }
    return n;
  }

  /** The latest round of each series held, in no particular order. */
  values(): IterableIterator<Round> {
    return this.held.values();
  }

  /** Series held. */
  get size(): number {
    return this.held.size;
  }

  private old(r: Round, now: number): boolean {
    return now - r.time > this.keepSteps * r.step * 1000;
  }
}
