import { Ajv, type ErrorObject } from 'ajv';
import { RoundSchema, smokepingMedian, type Round } from '../probes/round.ts';

/**
 * The one validation of a round, shared by every writer: the store runs it on every round it
 * is asked to write, and the agent API runs the very same function (through `Store.check`)
 * before it acknowledges anything. A round passes when it fits RoundSchema (with its upper
 * bounds: ROUND_LIMITS), its derived fields agree with its RTTs, and its time lies in the
 * window the store can keep.
 */

/** What is wrong with a round: the field (a path such as `rtts.3`) and why. */
export interface RoundProblem {
  field: string;
  message: string;
}

/** The time window a store accepts, ms since the epoch. */
export interface RoundWindow {
  /** Oldest time accepted (the raw retention horizon: an older duplicate could not be told apart). */
  oldest: number;
  /** Newest time accepted (a wrong agent clock would poison the series). */
  newest: number;
  /** Said in the refusal of a round that is too old, e.g. "store.raw_days = 14". */
  retention: string;
}

/** Rounds timed further ahead than this are refused (request timestamps may be 5 min off). */
export const FUTURE_MS = 10 * 60_000;

// First error only: a round with 10^6 bad RTTs must not cost 10^6 error objects.
const ajv = new Ajv({ allErrors: false, strict: false, coerceTypes: false, useDefaults: false });
const fitsSchema = ajv.compile(RoundSchema as object);

/** Returns what is wrong with `r` (never trusting its shape), or undefined when the store may keep it. */
export function checkRound(r: unknown, window: RoundWindow): RoundProblem | undefined {
  if (!fitsSchema(r)) return schemaProblem(fitsSchema.errors?.[0]);
  const round = r as Round;
  const n = round.rtts.length;
  if (n > round.sent) return { field: 'rtts', message: `more RTTs (${n}) than pings sent (${round.sent})` };
  for (let i = 1; i < n; i++) {
    if (round.rtts[i]! < round.rtts[i - 1]!) return { field: `rtts.${i}`, message: 'RTTs must be sorted ascending' };
  }
  if (round.loss !== round.sent - n) return { field: 'loss', message: `must be sent - received = ${round.sent - n}` };
  const derived = { min: n ? round.rtts[0]! : null, max: n ? round.rtts[n - 1]! : null, median: smokepingMedian(round.rtts) };
  for (const k of ['min', 'max', 'median'] as const) {
    if (round[k] !== derived[k]) return { field: k, message: `must be ${derived[k]} (derived from rtts)` };
  }
  if ((round.mean === null) !== (n === 0)) return { field: 'mean', message: n ? 'must be a number when RTTs were received' : 'must be null when no RTT was received' };
  if ((round.stddev === null) !== (n === 0)) return { field: 'stddev', message: n ? 'must be a number when RTTs were received' : 'must be null when no RTT was received' };
  // mean and stddev are floats rounded to µs by the agent: check that they are possible, not equal.
  if (n && (round.mean! < derived.min! - 0.001 || round.mean! > derived.max! + 0.001)) return { field: 'mean', message: 'must lie between min and max' };
  if (n && round.stddev! > derived.max! - derived.min! + 0.001) return { field: 'stddev', message: 'must not exceed max - min' };
  if (round.time < window.oldest) {
    return { field: 'time', message: `${iso(round.time)} is older than the store keeps raw rounds (${window.retention}); it cannot be stored` };
  }
  if (round.time > window.newest) {
    return { field: 'time', message: `${iso(round.time)} is in the future (check the agent's clock)` };
  }
  return undefined;
}

function iso(ms: number): string {
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? String(ms) : d.toISOString();
}

function schemaProblem(e: ErrorObject | undefined): RoundProblem {
  if (!e) return { field: '', message: 'is invalid' };
  const path = e.instancePath.split('/').slice(1).map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (e.keyword === 'required') return { field: [...path, String(e.params.missingProperty)].join('.'), message: 'is missing' };
  // A bad key (phase name): ajv names it on the error itself.
  const key = (e as ErrorObject & { propertyName?: string }).propertyName ?? (e.keyword === 'propertyNames' ? String(e.params.propertyName) : undefined);
  if (key !== undefined) return { field: [...path, key.slice(0, 64)].join('.'), message: `key ${e.message ?? 'is invalid'}` };
  if (e.keyword === 'enum') return { field: path.join('.'), message: `must be one of ${JSON.stringify(e.params.allowedValues)}` };
  if (path.length === 0) return { field: '', message: `round ${e.message ?? 'is invalid'}` };
  return { field: path.join('.'), message: e.message ?? 'is invalid' };
}
