import Type, { type Static } from 'typebox';
import { NullableNumber } from '../schema.ts';
import type { ProbeType, Round } from '../probes/round.ts';
import type { RoundProblem } from './validate-round.ts';

export type { RoundProblem } from './validate-round.ts';

/**
 * The store's contract: what the ingest, the UI, the alert engine and the exporters may ask of
 * it. Times are ms since the epoch, RTTs ms. Implemented by src/store/sqlite.ts; any other
 * backend (e.g. VictoriaMetrics) keeps the same promises, above all those of `write`.
 */

const Ms = NullableNumber();

/** One point of a series: a raw round, or a rollup bucket (also the read API's wire shape). */
export const SeriesPointSchema = Type.Object({
  time: Type.Number({ description: 'start of the round, or of the bucket (ms since the epoch)' }),
  rounds: Type.Integer({ description: 'rounds merged into this point (1 for a raw round)' }),
  sent: Type.Integer({ description: 'pings sent over those rounds' }),
  lost: Type.Integer({ description: 'pings lost over those rounds' }),
  loss_pct: NullableNumber({ description: 'lost / sent × 100; null when nothing was sent' }),
  median: Ms,
  mean: Ms,
  min: Ms,
  max: Ms,
  stddev: Ms,
  smoke: Type.Array(Type.Number(), {
    description: "the distribution, ascending: a raw round's received RTTs, or a bucket's quantiles "
      + '(levels in SMOKE_QUANTILES); pair from the outside in to draw bands',
  }),
  phases: Type.Optional(Type.Record(Type.String(), Type.Number(), { description: 'mean phase timings (ms)' })),
  status: Type.Optional(Type.Integer({ description: 'last status code' })),
  error: Type.Optional(Type.String({ description: 'last error' })),
});
export type SeriesPoint = Static<typeof SeriesPointSchema>;

/** Quantile levels kept by every rollup bucket (0 and 1 are min and max). */
export const SMOKE_QUANTILES = [0, 0.05, 0.1, 0.25, 0.4, 0.5, 0.6, 0.75, 0.9, 0.95, 1] as const;

export interface SeriesQuery {
  target: string;
  agent: string;
  from: number;
  to: number;
  /** At most this many points; the finest tier that covers the range within it is used. */
  points?: number;
}

/** One series: a target as one agent measures it. */
export interface SeriesRef {
  target: string;
  agent: string;
}

/** A series and the range of its raw rounds wanted (Store.rawRounds), both ends included. */
export interface RawRead extends SeriesRef {
  from: number;
  to: number;
}

/** The key of a series in maps keyed by series (Store.rawRounds). */
export { seriesKey } from '../probes/round.ts';

export interface SeriesResult {
  target: string;
  agent: string;
  /** 'raw' or the tier's name ('5m', '1h', '1d'). */
  tier: string;
  /** Seconds per point (the round step for raw). */
  resolution: number;
  points: SeriesPoint[];
}

/** Small graphs of several targets at once (Store.summaries). */
export interface SummaryQuery {
  /** Target paths; every series of each (every agent with data) is summarized. */
  targets: readonly string[];
  from: number;
  to: number;
  /** At most this many points per series: the finest resolution that fits, neighbours merged past the coarsest tier. */
  points: number;
  /** Quantile levels wanted per point, each one of SMOKE_QUANTILES, ascending. */
  levels: readonly number[];
}

/**
 * One series as a small graph draws it, column by column: point i starts at time[i] (ms) and
 * covers `resolution` seconds; loss_pct is null when nothing was sent, median null and
 * smoke[i] empty when nothing was received; smoke[i] holds the RTTs (ms) at the query's levels.
 */
export interface SeriesSummary {
  target: string;
  agent: string;
  /** 'raw' or the tier's name. */
  tier: string;
  resolution: number;
  time: number[];
  loss_pct: (number | null)[];
  median: (number | null)[];
  smoke: number[][];
}

export interface SeriesInfo {
  target: string;
  agent: string;
  probe: string;
  first: number;
  last: number;
}

export type TopMetric = 'loss' | 'median' | 'max' | 'stddev';

export interface TopRow {
  target: string;
  agent: string;
  /** The metric's value (loss in %, the others in ms). */
  value: number;
  loss_pct: number | null;
  median: number | null;
  time: number;
}

/** A round the store's validation refused: its index in the batch, the field and why. */
export interface RoundRefusal extends RoundProblem {
  index: number;
}

/** What `write` did with a batch; every round not listed was newly committed. */
export interface WriteResult {
  /** Rounds newly committed by this call. */
  stored: number;
  /** Indices of rounds that were already stored (a resend): committed earlier, nothing changed. */
  duplicates: number[];
  /** Rounds refused by `check` (bad shape, out of bounds, outside the time window): never stored; resending cannot help. */
  refused: RoundRefusal[];
}

