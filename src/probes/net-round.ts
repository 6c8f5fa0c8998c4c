import { setMaxListeners } from 'node:events';
import { performance } from 'node:perf_hooks';
import type { Measurement } from './round.ts';

/** What one attempt (one "ping") of a tcp/dns/http probe produced. */
export type AttemptOutcome =
  | { ok: true; rtt: number; phases?: Record<string, number>; status?: number; cert_expiry?: number }
  | { ok: false; error: string; status?: number; cert_expiry?: number };

/** Parameters that shape a round of attempts. */
export interface RoundTiming {
  pings: number;
  timeout: number;
  /** Seconds between rounds; used for the default spacing. */
  step?: number;
  /** ms between attempt starts; undefined = default spacing. */
  interval?: number;
}

/** Default attempt spacing: one per second at most, and the whole round within a quarter of the step. */
export function attemptInterval(t: RoundTiming): number {
  if (t.interval !== undefined) return t.interval;
  const step = t.step ?? 60;
  return Math.max(0, Math.min(1000, Math.floor((step * 1000) / 4 / t.pings)));
}

/** The reason reported for attempts cut short by the round's AbortSignal. */
export const ABORTED = 'aborted (round cancelled)';

/**
 * Runs `pings` attempts one after another, starting attempt i no earlier than
 * i × interval after the first (never overlapping), and folds them into a Measurement:
 * rtts of the successful attempts, phases averaged over them, the last status seen, the
 * last certificate expiry seen and the reason of the last failure.
 * When `signal` aborts, no further attempt starts; an attempt cut short is not counted as
 * sent, and `error` says the round was aborted. Never throws: an attempt that throws is a
 * failed attempt with the thrown message.
 */
export async function runAttempts(
  t: RoundTiming,
  signal: AbortSignal,
  attempt: (i: number, signal: AbortSignal) => Promise<AttemptOutcome>,
): Promise<Measurement> {
  const interval = attemptInterval(t);
  const rtts: number[] = [];
  const phaseSums = new Map<string, number>();
  let phaseCount = 0;
  let sent = 0;
  let status: number | undefined;
  let certExpiry: number | undefined;
  let error: string | undefined;
  const start = performance.now();
  for (let i = 0; i < t.pings; i++) {
    if (signal.aborted) { error = ABORTED; break; }
    const wait = start + i * interval - performance.now();
    if (wait > 0 && !(await sleep(wait, signal))) { error = ABORTED; break; }
    let out: AttemptOutcome;
    try {
      out = await attempt(i, signal);
    } catch (e) {
      out = { ok: false, error: e instanceof Error ? e.message : String(e) };
    }
    if (signal.aborted) { error = ABORTED; break; }
    sent++;
    if (out.status !== undefined) status = out.status;
    if (out.cert_expiry !== undefined) certExpiry = out.cert_expiry;
    if (out.ok) {
      rtts.push(out.rtt);
      if (out.phases) {
        phaseCount++;
        for (const [k, v] of Object.entries(out.phases)) phaseSums.set(k, (phaseSums.get(k) ?? 0) + v);
      }
    } else {
      error = out.error;
    }
  }
  const m: Measurement = { sent, rtts };
  if (phaseCount > 0) {
    m.phases = {};
    for (const [k, v] of phaseSums) m.phases[k] = Math.round((v / phaseCount) * 1000) / 1000;
  }
  if (status !== undefined) m.status = status;
  if (certExpiry !== undefined) m.cert_expiry = certExpiry;
  if (error !== undefined) m.error = error;
  return m;
}

/** A measurement for a target that could not be measured at all: every ping lost. */
export function unmeasurable(pings: number, error: string): Measurement {
  return { sent: pings, rtts: [], error };
}

const shared = new WeakSet<AbortSignal>();

/**
 * A round's signal is listened to by every attempt and pause of every target measured at once
 * (200 TCP targets: 200 listeners, each removed when its attempt ends): not a leak, so Node's
 * warning past 10 listeners is turned off for it.
 */
function sharedSignal(signal: AbortSignal): void {
  if (shared.has(signal)) return;
  shared.add(signal);
  setMaxListeners(0, signal);
}

/** Waits `ms`; resolves false early (and promptly) if `signal` aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve(false);
    sharedSignal(signal);
    const timer = setTimeout(() => { signal.removeEventListener('abort', onAbort); resolve(true); }, ms);
    const onAbort = (): void => { clearTimeout(timer); resolve(false); };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * A signal for one attempt: aborts when the round aborts or after `timeout` ms.
 * `timedOut()` tells which of the two happened.
 */
export function attemptSignal(round: AbortSignal, timeout: number): { signal: AbortSignal; timedOut: () => boolean; dispose: () => void } {
  const ctl = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => { timedOut = true; ctl.abort(new Error(`timeout after ${timeout} ms`)); }, timeout);
  const onAbort = (): void => ctl.abort(round.reason);
  if (round.aborted) ctl.abort(round.reason);
  else {
    sharedSignal(round);
    round.addEventListener('abort', onAbort, { once: true });
  }
  return {
    signal: ctl.signal,
    timedOut: () => timedOut,
    dispose: () => { clearTimeout(timer); round.removeEventListener('abort', onAbort); },
  };
}
