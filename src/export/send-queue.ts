import type { Logger } from 'pino';

/** What a sender makes of one batch: sent, refused for good (dropped), or worth retrying later. */
export type SendOutcome = { sent: true } | { drop: string } | { retry: string };

export interface SendQueueOptions<T> {
  /** Names the destination in logs. */
  name: string;
  /** Most items per batch. */
  batch: number;
  /** How many of the head items form the next batch (≥ 1, ≤ `batch`); default `batch`. */
  take?: (head: readonly T[]) => number;
  flushSeconds: number;
  /** Items kept while the destination is down; beyond it the oldest are dropped (counted). */
  maxPending: number;
  /** First wait after a failure, ms; doubles up to a minute. Default 1000. */
  backoffMs?: number;
}

/** The queue's counters, for /metrics and the health API. */
export interface SendQueueStats {
  sent: number;
  dropped: number;
  failed_requests: number;
  pending: number;
  last_error?: string;
}

const MAX_BACKOFF_MS = 60_000;

/**
 * An exporter's outgoing queue: bounded (oldest dropped first, counted), sent batch after
 * batch one request at a time, each batch retried whole after a backoff that doubles while
 * the destination fails, dropped (counted) when the sender says it would fail again. A batch
 * is taken off the queue only once settled, so a retry resends exactly the same items.
 * Never throws into its caller. Remote write and CloudWatch both send through one.
 */
export class SendQueue<T> {
  readonly stats: SendQueueStats = { sent: 0, dropped: 0, failed_requests: 0, pending: 0 };
  private queue: T[] = [];
  private busy = false;
  private backoffUntil = 0;
  private backoff: number;
  private timer: NodeJS.Timeout;
  private idleWaiters: (() => void)[] = [];
  private closed = false;

  constructor(
    private readonly opts: SendQueueOptions<T>,
    private readonly send: (batch: T[]) => Promise<SendOutcome>,
    private readonly log: Logger,
  ) {
    this.backoff = opts.backoffMs ?? 1000;
    this.timer = setInterval(() => void this.flush(), opts.flushSeconds * 1000);
    this.timer.unref();
  }

  push(items: readonly T[]): void {
    for (const item of items) this.queue.push(item);
    const over = this.queue.length - this.opts.maxPending;
    if (over > 0) {
      this.queue.splice(0, over);
      this.stats.dropped += over;
    }
    this.stats.pending = this.queue.length;
    if (this.queue.length >= this.opts.batch) void this.flush();
  }

  /** Sends what is queued, batch after batch, until empty or the destination fails. */
  async flush(): Promise<void> {
    if (this.closed) return;
    if (this.busy || Date.now() < this.backoffUntil) return;
    this.busy = true;
    try {
      while (this.queue.length) {
        const head = this.queue.slice(0, this.opts.batch);
        const n = Math.max(1, Math.min(head.length, this.opts.take ? this.opts.take(head) : head.length));
        const batch = head.slice(0, n);
        const outcome = await this.attempt(batch);
        if ('retry' in outcome) {
          this.retryLater(outcome.retry);
          break;
        }
        this.queue.splice(0, n);
        this.stats.pending = this.queue.length;
        if ('sent' in outcome) {
          this.stats.sent += n;
          this.backoff = this.opts.backoffMs ?? 1000;
        } else {
          this.stats.dropped += n;
          this.stats.failed_requests++;
          this.stats.last_error = outcome.drop;
          this.log.error({ to: this.opts.name, error: outcome.drop, items: n }, 'export destination refused a batch; dropping it (it would fail again)');
        }
      }
    } finally {
      this.busy = false;
      if (!this.queue.length || Date.now() < this.backoffUntil) for (const w of this.idleWaiters.splice(0)) w();
    }
  }

  /** Resolves once the queue is empty or waiting out a backoff (tests, benches). */
  settled(): Promise<void> {
    if (!this.busy && (!this.queue.length || Date.now() < this.backoffUntil)) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  /** Stops the timer and makes one last attempt at what is queued. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    this.backoffUntil = 0;
    await this.flush();
    this.closed = true;
  }

  private async attempt(batch: T[]): Promise<SendOutcome> {
    try {
      return await this.send(batch);
    } catch (e) {
      return { retry: (e as Error).message };
    }
  }

  private retryLater(error: string): void {
    this.stats.failed_requests++;
    this.stats.last_error = error;
    this.log.warn({ to: this.opts.name, error, retry_in_ms: this.backoff, pending: this.queue.length }, 'export failed; will retry');
    this.backoffUntil = Date.now() + this.backoff;
    // Once the wait is over, try again without waiting for the next flush tick. The timer ends
    // the wait itself: it may fire a millisecond before Date.now() reaches backoffUntil, and a
    // flush refused then would leave the queue until the next tick (flush_seconds later).
    setTimeout(() => {
      this.backoffUntil = 0;
      void this.flush();
    }, this.backoff).unref();
    this.backoff = Math.min(this.backoff * 2, MAX_BACKOFF_MS);
  }
}
