import Type, { type Static } from 'typebox';
import type { Logger } from 'pino';
import type { Config } from '../config/loader.ts';
import { validate } from '../config/validate.ts';
import type { ConfigIssue } from '../errors.ts';
import { collectIssues, type ConfigSection, type IssueAt } from '../config/section.ts';
import type { RoundSink } from '../pipeline.ts';
import type { Round } from '../probes/round.ts';
import { encodeWriteRequest, snappyBlock, type WriteSeries } from './remote-write-codec.ts';

/** The `export:` section: where rounds are sent besides the store. */
export const ExportSectionSchema = Type.Object({
  remote_write: Type.Array(Type.Object({
    url: Type.String({ pattern: '^https?://', description: 'remote write endpoint, e.g. http://prometheus:9090/api/v1/write' }),
    labels: Type.Record(Type.String({ pattern: '^[a-zA-Z_][a-zA-Z0-9_]*$' }), Type.String(), { default: {}, description: 'labels added to every series' }),
    batch_rounds: Type.Integer({ minimum: 1, maximum: 50000, default: 2000 }),
    flush_seconds: Type.Number({ exclusiveMinimum: 0, maximum: 300, default: 5 }),
    max_pending_rounds: Type.Integer({ minimum: 1, default: 200000, description: 'rounds kept while the endpoint is down; beyond it the oldest are dropped' }),
    timeout_seconds: Type.Number({ exclusiveMinimum: 0, maximum: 300, default: 10 }),
  }, { additionalProperties: false }), { default: [] }),
}, { additionalProperties: false, default: {} });
export type RemoteWriteTarget = Static<typeof ExportSectionSchema>['remote_write'][number];

/** Reads `config.raw.export` with defaults; every problem located (file:line:col). */
export function parseExport(config: Pick<Config, 'file' | 'raw' | 'locate'>): { targets: RemoteWriteTarget[]; issues: ConfigIssue[] } {
  const { issue, issues } = collectIssues(config);
  const targets = readExport(config.raw.export, issue);
  return { targets: issues.length ? [] : targets, issues };
}

/** The `export:` entry of the list of sections. */
export const exportSection: ConfigSection = {
  key: 'export',
  schema: Type.Optional(Type.Unknown()),
  check: (c) => void readExport(c.config.raw.export, c.error),
};

function readExport(section: unknown, issue: IssueAt): RemoteWriteTarget[] {
  const raw = structuredClone(section ?? {});
  const found = validate(ExportSectionSchema, raw);
  for (const i of found) issue(['export', ...i.path], i.message);
  if (found.length) return [];
  const targets = (raw as Static<typeof ExportSectionSchema>).remote_write;
  targets.forEach((t, i) => {
    try {
      new URL(t.url);
    } catch {
      issue(['export', 'remote_write', i, 'url'], `"${t.url}" is not a URL`);
    }
  });
  return targets;
}

/** The per-series values sent for each round (names as on /metrics). */
const VALUES: [string, (r: Round) => number | null][] = [
  ['smokemesh_series_loss_ratio', (r) => (r.sent === 0 ? 1 : r.loss / r.sent)],
  ['smokemesh_series_rtt_median_seconds', (r) => (r.median === null ? null : r.median / 1000)],
  ['smokemesh_series_rtt_min_seconds', (r) => (r.min === null ? null : r.min / 1000)],
  ['smokemesh_series_rtt_max_seconds', (r) => (r.max === null ? null : r.max / 1000)],
  ['smokemesh_series_rtt_stddev_seconds', (r) => (r.stddev === null ? null : r.stddev / 1000)],
];

