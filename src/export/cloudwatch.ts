/**
 * CloudWatch export: each round's median, loss, mean, stddev and phases as custom metrics
 * (PutMetricData through @aws-sdk/client-cloudwatch), with Target, Agent and Region
 * dimensions plus the chosen target labels. Credentials come from the SDK's standard chain
 * (or a profile); the region picks the partition (cn-* → monitoring.<region>.amazonaws.com.cn).
 */
import type { CloudWatchClient, CloudWatchClientConfig, MetricDatum, StandardUnit } from '@aws-sdk/client-cloudwatch';
import { lazyModule } from '../lazy-module.ts';
import type { Logger } from 'pino';
import type { RoundSink } from '../pipeline.ts';
import type { Round } from '../probes/round.ts';
import type { CloudWatchTarget } from './config.ts';
import { SendQueue, type SendOutcome } from './send-queue.ts';

/** PutMetricData limits: data points per request, and bytes per request (1 MB; we keep a margin for the envelope). */
export const PUT_METRIC_DATA_LIMITS = { datums: 1000, bytes: 1_000_000, budget: 900_000 } as const;

/** Where a round's dimensions come from besides the round itself. */
export interface CloudWatchLookups {
  /** The region of an agent (the Region dimension; left out when unknown). */
  regionOf(agent: string): string | undefined;
  /** The labels of a target. */
  labelsOf(target: string): Record<string, string> | undefined;
}

/** One data point waiting to be sent, with its size in the request (JSON). */
export interface QueuedDatum {
  datum: MetricDatum;
  bytes: number;
}

const PHASE_NAME = (phase: string) => `Phase${phase.charAt(0).toUpperCase()}${phase.slice(1).replace(/[^A-Za-z0-9_.-]/g, '_')}`;

/** The data points of one round (pure: no I/O). */
export function roundDatums(r: Round, t: Pick<CloudWatchTarget, 'metrics' | 'labels' | 'dimensions' | 'storage_resolution'>, look: CloudWatchLookups): MetricDatum[] {
  const dims = [{ Name: 'Target', Value: r.target }, { Name: 'Agent', Value: r.agent }];
  const region = look.regionOf(r.agent);
  if (region) dims.push({ Name: 'Region', Value: region });
  const labels = t.labels.length ? look.labelsOf(r.target) : undefined;
  for (const name of t.labels) {
    const v = labels?.[name];
    if (v) dims.push({ Name: name, Value: v.slice(0, 1024) });
  }
  for (const [Name, Value] of Object.entries(t.dimensions)) dims.push({ Name, Value });
  const Timestamp = new Date(r.time);
  const out: MetricDatum[] = [];
  const add = (MetricName: string, Value: number | null, Unit: StandardUnit) => {
    if (Value === null || !Number.isFinite(Value)) return;
    out.push({ MetricName, Dimensions: dims, Timestamp, Value, Unit, StorageResolution: t.storage_resolution });
  };
  for (const m of t.metrics) {
    if (m === 'median') add('RttMedian', r.median, 'Milliseconds');
    else if (m === 'mean') add('RttMean', r.mean, 'Milliseconds');
    else if (m === 'stddev') add('RttStdDev', r.stddev, 'Milliseconds');
    else if (m === 'loss') add('Loss', r.sent === 0 ? 100 : (100 * r.loss) / r.sent, 'Percent');
    else for (const [phase, ms] of Object.entries(r.phases ?? {})) add(PHASE_NAME(phase), ms, 'Milliseconds');
  }
  return out;
}

/** Bytes a datum takes in a JSON request body (Timestamp as epoch seconds, as the SDK writes it). */
export function datumBytes(d: MetricDatum): number {
  return Buffer.byteLength(JSON.stringify({ ...d, Timestamp: 1_800_000_000.123 })) + 1;
}

/** How many of the head data points fit one PutMetricData request (count and size). */
export function fitRequest(head: readonly QueuedDatum[]): number {
  let bytes = 0;
  let n = 0;
  for (const q of head) {
    if (n === PUT_METRIC_DATA_LIMITS.datums || (n > 0 && bytes + q.bytes > PUT_METRIC_DATA_LIMITS.budget)) break;
    bytes += q.bytes;
    n++;
  }
  return n;
}

