import type Database from 'better-sqlite3';
import { fromRow, seal, toRow, type BucketRow } from './bucket.ts';
import { addToPacks, deleteBucketsBelow, statementCache, type Prepare } from './tier-rows.ts';
import type { Tier } from './tiers.ts';

/** Buckets are sealed in batches of this span (a day), see Retention.sealRange. */
const SEAL_BATCH_MS = 86_400_000;
/** Free pages always kept in the file (at least; or 1 % of it). */
const FREE_RESERVE_PAGES = 64;

/**
 * Retention and sealing, done a few series at a time so that writes are never held up for
 * long: a pass walks the series in id order, each series in its own short transaction, and
 * stops when its time budget is used; the next call resumes where it stopped.
 * Per series it deletes raw rounds older than raw retention, buckets older than their tier's
 * retention, and seals buckets that ended before the raw horizon (no round can reach them).
 */
export class Retention {
  private cursor = 0;
  /** A pass is done but free pages are still being returned. */
  private returning = false;
  private pass: { rawCut: number; tiers: Array<{ tier: Tier; deleteBelow: number; sealBelow: number }> } | null = null;
  private readonly prep: Prepare;

  constructor(
    private readonly db: Database.Database,
    private readonly tiers: readonly Tier[],
    private readonly rawKeepMs: number,
    private readonly now: () => number,
    /** Told about every bucket sealed, so that a cached open copy is dropped. */
    private readonly onSealed: (tier: Tier, series: number, b: number) => void,
    /** Told, for every series and tier, the bucket index below which retention deleted its buckets. */
    private readonly onDeleted: (tier: Tier, series: number, belowB: number) => void = () => {},
  ) {
    this.prep = statementCache(db);
  }

  /** Works for about `budgetMs`; returns true when the pass is not finished. */
  step(budgetMs: number): boolean {
    const started = performance.now();
    if (this.returning) return (this.returning = this.returnFreePages(started, budgetMs));
    if (!this.pass) this.startPass();
    const pass = this.pass!;
    const nextSeries = this.db.prepare('SELECT id FROM series WHERE id > ? ORDER BY id LIMIT 64');
    for (;;) {
      const ids = nextSeries.all(this.cursor) as Array<{ id: number }>;
      if (ids.length === 0) break;
      for (const { id } of ids) {
        this.series(id, pass);
        this.cursor = id;
        if (performance.now() - started >= budgetMs) return true;
      }
    }
    const done = this.db.prepare('UPDATE tiers SET sealed_below = max(sealed_below, ?) WHERE bucket = ?');
    this.db.transaction(() => { for (const t of pass.tiers) done.run(t.sealBelow, t.tier.bucket); })();
    this.pass = null;
    this.cursor = 0;
    return (this.returning = this.returnFreePages(started, budgetMs));
  }

  /**
   * Hands free pages beyond a small reserve back to the file system (the file is in
   * `auto_vacuum = INCREMENTAL`), a chunk at a time within the budget; true when some are left.
   * The reserve is what the next minute's rounds would take straight back.
   */
  private returnFreePages(started: number, budgetMs: number): boolean {
    const reserve = Math.max(FREE_RESERVE_PAGES, Math.floor((this.db.pragma('page_count', { simple: true }) as number) / 100));
    for (;;) {
      const excess = (this.db.pragma('freelist_count', { simple: true }) as number) - reserve;
      if (excess <= 0) return false;
      if (performance.now() - started >= budgetMs) return true;
      this.db.pragma(`incremental_vacuum(${Math.min(excess, 256)})`);
    }
  }

  private startPass(): void {
    const now = this.now();
    const rawCut = now - this.rawKeepMs;
    this.pass = {
      rawCut,
      tiers: this.tiers.map((tier) => ({
        tier,
        deleteBelow: Math.floor((now - tier.keepMs) / tier.ms),
        // Buckets below this index ended at or before the raw horizon; sealed a day's worth at
        // a time (see sealRange).
        sealBelow: alignDown(Math.floor(rawCut / tier.ms), Math.max(1, Math.floor(SEAL_BATCH_MS / tier.ms))),
      })),
    };
  }

  private series(id: number, pass: NonNullable<Retention['pass']>): void {
    const delRaw = this.db.prepare('DELETE FROM raw WHERE series = @id AND time IN (SELECT time FROM raw WHERE series = @id AND time < @cut LIMIT 5000)');
    for (;;) {
      // Chunks keep one transaction short even after a long retention cut.
      if (this.db.transaction(() => delRaw.run({ id, cut: pass.rawCut }).changes)() < 5000) break;
    }
    this.db.transaction(() => {
      for (const t of pass.tiers) {
        deleteBucketsBelow(this.prep, t.tier, id, t.deleteBelow);
        this.sealRange(t.tier, id, t.sealBelow);
      }
    })();
    for (const t of pass.tiers) this.onDeleted(t.tier, id, t.deleteBelow);
  }

  /**
   * Seals the series' open buckets below index `below` (every one of them: also a bucket a
   * late round reopened, or one a raised raw_days left open) and moves them into its packs
   * (src/store/packs.ts): a day's worth at a time, as sealBelow advances by days.
   */
  private sealRange(tier: Tier, id: number, below: number): void {
    const rows = this.prep(`SELECT * FROM ${tier.table} WHERE series = ? AND b < ? ORDER BY b`).all(id, below) as Array<BucketRow & { b: number }>;
    if (rows.length === 0) return;
    const sealed = rows.map((row) => {
      const state = fromRow(row);
      seal(state);
      return { ...toRow(state), b: row.b };
    });
    addToPacks(this.prep, tier, id, sealed);
    this.prep(`DELETE FROM ${tier.table} WHERE series = ? AND b < ?`).run(id, below);
    for (const row of rows) this.onSealed(tier, id, row.b);
  }
}

function alignDown(v: number, unit: number): number {
  return Math.floor(v / unit) * unit;
}