/** Turns rounds into remote-write series, one sample per value per round at the round's time. */
export function roundsToSeries(rounds: readonly Round[], extra: Record<string, string>): WriteSeries[] {
  const bySeries = new Map<string, WriteSeries>();
  for (const r of rounds) {
    for (const [name, value] of VALUES) {
      const v = value(r);
      if (v === null) continue;
      const key = `${name}\0${r.target}\0${r.agent}`;
      let s = bySeries.get(key);
      if (!s) bySeries.set(key, (s = { labels: { ...extra, __name__: name, target: r.target, agent: r.agent, probe: r.probe }, samples: [] }));
      s.samples.push({ value: v, timestamp: r.time });
    }
  }
  for (const s of bySeries.values()) s.samples.sort((a, b) => a.timestamp - b.timestamp);
  return [...bySeries.values()];
}

/**
 * Sends rounds to one remote-write endpoint in batches: a bounded queue (oldest dropped
 * first, counted), one request at a time, retried with backoff on 5xx and network errors,
 * dropped (and counted) on 4xx, which would fail again. Never throws into ingest.
 */
export class RemoteWriteSink implements RoundSink {
  readonly name: string;
  readonly stats = { sent_rounds: 0, dropped_rounds: 0, failed_requests: 0, pending: 0, last_error: undefined as string | undefined };
  private queue: Round[] = [];
  private busy = false;
  private backoffUntil = 0;
  private backoff = 1000;
  private timer: NodeJS.Timeout;

  constructor(private readonly target: RemoteWriteTarget, private readonly log: Logger) {
    this.name = `remote-write ${target.url}`;
    this.timer = setInterval(() => void this.flush(), target.flush_seconds * 1000);
    this.timer.unref();
  }

  write(rounds: readonly Round[]): void {
    this.queue.push(...rounds);
    const over = this.queue.length - this.target.max_pending_rounds;
    if (over > 0) {
      this.queue.splice(0, over);
      this.stats.dropped_rounds += over;
    }
    this.stats.pending = this.queue.length;
    if (this.queue.length >= this.target.batch_rounds) void this.flush();
  }

  /** Sends what is queued, batch after batch, until empty or the endpoint fails. */
  async flush(): Promise<void> {
    if (this.busy || Date.now() < this.backoffUntil) return;
    this.busy = true;
    try {
      while (this.queue.length) {
        const batch = this.queue.slice(0, this.target.batch_rounds);
        const outcome = await this.send(batch);
        if (outcome === 'retry') break;
        this.queue.splice(0, batch.length);
        this.stats.pending = this.queue.length;
        if (outcome === 'sent') this.stats.sent_rounds += batch.length;
        else this.stats.dropped_rounds += batch.length;
      }
    } finally {
      this.busy = false;
    }
  }

  private async send(batch: Round[]): Promise<'sent' | 'dropped' | 'retry'> {
    const body = snappyBlock(encodeWriteRequest(roundsToSeries(batch, this.target.labels)));
    try {
      const res = await fetch(this.target.url, {
        method: 'POST', body: new Blob([body as Uint8Array<ArrayBuffer>]),
        headers: { 'content-type': 'application/x-protobuf', 'content-encoding': 'snappy', 'x-prometheus-remote-write-version': '0.1.0' },
        signal: AbortSignal.timeout(this.target.timeout_seconds * 1000),
      });
      const text = res.ok ? '' : (await res.text()).slice(0, 300);
      if (res.ok) {
        this.backoff = 1000;
        return 'sent';
      }
      this.stats.failed_requests++;
      this.stats.last_error = `HTTP ${res.status}: ${text}`;
      if (res.status >= 400 && res.status < 500 && res.status !== 429) {
        this.log.error({ url: this.target.url, status: res.status, error: text, rounds: batch.length }, 'remote write refused a batch; dropping it (it would fail again)');
        return 'dropped';
      }
    } catch (e) {
      this.stats.failed_requests++;
      this.stats.last_error = (e as Error).message;
    }
    this.log.warn({ url: this.target.url, error: this.stats.last_error, retry_in_ms: this.backoff, pending: this.queue.length }, 'remote write failed; will retry');
    this.backoffUntil = Date.now() + this.backoff;
    this.backoff = Math.min(this.backoff * 2, 60_000);
    return 'retry';
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    this.backoffUntil = 0;
    await this.flush();
  }
}