/** Health figures the server exposes (API and /metrics). */
export const StoreStatsSchema = Type.Object({
  rounds_written: Type.Integer({ description: 'rounds committed since start' }),
  refused: Type.Integer({ description: "rounds refused by the store's validation since start" }),
  duplicates: Type.Integer({ description: 'rounds that were already stored when written again (resends) since start' }),
  write_failures: Type.Integer({ description: 'writes that failed with SMOKEMESH_E_UNAVAILABLE since start (disk full, locked file, I/O error)' }),
  unavailable: Type.Boolean({ description: 'true while the store refuses writes after a storage failure (until its next attempt succeeds)' }),
  last_error: Type.Optional(Type.String({ description: 'the last storage failure, while it lasts' })),
  series: Type.Integer(),
  file_bytes: Type.Integer(),
});
export type StoreStats = Static<typeof StoreStatsSchema>;

/**
 * One interval of history from another system (one SmokePing RRD row): `rounds` rounds of
 * `pings` pings, known by their means. Times ms since the epoch, RTTs ms.
 */
export interface HistoryInterval {
  /** Start of the interval. */
  time: number;
  /** Its length in seconds (the source's resolution). */
  seconds: number;
  /** Rounds it stands for. */
  rounds: number;
  /** Pings per round. */
  pings: number;
  /** Mean pings lost per round (may be fractional). */
  lost: number;
  /** Mean of the rounds' medians; null when none was measured. */
  median: number | null;
  /** The received RTTs as ascending samples of their distribution (SmokePing: the mean k-th fastest ping, for each k known). */
  rtts: number[];
}

/** Foreign history of one series (target × agent). */
export interface HistoryImport {
  target: string;
  agent: string;
  probe: ProbeType;
  /** Seconds between rounds at the source. */
  step: number;
  intervals: HistoryInterval[];
}

export interface HistoryImportResult {
  /** Raw rounds written (intervals of one round at the step, within raw_days). */
  raw: number;
  /** Buckets written, by tier name. */
  buckets: Record<string, number>;
  /** Intervals not imported because the series already has history from then on (or they were malformed). */
  skipped: number;
}

/**
 * The store. **`write` is the durability contract of the whole server**: an agent's round is
 * acknowledged only after `write` returned for it.
 */
export interface Store {
  /**
   * Validates every round with `check`, then commits the valid ones **in one transaction**: once
   * it returns (or its promise resolves) they are on disk (as durable as `store.synchronous`
   * says) and the result lists the refused rounds and the duplicates. It never keeps rounds in
   * memory for later: when storage fails (disk full, locked file, I/O error) it throws a
   * SmokemeshError with code SMOKEMESH_E_UNAVAILABLE (an `UnavailableError`, with a retry hint)
   * and **nothing of the batch was committed**, so the caller must keep its rounds and retry.
   * Resending a committed round is harmless (duplicates are recognised by (target, agent, time)).
   * Any other failure throws SMOKEMESH_E_STORE.
   */
  write(rounds: readonly Round[]): WriteResult | Promise<WriteResult>;
  /**
   * The store's own validation of one round (the function `write` applies; src/store/validate-round.ts):
   * undefined when `write` would keep it, else the field and why. Callers that acknowledge
   * rounds (the agent API) ask it first.
   */
  check(round: unknown, now?: number): RoundProblem | undefined;
  series(q: SeriesQuery): SeriesResult;
  /**
   * Every series of the given targets over [from, to] as small graphs draw them (loss, median
   * and a few quantiles per point, at most `points` points), in target then agent order: one
   * read for all of them, from kept per-bucket quantiles (no histogram decoded), every series
   * at the resolution its range fits. Its points are series()'s at that resolution, with only
   * the asked quantiles; past the coarsest tier, neighbours are merged with their quantiles
   * averaged (weighted by RTTs received), min and max exact.
   */
  summaries(q: SummaryQuery): SeriesSummary[];
  /**
   * The raw rounds of several series, each over its own [from, to] (both ends included), keyed
   * by `seriesKey(target, agent)`: for each series the points series() returns over its range
   * when it answers from raw rounds (a series with none there is absent). Few reads for all of
   * them where a read is a round trip: the alert engine reads its histories back with it after a
   * start or a handover, for thousands of series at once.
   */
  rawRounds(reads: readonly RawRead[]): Map<string, SeriesPoint[]>;
  /** The latest round of every series (optionally under a target path prefix). */
  latest(prefix?: string): Round[];
  /** Top-N series by a metric over [from, to], or over each series' latest round when from is undefined. */
  top(metric: TopMetric, n: number, window?: { from: number; to: number }): TopRow[];
  list(): SeriesInfo[];
  /** Deletes every series under the given target paths; returns the number of series removed. */
  prune(paths: string[]): number;
  /** Moves a target's history (every agent) to a new path. */
  rename(from: string, to: string): number;
  /**
   * Adds history from before the series' first round (older than raw_days too): rollup
   * buckets at every tier, raw rounds where an interval is one round at the step and recent.
   * Never changes what is stored already, so importing the same history twice writes nothing.
   * Keeps `write`'s promises: one transaction per call that is committed when it returns;
   * storage failures throw SMOKEMESH_E_UNAVAILABLE with nothing of the series committed (run
   * it again); an interval whose round `check` refuses (too many pings, a bad path or step) is
   * skipped.
   */
  importHistory(h: HistoryImport): HistoryImportResult;
  stats(): StoreStats;
  close(): void;
}

/** Where a store reports what it did and what failed (the server passes its logger). */
export interface StoreLogger {
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
}

/** A logger that drops everything (stores opened without one). */
export const noLog: StoreLogger = { info() {}, warn() {}, error() {} };
