import type { Logger } from 'pino';
import type { Round } from '../probes/round.ts';
import type { SpoolStatus } from './protocol.ts';
import type { Spool } from './spool.ts';

/** Rounds taken from the outbox for one delivery; hand it back to `done` once delivered. */
export interface OutboxBatch {
  rounds: Round[];
  /** Spool ids of the rounds (when they came from the spool). */
  ids: number[];
  /** The rounds came from the memory queue (the spool could not be written). */
  fromMemory: boolean;
}

/** Rounds held in memory while the spool cannot be written (~1–2 KB each): beyond, the oldest are dropped and counted. */
export const MEMORY_LIMIT = 20_000;

/**
 * Where an agent's rounds wait until they are delivered (pushed to the server, or committed to
 * the store by the built-in agent): the durable spool, and — only while even the spool cannot
 * be written (disk full, I/O error) — a bounded queue in memory, whose drops are counted and
 * logged. Rounds held in memory move to the spool as soon as it can be written again.
 */
export class Outbox {
  private spool: Spool | undefined;
  private memory: Round[] = [];
  private memoryDropped = 0;
  private spoolFailing = false;
  private lastOpenTry = 0;
  private lastSettleTry = 0;

  constructor(private readonly opts: {
    /** Opens the spool; called again (at most once a second) while it fails. */
    open: () => Spool;
    log: Logger;
    memoryLimit?: number;
  }) {
    this.ready();
  }

  /** Rounds waiting, in the spool and in memory. */
  get backlog(): number {
    return (this.spool?.backlog ?? 0) + this.memory.length;
  }

  /** The spool (for its metadata), when it is open. */
  get durable(): Spool | undefined {
    return this.spool;
  }

  /** Keeps rounds until delivered: on disk, or in memory while the disk refuses them. */
  add(rounds: readonly Round[]): void {
    if (rounds.length === 0) return;
    // Once rounds wait in memory, new ones join them (in order) until they can all go to disk.
    if (this.memory.length === 0) {
      const spool = this.ready();
      if (spool && this.append(spool, rounds)) return;
    }
    this.hold(rounds);
  }

  /** The next rounds to deliver: from the spool (see Spool.take), else from memory. */
  take(max: number): OutboxBatch {
    this.settle();
    if (this.spool && this.spool.backlog > 0) {
      const batch = this.spool.take(max);
      return { rounds: batch.map((b) => b.round), ids: batch.map((b) => b.id), fromMemory: false };
    }
    return { rounds: this.memory.slice(0, max), ids: [], fromMemory: true };
  }

  /** Forgets a delivered batch. Throws when the spool cannot delete it (it is then delivered again: harmless). */
  done(batch: OutboxBatch): void {
    if (batch.fromMemory) {
      const gone = new Set(batch.rounds);
      this.memory = this.memory.filter((r) => !gone.has(r));
    } else {
      this.spool!.remove(batch.ids);
    }
  }

  /** Backlog (spool and memory), bytes on disk, drops (the spool's quota, across restarts, plus memory drops since start). */
  status(): SpoolStatus {
    const s: SpoolStatus = this.spool ? this.spool.status() : { backlog: 0, bytes: 0, dropped: 0 };
    s.backlog += this.memory.length;
    s.dropped += this.memoryDropped;
    if (s.oldest === undefined && this.memory[0]) s.oldest = this.memory[0].time;
    return s;
  }

  /**
   * Tries to put the rounds held in memory on disk (at most once a second unless `force`);
   * returns how many are still only in memory.
   */
  settle(force = false): number {
    if (this.memory.length === 0) return 0;
    const now = Date.now();
    if (!force && now - this.lastSettleTry < 1000) return this.memory.length;
    this.lastSettleTry = now;
    const spool = this.ready(force);
    if (spool && this.append(spool, this.memory)) {
      this.opts.log.info({ rounds: this.memory.length }, 'outbox: the spool can be written again; the rounds held in memory are on disk');
      this.memory = [];
    }
    return this.memory.length;
  }

  close(): void {
    const left = this.settle(true);
    if (left) this.opts.log.error({ rounds: left }, `outbox: ${left} rounds held in memory are lost at shutdown (the spool could not be written)`);
    this.spool?.close();
  }

  private ready(force = false): Spool | undefined {
    if (this.spool) return this.spool;
    const now = Date.now();
    if (!force && now - this.lastOpenTry < 1000) return undefined;
    this.lastOpenTry = now;
    try {
      this.spool = this.opts.open();
    } catch (e) {
      this.failed(e);
    }
    return this.spool;
  }

  private append(spool: Spool, rounds: readonly Round[]): boolean {
    try {
      const dropped = spool.append(rounds);
      if (dropped) this.opts.log.warn({ dropped, total: spool.status().dropped }, 'spool quota reached: dropped the oldest rounds');
      this.spoolFailing = false;
      return true;
    } catch (e) {
      this.failed(e);
      return false;
    }
  }

  private failed(e: unknown): void {
    if (this.spoolFailing) return;
    this.spoolFailing = true;
    const limit = this.opts.memoryLimit ?? MEMORY_LIMIT;
    this.opts.log.error({ err: e }, `outbox: cannot write the spool (${(e as Error).message}); holding up to ${limit} rounds in memory until it can be written (beyond, the oldest are dropped and counted)`);
  }

  private hold(rounds: readonly Round[]): void {
    for (const r of rounds) this.memory.push(r);
    const excess = this.memory.length - (this.opts.memoryLimit ?? MEMORY_LIMIT);
    if (excess > 0) {
      this.memory.splice(0, excess);
      const first = this.memoryDropped === 0;
      this.memoryDropped += excess;
      // Logged at the first drop and then every 1,000: the count is also in status() and /metrics.
      if (first || Math.floor(this.memoryDropped / 1000) !== Math.floor((this.memoryDropped - excess) / 1000)) {
        this.opts.log.error({ dropped: this.memoryDropped }, `outbox: memory queue full; dropped the oldest rounds (${this.memoryDropped} so far)`);
      }
    }
  }
}
