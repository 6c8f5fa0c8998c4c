import type { Round } from '../../probes/round.ts';
import type { WriteResult } from '../../store/types.ts';

interface Waiting {
  offset: number;
  count: number;
  resolve: (r: WriteResult) => void;
  reject: (e: unknown) => void;
}

/**
 * Gathers the rounds of pushes that arrive within a few milliseconds and hands them to the
 * ingest in one call, so that the store commits (and fsyncs) once for many agents instead of
 * once per request. Each push resolves only after the commit, with its own part of the store's
 * answer (refusals and duplicates by the push's own indices), so an agent's acknowledgement
 * means "committed"; when the commit fails every push it held is rejected with that error. At
 * most `maxRounds` rounds wait (then it commits at once): the memory held for pending writes is
 * bounded by the pushes in flight.
 */
export class GroupCommit {
  private queue: Round[] = [];
  private waiting: Waiting[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly accept: (rounds: Round[]) => WriteResult | Promise<WriteResult>,
    private readonly delayMs = 5,
    private readonly maxRounds = 20_000,
  ) {}

  /** Resolves once `rounds` were committed together with the others of the moment. */
  add(rounds: Round[]): Promise<WriteResult> {
    if (rounds.length === 0) return Promise.resolve({ stored: 0, duplicates: [], refused: [] });
    const done = new Promise<WriteResult>((resolve, reject) => this.waiting.push({ offset: this.queue.length, count: rounds.length, resolve, reject }));
    for (const r of rounds) this.queue.push(r);
    if (this.queue.length >= this.maxRounds) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), this.delayMs);
    return done;
  }

  /** Hands everything queued to the ingest now; resolves once its pushes are answered. */
  async flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const rounds = this.queue;
    const waiting = this.waiting;
    this.queue = [];
    this.waiting = [];
    if (waiting.length === 0) return;
    let result: WriteResult;
    try {
      result = await this.accept(rounds);
    } catch (e) {
      for (const w of waiting) w.reject(e);
      return;
    }
    for (const w of waiting) w.resolve(partOf(result, w.offset, w.count));
  }
}

/** The part of a batch's result that concerns rounds [offset, offset + count), re-indexed from 0. */
function partOf(r: WriteResult, offset: number, count: number): WriteResult {
  const inPart = (i: number) => i >= offset && i < offset + count;
  const duplicates = r.duplicates.filter(inPart).map((i) => i - offset);
  const refused = r.refused.filter((x) => inPart(x.index)).map((x) => ({ ...x, index: x.index - offset }));
  return { stored: count - duplicates.length - refused.length, duplicates, refused };
}
