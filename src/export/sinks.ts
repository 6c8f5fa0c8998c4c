import type { Logger } from 'pino';
import type { Config } from '../config/loader.ts';
import { ConfigError } from '../errors.ts';
import type { RoundSink } from '../pipeline.ts';
import type { Round } from '../probes/round.ts';
import { CloudWatchSink, type CloudWatchLookups } from './cloudwatch.ts';
import { parseExport, type ExportSection } from './config.ts';
import { RemoteWriteSink } from './remote-write.ts';

/**
 * The destinations of the `export:` section as one round sink: one queue per remote-write
 * endpoint and per CloudWatch target, rebuilt when the section changes on reload (the old
 * queues flush and close).
 */
export class ExportSinks implements RoundSink {
  readonly name = 'export';
  private key: string;
  private remote: RemoteWriteSink[];
  private cloud: CloudWatchSink[];

  /** Throws ConfigError when the section is invalid. */
  constructor(config: Config, private readonly log: Logger, private readonly look: CloudWatchLookups) {
    const section = ExportSinks.sectionOf(config);
    this.key = JSON.stringify(section);
    this.remote = section.remote_write.map((t) => new RemoteWriteSink(t, log));
    this.cloud = section.cloudwatch.map((t) => new CloudWatchSink(t, look, log));
  }

  /** The section of a config; throws ConfigError when it is invalid. */
  static sectionOf(config: Config): ExportSection {
    const { section, issues } = parseExport(config);
    if (issues.length) throw new ConfigError(issues);
    return section;
  }

  /** Takes a reloaded config: the queues are rebuilt only when the section changed. */
  apply(config: Config): void {
    const section = ExportSinks.sectionOf(config);
    const key = JSON.stringify(section);
    if (key === this.key) return;
    const old = [...this.remote, ...this.cloud];
    this.key = key;
    this.remote = section.remote_write.map((t) => new RemoteWriteSink(t, this.log));
    this.cloud = section.cloudwatch.map((t) => new CloudWatchSink(t, this.look, this.log));
    for (const s of old) void s.close();
  }

  write(rounds: readonly Round[]): void {
    for (const s of this.remote) s.write(rounds);
    for (const s of this.cloud) s.write(rounds);
  }

  /** The remote-write queues in use (for /metrics and tests). */
  remoteWrites(): readonly RemoteWriteSink[] {
    return this.remote;
  }

  /** The CloudWatch queues in use (for /metrics, the health API and tests). */
  cloudWatches(): readonly CloudWatchSink[] {
    return this.cloud;
  }

  async close(): Promise<void> {
    await Promise.all([...this.remote, ...this.cloud].map((s) => s.close()));
  }
}
