/**
 * The heartbeat's decisions and the memory its two threads share. The heartbeat thread
 * (heartbeat-worker.ts) writes this server's row while the main thread may be busy; it
 * publishes the time of its last successful beat, and the main thread publishes, from a short
 * timer, the last time its event loop ran. Pure functions over plain numbers (ms since the
 * epoch, on this machine's clock, which both threads share), and a view of the shared buffer.
 */

/**
 * Whether the heartbeat thread writes a beat now: only while the main thread has run within
 * `stallMs`. A wedged main thread then stops beating, and the others count this server dead
 * `dead_after_s` later and take its series; a main thread busy for less (a long synchronous
 * read of histories) keeps its place.
 */
export function mayBeat(now: number, lastProgress: number, stallMs: number): boolean {
  return now - lastProgress <= stallMs;
}

/**
 * Whether this server's last successful beat is too old: the others may count it dead and own
 * its series. `lastBeat` is taken before the beat's query, so this deadline comes no later
 * than the moment the others (judging the row's time, written during the query) count it
 * dead. 0: no beat yet.
 */
export function outOfTouch(now: number, lastBeat: number, deadAfterMs: number): boolean {
  return now - lastBeat > deadAfterMs;
}

/** Two times shared between the main thread and the heartbeat thread, as whole ms (0: none yet). */
export class BeatClock {
  private readonly slots: BigInt64Array;

  constructor(readonly buffer = new SharedArrayBuffer(2 * BigInt64Array.BYTES_PER_ELEMENT)) {
    this.slots = new BigInt64Array(buffer);
  }

  /** When the last successful beat was started (written by the heartbeat thread). */
  get lastBeat(): number {
    return Number(Atomics.load(this.slots, 0));
  }

  set lastBeat(t: number) {
    Atomics.store(this.slots, 0, BigInt(Math.floor(t)));
  }

  /** When the main thread's event loop last ran (written by the main thread). */
  get progress(): number {
    return Number(Atomics.load(this.slots, 1));
  }

  set progress(t: number) {
    Atomics.store(this.slots, 1, BigInt(Math.floor(t)));
  }
}
