import type { Round } from '../probes/round.ts';
import { aggregateRegions, type RegionSnapshot } from './region.ts';

/** What the region view reads; asked at every recomputation. */
export interface RegionSources {
  /** The latest round of every series. */
  latest(): Iterable<Round>;
  /** Live agents and their regions. */
  agentRegions(): ReadonlyMap<string, string>;
  /** The region label of a target, or undefined. */
  targetRegion(target: string): string | undefined;
  /** How long a snapshot stays current (ms): ProberMesh's aggregation interval. */
  intervalMs(): number;
}

/**
 * The region aggregates as the server shows them: recomputed at most once per interval,
 * with per-target cells only for the probes /metrics shows them for (HTTP, DNS); the pair
 * view builds its own per-target cells on demand.
 */
export class RegionView {
  private cached: RegionSnapshot | undefined;
  /** Seconds the last recomputation took (exported on /metrics). */
  lastSeconds: number | undefined;

  constructor(private readonly src: RegionSources) {}

  snapshot(now = Date.now()): RegionSnapshot {
    if (this.cached && now - this.cached.time < this.src.intervalMs()) return this.cached;
    const t0 = performance.now();
    this.cached = aggregateRegions({
      rounds: this.src.latest(), agents: this.src.agentRegions(), targetRegion: (t) => this.src.targetRegion(t), now,
      withTargets: (probe) => probe === 'http' || probe === 'dns',
    });
    this.lastSeconds = (performance.now() - t0) / 1000;
    return this.cached;
  }

  /** One pair with every per-target cell, from the latest rounds of that pair only. */
  pairDetail(probe: string, source: string, target: string, now = Date.now()): RegionSnapshot {
    const agents = this.src.agentRegions();
    const rounds = [...this.src.latest()].filter((r) => r.probe === probe && agents.get(r.agent) === source && this.src.targetRegion(r.target) === target);
    return aggregateRegions({ rounds, agents, targetRegion: (t) => this.src.targetRegion(t), now });
  }

  /** Forgets the snapshot (the membership or the tree changed). */
  invalidate(): void {
    this.cached = undefined;
  }
}
