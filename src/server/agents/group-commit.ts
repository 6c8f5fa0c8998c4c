import type { Round } from '../../probes/round.ts';

/**
 * Gathers the rounds of pushes that arrive within a few milliseconds and hands them to the
 * ingest in one call, so that the store commits (and fsyncs) once for many agents instead of
 * once per request. Each push resolves only after its rounds were taken, so an agent's
 * acknowledgement still means "stored".
 */
export class GroupCommit {
  private queue: Round[] = [];
  private waiting: { resolve: () => void; reject: (e: unknown) => void }[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly accept: (rounds: Round[]) => void, private readonly delayMs = 5, private readonly maxRounds = 20_000) {}

  /** Resolves once `rounds` went to the ingest together with the others of the moment. */
  add(rounds: Round[]): Promise<void> {
    if (rounds.length === 0) return Promise.resolve();
    const done = new Promise<void>((resolve, reject) => this.waiting.push({ resolve, reject }));
    for (const r of rounds) this.queue.push(r);
    if (this.queue.length >= this.maxRounds) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), this.delayMs);
    return done;
  }

  /** Hands everything queued to the ingest now. */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const rounds = this.queue;
    const waiting = this.waiting;
    this.queue = [];
    this.waiting = [];
    try {
      this.accept(rounds);
      for (const w of waiting) w.resolve();
    } catch (e) {
      for (const w of waiting) w.reject(e);
    }
  }
}
