/**
 * Retention of the cluster's shared alert history (`smokemesh_alert_events` and
 * `smokemesh_alert_deliveries`, alerts.history_days): applied soon after the start and every
 * hour by the server that sweeps (the first of the live set), in bounded batches, each its own
 * short transaction. Deleting is idempotent: two servers running it at once (views of the live
 * set disagree for a moment) delete nothing twice.
 */
import type { Logger } from 'pino';
import type { ClusterDb } from './postgres.ts';
import { pruneHistoryBatch } from './tasks-pg.ts';

const FIRST_MS = 15_000;
const EVERY_MS = 3600_000;

/** Deletes the shared history older than `cutoff` (ms), batch after batch; returns the rows deleted. */
export async function pruneSharedHistory(db: ClusterDb, cutoff: number): Promise<number> {
  let total = 0;
  for (let n = -1; n !== 0;) total += n = await db.transaction('pruning the shared alert history', (c) => pruneHistoryBatch(c, cutoff));
  return total;
}

export class HistoryRetention {
  private timers: NodeJS.Timeout[] = [];
  private busy = false;

  /** `days`: alerts.history_days now; `sweeper`: whether this server applies it now. */
  constructor(private readonly opts: { db: ClusterDb; days: () => number; sweeper: () => boolean; log: Logger }) {}

  start(): void {
    this.timers.push(setTimeout(() => void this.run(), FIRST_MS), setInterval(() => void this.run(), EVERY_MS));
    for (const t of this.timers) t.unref();
  }

  async run(): Promise<void> {
    if (this.busy || !this.opts.sweeper()) return;
    this.busy = true;
    try {
      const n = await pruneSharedHistory(this.opts.db, Date.now() - this.opts.days() * 86_400_000);
      if (n) this.opts.log.info({ rows: n }, 'old shared alert history pruned (alerts.history_days)');
    } catch (e) {
      this.opts.log.error({ err: e }, `could not prune the shared alert history: ${(e as Error).message}`);
    } finally {
      this.busy = false;
    }
  }

  stop(): void {
    for (const t of this.timers) clearTimeout(t);
  }
}
