import type { TSchema } from 'typebox';
import type { Measurement, ProbeType } from './round.ts';

/** One target as a probe sees it: where to go and the fully resolved parameters. */
export interface ProbeTarget<P = Record<string, unknown>> {
  /** Target path, used only to name errors and results. */
  path: string;
  /** Host name or address; for http, the URL. */
  host: string;
  params: P;
}

/** Parameters every probe understands (resolved from general → preset → tree). */
export interface CommonParams {
  /** Attempts per round. */
  pings: number;
  /** Per-attempt timeout in ms. */
  timeout: number;
}

/**
 * A probe measures a batch of targets that share one parameter set and returns one
 * measurement per target, in the same order. A target that cannot be measured (name does
 * not resolve, bad address) yields sent=pings, no rtts and `error`; it never throws for
 * the batch. `signal` aborts the round (shutdown); the probe then returns promptly.
 */
export interface Probe<P extends CommonParams = CommonParams> {
  readonly type: ProbeType;
  /** Largest batch taken in one call; 1 = one target per call. */
  readonly batch: number;
  /** JSON schema of this probe's own parameters (beyond pings/timeout), with defaults. */
  readonly paramsSchema: TSchema;
  /** Why this probe cannot run on this machine (e.g. fping missing), or undefined. */
  unavailable?(): Promise<string | undefined>;
  measure(targets: ProbeTarget<P>[], signal: AbortSignal): Promise<Measurement[]>;
}
