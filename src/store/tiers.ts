import type { StoreConfig } from '../config/schema.ts';
import { packTable, tierTable } from './migrations.ts';
import { packBuckets } from './packs.ts';

const DAY_MS = 86_400_000;

/** A rollup tier as the store uses it. */
export interface Tier {
  /** '5m', '1h', '1d', '12h'… */
  name: string;
  /** Seconds per bucket. */
  bucket: number;
  /** ms per bucket. */
  ms: number;
  /** Retention in ms. */
  keepMs: number;
  /** Table of its open buckets. */
  table: string;
  /** Table of its sealed buckets, packed (src/store/packs.ts). */
  packTable: string;
  /** Buckets per pack. */
  pack: number;
}

/** The configured tiers, finest first; duplicates refused. */
export function tiersOf(cfg: Pick<StoreConfig, 'tiers'>): Tier[] {
  const tiers = [...cfg.tiers].sort((a, b) => a.bucket - b.bucket).map((t) => ({
    name: durationName(t.bucket),
    bucket: t.bucket,
    ms: t.bucket * 1000,
    keepMs: t.keep_days * DAY_MS,
    table: tierTable(t.bucket),
    packTable: packTable(t.bucket),
    pack: packBuckets(t.bucket),
  }));
  for (let i = 1; i < tiers.length; i++) {
    if (tiers[i]!.bucket === tiers[i - 1]!.bucket) throw new Error(`store.tiers: bucket ${tiers[i]!.bucket} s is listed twice`);
  }
  return tiers;
}

/** Raw retention in ms. */
export function rawKeepMs(cfg: Pick<StoreConfig, 'raw_days'>): number {
  return cfg.raw_days * DAY_MS;
}

/** 300 → '5m', 3600 → '1h', 43200 → '12h', 86400 → '1d', 90 → '90s'. */
export function durationName(seconds: number): string {
  if (seconds % 86400 === 0) return `${seconds / 86400}d`;
  if (seconds % 3600 === 0) return `${seconds / 3600}h`;
  if (seconds % 60 === 0) return `${seconds / 60}m`;
  return `${seconds}s`;
}