/** Error names CloudWatch (and the SDK) use for throttling. */
/** The CloudWatch client, loaded at the first request (servers without a cloudwatch export never load it). */
const cloudwatch = lazyModule(() => import('@aws-sdk/client-cloudwatch'));

const THROTTLED = new Set(['Throttling', 'ThrottlingException', 'RequestLimitExceeded', 'TooManyRequestsException', 'RequestThrottled']);

/** The SDK client settings of a target (no SDK retries: the queue retries, with its counters). */
export function cloudWatchClientConfig(t: CloudWatchTarget): CloudWatchClientConfig {
  const c: CloudWatchClientConfig = { region: t.region, maxAttempts: 1 };
  if (t.endpoint !== undefined) c.endpoint = t.endpoint;
  if (t.profile !== undefined) c.profile = t.profile;
  return c;
}

/**
 * Sends rounds to one CloudWatch region and namespace: data points are queued (bounded,
 * oldest dropped first), grouped into requests within PutMetricData's limits, and a request
 * that is throttled, fails on the server side or on the network is retried whole after a
 * backoff (1 s doubling to 60 s); one refused for its content (4xx) is dropped and counted.
 */
export class CloudWatchSink implements RoundSink {
  readonly name: string;
  private readonly queue: SendQueue<QueuedDatum>;
  private client: CloudWatchClient | undefined;
  /** Requests CloudWatch accepted. */
  requests = 0;

  constructor(readonly target: CloudWatchTarget, private readonly look: CloudWatchLookups, log: Logger, opts: { backoffMs?: number } = {}) {
    this.name = `cloudwatch ${target.region} ${target.namespace}`;
    this.queue = new SendQueue({
      name: this.name, batch: PUT_METRIC_DATA_LIMITS.datums, take: fitRequest,
      flushSeconds: target.flush_seconds, maxPending: target.max_pending, ...(opts.backoffMs ? { backoffMs: opts.backoffMs } : {}),
    }, (b) => this.send(b), log);
  }

  /** Counters for /metrics and the health API, in data points. */
  get stats() {
    return { ...this.queue.stats, requests: this.requests };
  }

  write(rounds: readonly Round[]): void {
    const items: QueuedDatum[] = [];
    for (const r of rounds) for (const datum of roundDatums(r, this.target, this.look)) items.push({ datum, bytes: datumBytes(datum) });
    this.queue.push(items);
  }

  flush(): Promise<void> {
    return this.queue.flush();
  }

  /** Resolves once nothing is queued or the queue waits out a backoff. */
  settled(): Promise<void> {
    return this.queue.settled();
  }

  private async send(batch: QueuedDatum[]): Promise<SendOutcome> {
    try {
      const m = await cloudwatch();
      this.client ??= new m.CloudWatchClient(cloudWatchClientConfig(this.target));
      await this.client.send(new m.PutMetricDataCommand({ Namespace: this.target.namespace, MetricData: batch.map((q) => q.datum) }), {
        abortSignal: AbortSignal.timeout(this.target.timeout_seconds * 1000),
      });
      this.requests++;
      return { sent: true };
    } catch (e) {
      const err = e as { name?: string; message?: string; $metadata?: { httpStatusCode?: number; requestId?: string } };
      const status = err.$metadata?.httpStatusCode;
      const words = `PutMetricData: ${status ? `HTTP ${status} ` : ''}${err.name ?? 'Error'}: ${String(err.message ?? e).slice(0, 200)}${err.$metadata?.requestId ? ` (request ${err.$metadata.requestId})` : ''}`;
      // Throttling, server errors, the network, credentials (none yet, expired, denied): worth another try.
      const retry = !status || status >= 500 || status === 401 || status === 403 || status === 429 || THROTTLED.has(err.name ?? '');
      return retry ? { retry: words } : { drop: words };
    }
  }

  async close(): Promise<void> {
    await this.queue.close();
    this.client?.destroy();
  }
}
