/**
 * Where the engine's notifications go: each is recorded (history, deliveries) in one
 * transaction per batch, then queued to its channels, muted, or held for a verdict
 * (src/alerts/held.ts). Also applies `renotify_min`: a firing alert notifies at most once per
 * interval, and a clear followed by a new raise within the interval sends neither.
 */
import type { Logger } from 'pino';
import type { AlertDb, DeliveryStatus } from './db.ts';
import type { Dispatcher } from './dispatcher.ts';
import { HeldQueue, type HeldItem, type MutedBy } from './held.ts';
import type { AlertEvent } from './notifiers/notifier.ts';

/** One notification ready to go. */
export interface Prepared {
  event: AlertEvent;
  channels: { name: string; kind: string }[];
  /** Muted before the outbox sees it (a silence, a priority): recorded, not sent. */
  mutedBy: string | null;
  status: DeliveryStatus;
  /** Series (or target) × alert: raises and clears of one key settle in order. */
  key: string;
  /** The agents whose series it concerns (for the verdict of a localization cause). */
  agents: string[];
  /** ms to wait for a localization verdict (0: none). */
  holdMs: number;
  dependsOn?: string;
  /** ms a dependent alert waits for its parent's alert (about one step). */
  dependsWaitMs: number;
  renotifyMin?: number;
  /**
   * Something being added to the event (a path trace): its deliveries wait until it settles, and
   * the recorded event is rewritten then. Bounded by whoever made it; a failure only loses the addition.
   */
  attach?: Promise<void>;
}

export class Outbox {
  private held = new HeldQueue();
  private waiting = new Map<string, { event: AlertEvent; channels: string[]; ready?: Promise<void> }>();
  private lastSent = new Map<string, number>();
  /** Per key, the addition the latest notification still waits for: later ones of the key wait behind it (a clear never overtakes its raise). */
  private inflight = new Map<string, Promise<void>>();

  constructor(private db: AlertDb, private dispatcher: Dispatcher, private log: Logger) {}

  /** Notifications waiting for a verdict. */
  get heldCount(): number {
    return this.held.size;
  }

  /** Records a batch in one transaction, then queues, holds or mutes each notification. */
  submit(batch: Prepared[]): void {
    const taken: HeldItem[] = [];
    for (const p of batch) {
      if (p.status !== 'pending') continue;
      const state = p.event.state;
      const mute = (by: MutedBy) => {
        p.mutedBy = by;
        p.status = 'suppressed';
      };
      if (state === 'firing' && p.renotifyMin && p.event.time - (this.lastSent.get(p.key) ?? -Infinity) < p.renotifyMin * 1000) mute('renotify');
      else if (state === 'raised' && p.renotifyMin) {
        const back = this.held.supersede(p.key);
        if (back) {
          taken.push(back);
          mute('renotify');
        }
      } else if (state === 'cleared') {
        const by = this.held.mutedRaise(p.key);
        if (by) mute(by);
      }
      if (p.status !== 'pending') continue;
      const renotifyClear = state === 'cleared' && !!p.renotifyMin;
      if (p.holdMs > 0 || p.dependsOn || renotifyClear || this.held.waiting(p.key)) p.status = 'held';
    }
    const ids = this.db.recordEvents(batch);
    for (const back of taken) this.db.settle(back.eventId, 'renotify');
    batch.forEach((p, i) => {
      const e = p.event;
      this.log.info({ alert: e.alert.name, target: e.target.path, agent: e.agent, state: e.state, muted_by: p.mutedBy, held: p.status === 'held', channels: p.channels.map((c) => c.name) }, `alert ${e.alert.name} ${e.state}`);
      const deliveries = ids[i]!.map((id, j) => ({ id, channel: p.channels[j]!.name }));
      const ready = this.readiness(p);
      if (p.status === 'pending') {
        this.enqueue(ready, e, deliveries);
        this.sent(p.key, e);
        this.held.settled(p.key, e.state, 'sent');
      } else if (p.status === 'held') {
        this.waiting.set(e.id, { event: e, channels: deliveries.map((d) => d.channel), ...(ready ? { ready } : {}) });
        const item: HeldItem = {
          eventId: e.id, key: p.key, state: e.state, target: e.target.path, agents: p.agents,
          deadline: e.time + Math.max(p.holdMs, p.dependsOn ? p.dependsWaitMs : 0, e.state === 'cleared' && p.renotifyMin ? p.renotifyMin * 1000 : 0),
        };
        if (p.dependsOn) item.dependsOn = p.dependsOn;
        if (e.state === 'cleared' && p.renotifyMin) item.renotify = true;
        this.held.hold(item);
      } else if (p.mutedBy && (p.mutedBy.startsWith('cause:') || p.mutedBy.startsWith('depends_on:'))) {
        // A raise muted by renotify is not news: the receiver still has the raise before it.
        this.held.settled(p.key, e.state, p.mutedBy);
      }
    });
  }

  /** Settles what can be settled at `now`; `why` names a reason to suppress a held notification. */
  release(now: number, why: (item: HeldItem) => MutedBy | undefined): void {
    if (this.held.size === 0) return;
    const { send, muted } = this.held.release(now, why);
    for (const { item, by } of muted) {
      this.db.settle(item.eventId, by);
      this.waiting.delete(item.eventId);
      this.log.info({ event: item.eventId, target: item.target, state: item.state, muted_by: by }, 'held alert suppressed');
    }
    for (const item of send) {
      const w = this.waiting.get(item.eventId);
      this.waiting.delete(item.eventId);
      const rows = this.db.settle(item.eventId, null);
      if (w && rows.length) this.enqueue(w.ready, w.event, rows);
      if (w) this.sent(item.key, w.event);
    }
  }

  /** What a notification's deliveries wait for: its own addition and any its key's earlier notification still waits for. */
  private readiness(p: Prepared): Promise<void> | undefined {
    const prior = this.inflight.get(p.key);
    const own = p.attach && this.rewriteWhen(p.attach, p.event);
    const ready = prior && own ? Promise.all([prior, own]).then(() => undefined) : prior ?? own;
    if (!ready) return undefined;
    this.inflight.set(p.key, ready);
    void ready.then(() => {
      if (this.inflight.get(p.key) === ready) this.inflight.delete(p.key);
    });
    return ready;
  }

  /** Rewrites the recorded event once its addition settled; the promise returned never rejects. */
  private rewriteWhen(attach: Promise<void>, e: AlertEvent): Promise<void> {
    return attach.then(() => this.db.updateEvent(e))
      .catch((err: unknown) => this.log.error({ err, alert: e.alert.name, target: e.target.path }, 'alert event hook failed; delivering without it'));
  }

  /** Queues deliveries now, or once the event's addition settled. */
  private enqueue(ready: Promise<void> | undefined, e: AlertEvent, rows: { id: number; channel: string }[]): void {
    if (!ready) return this.dispatcher.enqueue(e, rows);
    void ready.then(() => this.dispatcher.enqueue(e, rows));
  }

  private sent(key: string, e: AlertEvent): void {
    this.lastSent.set(key, e.time);
    if (e.state === 'cleared') this.lastSent.delete(key);
  }
}
