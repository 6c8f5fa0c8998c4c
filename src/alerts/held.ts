/**
 * Notifications that wait for a verdict before they are sent: a target alert of a series that a
 * localization scope judges (a cause found a few steps later suppresses it), of a target that
 * depends on another (the parent's alert may arrive later in the same step), and a clear under
 * `renotify_min` (a new raise within the interval drops both). Raises and clears of one series
 * and alert settle in order, and a clear shares the fate of its raise: the receiver never gets
 * a clear for a raise it did not get. Plain data; the engine records and sends.
 */
import type { AlertEvent } from './notifiers/notifier.ts';

export interface HeldItem {
  eventId: string;
  /** Series (or target) × alert. */
  key: string;
  state: AlertEvent['state'];
  target: string;
  /** The agents whose series it concerns (one, or the matching agents of a quorum). */
  agents: string[];
  /** Sent once this time passes without a reason to suppress it (ms). */
  deadline: number;
  dependsOn?: string;
  /** A clear waiting out `renotify_min`. */
  renotify?: boolean;
}

/** Why a notification is not sent: `cause:<id>`, `depends_on:<path>`, `renotify`. */
export type MutedBy = string;

export class HeldQueue {
  private items: HeldItem[] = [];
  /** The fate of the last raise of a key: sent, or what muted it. */
  private fate = new Map<string, 'sent' | MutedBy>();

  get size(): number {
    return this.items.length;
  }

  /** Whether a notification of `key` is waiting (a later one must wait behind it). */
  waiting(key: string): boolean {
    return this.items.some((i) => i.key === key);
  }

  /** What muted the last raise of `key`, if something did (its clear is muted the same way). */
  mutedRaise(key: string): MutedBy | undefined {
    const f = this.fate.get(key);
    return f === undefined || f === 'sent' ? undefined : f;
  }

  hold(item: HeldItem): void {
    this.items.push(item);
  }

  /** A raise arrived: a clear of the same key waiting out renotify_min is taken back (returned). */
  supersede(key: string): HeldItem | undefined {
    const i = this.items.findIndex((x) => x.key === key && x.renotify && x.state === 'cleared');
    if (i < 0) return undefined;
    return this.items.splice(i, 1)[0];
  }

  /** Remembers the fate of a raise that was not held (sent at once, or muted). */
  settled(key: string, state: AlertEvent['state'], outcome: 'sent' | MutedBy): void {
    if (state === 'raised') this.fate.set(key, outcome);
    else if (state === 'cleared') this.fate.delete(key);
  }

  /**
   * Decides what can be decided at `now`: `why(item)` names a reason to suppress (or
   * undefined). Returns the items to send and those muted; the rest keep waiting.
   */
  release(now: number, why: (item: HeldItem) => MutedBy | undefined): { send: HeldItem[]; muted: { item: HeldItem; by: MutedBy }[] } {
    const send: HeldItem[] = [];
    const muted: { item: HeldItem; by: MutedBy }[] = [];
    const keep: HeldItem[] = [];
    const blocked = new Set<string>();
    for (const item of this.items) {
      if (blocked.has(item.key)) {
        keep.push(item);
        continue;
      }
      const before = this.fate.get(item.key);
      let by: MutedBy | undefined;
      if (item.state === 'cleared' && before !== undefined) by = before === 'sent' ? undefined : before;
      else by = why(item);
      if (by !== undefined) {
        muted.push({ item, by });
        this.settled(item.key, item.state, by);
        continue;
      }
      const clearOfSent = item.state === 'cleared' && before === 'sent' && !item.renotify;
      if (clearOfSent || now >= item.deadline) {
        send.push(item);
        this.settled(item.key, item.state, 'sent');
        continue;
      }
      keep.push(item);
      blocked.add(item.key);
    }
    this.items = keep;
    return { send, muted };
  }
}
