import type { Round } from './probes/round.ts';

/**
 * Where rounds go once they are accepted: the store, the alert engine, the exporters and
 * the live UI each register one. `write` is called in arrival order with batches; a sink
 * must not throw for one bad round (log and skip it) and must not block probing.
 */
export interface RoundSink {
  readonly name: string;
  write(rounds: readonly Round[]): void | Promise<void>;
  close?(): void | Promise<void>;
}
