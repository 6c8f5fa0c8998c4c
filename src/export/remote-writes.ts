import type { Logger } from 'pino';
import type { Config } from '../config/loader.ts';
import { ConfigError } from '../errors.ts';
import type { RoundSink } from '../pipeline.ts';
import type { Round } from '../probes/round.ts';
import { parseExport, RemoteWriteSink } from './remote-write.ts';

/**
 * The remote-write endpoints of the `export:` section as one round sink: one queue per
 * endpoint, rebuilt when the section changes on reload (the old queues flush and close).
 */
export class RemoteWrites implements RoundSink {
  readonly name = 'remote-write';
  private key: string;
  private list: RemoteWriteSink[];

  /** Throws ConfigError when the section is invalid. */
  constructor(config: Config, private readonly log: Logger) {
    const targets = RemoteWrites.targetsOf(config);
    this.key = JSON.stringify(targets);
    this.list = targets.map((t) => new RemoteWriteSink(t, log));
  }

  /** The endpoints of a config; throws ConfigError when the section is invalid. */
  static targetsOf(config: Config) {
    const { targets, issues } = parseExport(config);
    if (issues.length) throw new ConfigError(issues);
    return targets;
  }

  /** Takes a reloaded config: the queues are rebuilt only when the endpoints changed. */
  apply(config: Config): void {
    const targets = RemoteWrites.targetsOf(config);
    const key = JSON.stringify(targets);
    if (key === this.key) return;
    const old = this.list;
    this.key = key;
    this.list = targets.map((t) => new RemoteWriteSink(t, this.log));
    for (const r of old) void r.close();
  }

  write(rounds: readonly Round[]): void {
    for (const r of this.list) r.write(rounds);
  }

  /** The queues in use (for /metrics and tests). */
  sinks(): readonly RemoteWriteSink[] {
    return this.list;
  }

  async close(): Promise<void> {
    await Promise.all(this.list.map((r) => r.close()));
  }
}
