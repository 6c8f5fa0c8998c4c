/**
 * Delivers events to channels: one queue per channel worked in order (a raised is never
 * overtaken by its clear), each attempt bounded by a timeout through an AbortSignal, failed
 * attempts retried with exponential backoff. Channels are independent: a slow or failing one
 * never delays another, and `enqueue` returns at once so probing is never delayed.
 * Every attempt is recorded; unfinished deliveries are resumed after a restart.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import Type, { type Static } from 'typebox';
import type { Logger } from 'pino';
import type { DeliveryOptions } from '../config/alerts-schema.ts';
import { SmokemeshError } from '../errors.ts';
import type { AlertDb } from './db.ts';
import type { AlertEvent, Notifier } from './notifiers/notifier.ts';

export interface Channel {
  notifier: Notifier;
  delivery: DeliveryOptions;
}

interface Job {
  deliveryId: number;
  event: AlertEvent;
  /** Attempts already made (resumed deliveries keep counting). */
  attempts: number;
}

interface Lane {
  queue: Job[];
  running: boolean;
  last_error?: string;
  last_ok?: number;
}

/** A channel's queue and health, as the API shows it. */
export const ChannelStatusSchema = Type.Object({
  name: Type.String(),
  kind: Type.String(),
  queued: Type.Integer(),
  busy: Type.Boolean(),
  last_error: Type.Optional(Type.String()),
  last_ok: Type.Optional(Type.Number({ description: 'ms since the epoch' })),
});
export type ChannelStatus = Static<typeof ChannelStatusSchema>;

export class Dispatcher {
  private channels = new Map<string, Channel>();
  private lanes = new Map<string, Lane>();
  private stop = new AbortController();
  private idleWaiters: (() => void)[] = [];

  constructor(private db: AlertDb, private log: Logger) {}

  /** Replaces the channel set (config reload); queued jobs of a vanished channel fail on their next attempt. */
  setChannels(channels: Map<string, Channel>): void {
    this.channels = channels;
  }

  channel(name: string): Channel | undefined {
    return this.channels.get(name);
  }

  /** Queues already-recorded deliveries; returns at once. */
  enqueue(event: AlertEvent, deliveries: { id: number; channel: string; attempts?: number }[]): void {
    for (const d of deliveries) {
      let lane = this.lanes.get(d.channel);
      if (!lane) {
        lane = { queue: [], running: false };
        this.lanes.set(d.channel, lane);
      }
      lane.queue.push({ deliveryId: d.id, event, attempts: d.attempts ?? 0 });
      if (!lane.running) void this.work(d.channel, lane);
    }
  }

  /** Queues what was pending when the process last stopped. */
  resume(): number {
    const rows = this.db.pendingDeliveries();
    for (const r of rows) this.enqueue(r.event, [{ id: r.id, channel: r.channel, attempts: r.attempts }]);
    return rows.length;
  }

  status(): ChannelStatus[] {
    const out: ChannelStatus[] = [];
    for (const [name, c] of this.channels) {
      const lane = this.lanes.get(name);
      const s: ChannelStatus = { name, kind: c.notifier.kind, queued: lane?.queue.length ?? 0, busy: lane?.running ?? false };
      if (lane?.last_error) s.last_error = lane.last_error;
      if (lane?.last_ok) s.last_ok = lane.last_ok;
      out.push(s);
    }
    return out;
  }

  /** Resolves when every queue is empty (tests and shutdown). */
  idle(): Promise<void> {
    if ([...this.lanes.values()].every((l) => !l.running)) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  /** Stops working: in-flight attempts are aborted and stay pending for the next start. */
  async close(): Promise<void> {
    this.stop.abort(new Error('shutting down'));
    await this.idle();
  }

  private async work(name: string, lane: Lane): Promise<void> {
    lane.running = true;
    try {
      while (lane.queue.length && !this.stop.signal.aborted) {
        const job = lane.queue[0]!;
        await this.deliver(name, lane, job);
        lane.queue.shift();
      }
    } finally {
      lane.running = false;
      if ([...this.lanes.values()].every((l) => !l.running)) for (const w of this.idleWaiters.splice(0)) w();
    }
  }

  private async deliver(name: string, lane: Lane, job: Job): Promise<void> {
    for (;;) {
      const channel = this.channels.get(name);
      const opts = channel?.delivery ?? { retries: 0, backoff_ms: 1000, max_backoff_ms: 300000, timeout_ms: 10000 };
      job.attempts++;
      const started = performance.now();
      let error: string | null = null;
      let note: string | null = null;
      const timeout = AbortSignal.timeout(opts.timeout_ms);
      try {
        if (!channel) throw new SmokemeshError('SMOKEMESH_E_NOTIFY', `channel "${name}" is no longer configured`);
        note = (await channel.notifier.send(job.event, AbortSignal.any([this.stop.signal, timeout]))) || null;
      } catch (e) {
        error = storedError(e);
        if (timeout.aborted) error = `timed out after ${opts.timeout_ms} ms (${error})`;
        this.log.debug({ channel: name, event: job.event.id, attempt: job.attempts, err: e, detail: (e as SmokemeshError).detail }, 'alert delivery error in full');
      }
      const took = performance.now() - started;
      if (this.stop.signal.aborted && error) {
        // Stays pending; the next start resumes it.
        this.db.recordAttempt(job.deliveryId, job.attempts, 'retry', took, `interrupted by shutdown: ${error}`);
        return;
      }
      if (error === null) {
        this.db.recordAttempt(job.deliveryId, job.attempts, 'sent', took, null, note);
        if (note) this.log.info({ channel: name, event: job.event.id, note }, 'alert action done');
        lane.last_ok = Date.now();
        return;
      }
      lane.last_error = error;
      const last = job.attempts > opts.retries;
      this.db.recordAttempt(job.deliveryId, job.attempts, last ? 'failed' : 'retry', took, error);
      this.log.warn({ channel: name, event: job.event.id, attempt: job.attempts, error }, last ? 'alert delivery failed' : 'alert delivery failed, will retry');
      if (last) return;
      const wait = Math.min(opts.max_backoff_ms, opts.backoff_ms * 2 ** (job.attempts - 1));
      try {
        await sleep(wait, undefined, { signal: this.stop.signal });
      } catch {
        return;
      }
    }
  }
}

/**
 * What is stored (and shown by the open read API) of a failed attempt. Notifiers word their
 * errors for that (status, host, short reason; a remote's own words only in `detail`); any
 * other error may quote anything, so only its kind is kept; the log has it in full.
 */
export function storedError(e: unknown): string {
  if (e instanceof SmokemeshError) return e.message;
  const code = (e as { code?: unknown } | null)?.code;
  return `${e instanceof Error ? e.name : 'error'}${typeof code === 'string' ? ` ${code.replace(/[^\w.-]/g, '_').slice(0, 32)}` : ''} (details in the server log at debug level)`;
}
