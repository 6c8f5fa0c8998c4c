import type { Logger } from 'pino';
import type { RemoteWriteTarget } from './config.ts';
import type { RoundSink } from '../pipeline.ts';
import type { Round } from '../probes/round.ts';
import { encodeWriteRequest, snappyBlock, type WriteSeries } from './remote-write-codec.ts';
import { SendQueue, type SendOutcome } from './send-queue.ts';

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
 * Sends rounds to one remote-write endpoint through a SendQueue (bounded, batched, retried
 * with backoff on 5xx, 429 and network errors); a 4xx other than 429 drops the batch, which
 * would fail again. Never throws into ingest.
 */
export class RemoteWriteSink implements RoundSink {
  readonly name: string;
  private readonly queue: SendQueue<Round>;

  constructor(private readonly target: RemoteWriteTarget, log: Logger) {
    this.name = `remote-write ${target.url}`;
    this.queue = new SendQueue({ name: target.url, batch: target.batch_rounds, flushSeconds: target.flush_seconds, maxPending: target.max_pending_rounds }, (b) => this.send(b), log);
  }

  /** Counters for /metrics, in rounds. */
  get stats() {
    const s = this.queue.stats;
    return { sent_rounds: s.sent, dropped_rounds: s.dropped, failed_requests: s.failed_requests, pending: s.pending, last_error: s.last_error };
  }

  write(rounds: readonly Round[]): void {
    this.queue.push(rounds);
  }

  flush(): Promise<void> {
    return this.queue.flush();
  }

  private async send(batch: Round[]): Promise<SendOutcome> {
    const body = snappyBlock(encodeWriteRequest(roundsToSeries(batch, this.target.labels)));
    const res = await fetch(this.target.url, {
      method: 'POST', body: new Blob([body as Uint8Array<ArrayBuffer>]),
      headers: { 'content-type': 'application/x-protobuf', 'content-encoding': 'snappy', 'x-prometheus-remote-write-version': '0.1.0' },
      signal: AbortSignal.timeout(this.target.timeout_seconds * 1000),
    });
    if (res.ok) return { sent: true };
    const error = `HTTP ${res.status}: ${(await res.text()).slice(0, 300)}`;
    return res.status >= 400 && res.status < 500 && res.status !== 429 ? { drop: error } : { retry: error };
  }

  close(): Promise<void> {
    return this.queue.close();
  }
}
