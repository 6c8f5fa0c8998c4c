import { MAX_SKEW_MS } from './signing.ts';

/**
 * Remembers the nonces seen within the timestamp window, with a bounded size. When full it
 * forgets the oldest entries but raises a floor: a request whose timestamp is not above the
 * newest forgotten one is refused, so forgetting never re-opens a replay.
 */
export class NonceCache {
  /** key → request timestamp; Map keeps insertion order, close to timestamp order. */
  private seen = new Map<string, number>();
  private floor = -Infinity;

  constructor(private readonly max = 200_000, private readonly windowMs = MAX_SKEW_MS) {}

  get size(): number {
    return this.seen.size;
  }

  /** Records (agent, nonce); false if already seen, or too old to be told apart from a replay. */
  use(agent: string, nonce: string, timestamp: number, now = Date.now()): boolean {
    this.expire(now);
    const key = `${agent}\n${nonce}`;
    if (this.seen.has(key) || timestamp <= this.floor) return false;
    this.seen.set(key, timestamp);
    while (this.seen.size > this.max) {
      const [k, ts] = this.seen.entries().next().value as [string, number];
      this.seen.delete(k);
      this.floor = Math.max(this.floor, ts);
    }
    return true;
  }

  /** Drops entries whose timestamps are out of the window: those requests are refused as stale anyway. */
  private expire(now: number): void {
    const limit = now - this.windowMs;
    for (const [k, ts] of this.seen) {
      if (ts >= limit) break;
      this.seen.delete(k);
    }
  }
}
