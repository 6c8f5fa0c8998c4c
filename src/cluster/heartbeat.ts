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
 * Whether a beat ends a gap the others may have counted this server dead in: the previous
 * successful beat was started at `previousBeat` (0: none, this is the first) and this one's
 * query answered at `answeredAt`; the rows' times lie between, so their gap may be as long.
 */
export function endsGap(previousBeat: number, answeredAt: number, deadAfterMs: number): boolean {
  return previousBeat > 0 && answeredAt - previousBeat > deadAfterMs;
}

/**
 * Whether this server may have been counted dead by the others, who own its series then: its
 * last successful beat is too old (`lastBeat` is taken before the beat's query, so this
 * deadline comes no later than the moment the others, judging the row's time written during
 * the query, count it dead; 0: no beat yet), or beats resumed after a gap (`gapEnd`, see
 * endsGap) later than the beat this server joined the live set on (`joinedOn`): while its
 * main thread was stalled its heartbeat thread held the beats, and beats written since do
 * not undo what the others did meanwhile.
 */
export function outOfTouch(now: number, beats: { lastBeat: number; gapEnd: number }, joinedOn: number, deadAfterMs: number): boolean {
  return now - beats.lastBeat > deadAfterMs || beats.gapEnd > joinedOn;
}

/** Times shared between the main thread and the heartbeat thread, as whole ms (0: none yet). */
export class BeatClock {
  private readonly slots: BigInt64Array;

  constructor(readonly buffer = new SharedArrayBuffer(3 * BigInt64Array.BYTES_PER_ELEMENT)) {
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

  /** When the last beat that ended a gap (endsGap) was started (written by the heartbeat thread). */
  get gapEnd(): number {
    return Number(Atomics.load(this.slots, 2));
  }

  set gapEnd(t: number) {
    Atomics.store(this.slots, 2, BigInt(Math.floor(t)));
  }
}
