import type { Logger } from 'pino';
import type { RoundSink } from '../pipeline.ts';
import type { Round } from '../probes/round.ts';
import type { Store, WriteResult } from '../store/types.ts';

export interface IngestStats {
  /** Rounds committed to the store (resends of stored rounds not counted). */
  rounds: number;
  by_agent: Record<string, number>;
  sink_errors: Record<string, number>;
}

/**
 * The one entrance for rounds, from the built-in agent and remote agents alike. Writes each
 * batch to the store first; only once the store committed does it hand the newly stored rounds
 * to the other sinks (alerts, export, live UI), in order. The store's failure (above all
 * SMOKEMESH_E_UNAVAILABLE) reaches the caller, which keeps its rounds; a failing other sink is
 * logged and counted and never stops the rest. Async sinks are chained so each sees batches in
 * arrival order.
 */
export class Ingest {
  readonly stats: IngestStats = { rounds: 0, by_agent: {}, sink_errors: {} };
  private tails = new Map<string, Promise<void>>();

  constructor(private readonly store: Pick<Store, 'write'>, private sinks: RoundSink[], private readonly log: Logger) {}

  /** Adds a sink after the existing ones. */
  add(sink: RoundSink): void {
    this.sinks.push(sink);
  }

  /**
   * Commits the rounds to the store (see Store.write: it throws when nothing could be
   * committed), then hands what was newly stored to the other sinks. Resolves with the store's
   * result: its refusals by index, its duplicates.
   */
  async accept(rounds: readonly Round[]): Promise<WriteResult> {
    if (rounds.length === 0) return { stored: 0, duplicates: [], refused: [] };
    const result = await this.store.write(rounds);
    const skip = new Set<number>(result.duplicates);
    for (const r of result.refused) skip.add(r.index);
    const fresh = skip.size === 0 ? rounds : rounds.filter((_, i) => !skip.has(i));
    if (fresh.length === 0) return result;
    this.stats.rounds += fresh.length;
    for (const r of fresh) this.stats.by_agent[r.agent] = (this.stats.by_agent[r.agent] ?? 0) + 1;
    for (const sink of this.sinks) {
      const prev = this.tails.get(sink.name);
      if (prev) {
        this.tails.set(sink.name, prev.then(() => this.write(sink, fresh)));
        continue;
      }
      const p = this.write(sink, fresh);
      if (p) this.tails.set(sink.name, p.finally(() => { if (this.tails.get(sink.name) === p) this.tails.delete(sink.name); }));
    }
    return result;
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
