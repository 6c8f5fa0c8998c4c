/**
 * Every server of a cluster lists every series (docs/scale.md, "Several servers"): the series
 * index (first, last, latest round of each series; src/store/vm/outbox.ts) is filled on each
 * server only by the rounds it receives, so every `intervalMs` each server
 *  1. reads the rows the other servers changed since its cursor from the shared table
 *     (index-pg.ts) and merges them into its own index (rows only move forward), then
 *  2. upserts the rows its own rounds changed since its push cursor, a few thousand rows per
 *     statement, and merges back the rows as they stand in the shared table.
 * No statement per round: a sync costs a few statements whatever the rate. Both cursors are
 * kept in the local index's file with the rows they cover (one transaction), so a restart goes
 * on from where it was; when the shared table is recreated (a new epoch) both start over.
 */
import type { Logger } from 'pino';
import type { IndexRow } from '../store/vm/outbox.ts';
import type { ClusterDb } from './postgres.ts';

/** What the sync needs of the store (VmStore). */
export interface SharedIndexStore {
  indexChanges(cursor: number, limit: number): Array<IndexRow & { changed: number }>;
  mergeIndex(rows: readonly IndexRow[], meta?: Record<string, string>): number;
  indexMeta(k: string): string | undefined;
}

/** Rows per statement. */
const PAGE = 5000;
/** Pages each way per sync at most (the rest waits for the next sync). */
const MAX_PAGES = 20;

const K = { epoch: 'cluster.index.epoch', pulled: 'cluster.index.pulled', pushed: 'cluster.index.pushed' } as const;

export interface IndexSyncStats {
  /** Rows this server shared, and rows it took from the others, since start. */
  pushed: number;
  pulled: number;
  /** Duration of the last sync (ms). */
  last_ms: number;
}

export class IndexSync {
  private timer: NodeJS.Timeout | undefined;
  private busy: Promise<void> | undefined;
  private closed = false;
  private lastError: string | undefined;
  readonly stats: IndexSyncStats = { pushed: 0, pulled: 0, last_ms: 0 };

  constructor(private readonly opts: { db: Pick<ClusterDb, 'pushIndex' | 'pullIndex'>; store: SharedIndexStore; server: string; intervalMs: number; log: Logger }) {}

  start(): void {
    this.timer = setInterval(() => void this.sync(), this.opts.intervalMs);
    this.timer.unref();
    void this.sync();
  }

  /** One sync (skipped while the previous one runs); failures are logged and retried at the next. */
  sync(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.busy ??= this.once().catch((e) => {
      const msg = (e as Error).message;
      if (msg !== this.lastError) this.opts.log.error({ err: e }, `cluster: the series index is not shared now: ${msg}; retrying`);
      this.lastError = msg;
    }).finally(() => { this.busy = undefined; });
    return this.busy;
  }

  private async once(): Promise<void> {
    const t0 = Date.now();
    const { db, store, server } = this.opts;
    const num = (k: string) => Number(store.indexMeta(k) ?? 0);
    let restarted = false;
    for (let i = 0; i < MAX_PAGES && !this.closed; i++) {
      const page = await db.pullIndex(server, num(K.pulled), PAGE);
      if (this.closed) return;
      const epoch = store.indexMeta(K.epoch);
      if (page.epoch !== epoch && !restarted) {
        // A new shared table (first sync, or the database was recreated): all of it is read, all of ours shared again.
        if (epoch !== undefined) this.opts.log.warn('cluster: the shared series index was recreated; sharing this server\'s whole index again');
        store.mergeIndex([], { [K.epoch]: page.epoch, [K.pulled]: '0', [K.pushed]: '0' });
        restarted = true;
        i = -1;
        continue;
      }
      store.mergeIndex(page.rows, { [K.pulled]: String(page.next) });
      this.stats.pulled += page.rows.length;
      if (!page.more) break;
    }
    for (let i = 0; i < MAX_PAGES && !this.closed; i++) {
      const rows = store.indexChanges(num(K.pushed), PAGE);
      if (!rows.length) break;
      const stand = await db.pushIndex(server, rows.map(({ changed: _c, ...r }) => r));
      if (this.closed) return;
      store.mergeIndex(stand, { [K.pushed]: String(rows[rows.length - 1]!.changed) });
      this.stats.pushed += rows.length;
      if (rows.length < PAGE) break;
    }
    this.stats.last_ms = Date.now() - t0;
    if (this.lastError) {
      this.opts.log.info('cluster: the series index is shared again');
      this.lastError = undefined;
    }
  }

  /** Stops syncing; waits for a sync under way. */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    await this.busy;
  }
}
