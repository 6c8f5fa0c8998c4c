import type { Logger } from 'pino';
import type { RoundSink } from '../pipeline.ts';
import type { Round } from '../probes/round.ts';

export interface IngestStats {
  rounds: number;
  by_agent: Record<string, number>;
  sink_errors: Record<string, number>;
}

/**
 * The one entrance for rounds, from the built-in agent and remote agents alike. Hands each
 * batch to every sink in order (the store first); a failing sink is logged and counted and
 * never stops the others. Async sinks are chained so each sees batches in arrival order.
 */
export class Ingest {
  readonly stats: IngestStats = { rounds: 0, by_agent: {}, sink_errors: {} };
  private tails = new Map<string, Promise<void>>();

  constructor(private sinks: RoundSink[], private readonly log: Logger) {}

  /** Adds a sink after the existing ones. */
  add(sink: RoundSink): void {
    this.sinks.push(sink);
  }

  accept(rounds: readonly Round[]): void {
    if (rounds.length === 0) return;
    this.stats.rounds += rounds.length;
    for (const r of rounds) this.stats.by_agent[r.agent] = (this.stats.by_agent[r.agent] ?? 0) + 1;
    for (const sink of this.sinks) {
      const prev = this.tails.get(sink.name);
      if (prev) {
        this.tails.set(sink.name, prev.then(() => this.write(sink, rounds)));
        continue;
      }
      const p = this.write(sink, rounds);
      if (p) this.tails.set(sink.name, p.finally(() => { if (this.tails.get(sink.name) === p) this.tails.delete(sink.name); }));
    }
  }

  /** Waits until every sink has taken every batch accepted so far. */
  async drain(): Promise<void> {
    await Promise.allSettled(this.tails.values());
  }

  private write(sink: RoundSink, rounds: readonly Round[]): Promise<void> | undefined {
    const fail = (e: unknown) => {
      this.stats.sink_errors[sink.name] = (this.stats.sink_errors[sink.name] ?? 0) + 1;
      this.log.error({ sink: sink.name, err: e, rounds: rounds.length }, `sink ${sink.name} failed to take rounds`);
    };
    try {
      const r = sink.write(rounds);
      return r instanceof Promise ? r.catch(fail) : undefined;
    } catch (e) {
      fail(e);
      return undefined;
    }
  }
}
