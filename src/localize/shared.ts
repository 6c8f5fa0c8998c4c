/**
 * Localization in a cluster (the `cluster:` section): what the localization service needs of
 * the shared database, and the pure pieces around it. Each scope is stepped by its one owner
 * among the live servers (owner.ts); every other server sends it a digest of the latest rounds
 * it received (digest.ts) once per step. The scope's causes (raised and pending, with their
 * run counts and evidence traces) are one row of the shared database, changed by a
 * compare-and-set on its version by a live server (the alert state's fence,
 * src/cluster/fence.ts): a new owner continues them, and of two servers stepping a scope at
 * once only one changes it and sends its notifications.
 */
import type { TraceNote } from '../alerts/cause.ts';
import type { CauseMemo } from './types.ts';

/** A scope's shared state as stored. */
export interface SharedScopeState {
  /** Bumped by every accepted write. */
  version: number;
  /** The server whose write was accepted last. */
  owner: string;
  /** Time of the step that wrote it (ms). */
  time: number;
  /** The causes (encodeCauses). */
  causes: string;
  /** The engine's per-series memory (persist.ts's encodeState) and the step time it was taken at, when written. */
  memory?: { time: number; state: Buffer };
}

/** What a step of a scope reads: the digests the other servers sent, and the scope's shared state (none yet: undefined). */
export interface SharedScopeRead {
  digests: { sender: string; time: number; body: Buffer }[];
  state: SharedScopeState | undefined;
}

export type SharedWriteResult = { ok: true; version: number } | { ok: false; why: 'stale' | 'not-live'; owner: string | undefined };

/** The shared database as the localization service uses it (src/cluster/localize-pg.ts through ClusterDb). */
export interface LocalizeShared {
  /** This server's cluster.server_id. */
  readonly server: string;
  /** Replaces this server's digest for `scope` (taken at step `time`). */
  publish(scope: string, time: number, body: Buffer): Promise<void>;
  /** The digests of `scope` taken since `since` (ms), and its shared state (with the per-series memory when `memory`). */
  read(scope: string, since: number, memory: boolean): Promise<SharedScopeRead>;
  /** The scope's shared state without digests or memory (a server that does not step the scope explains its series by the causes). */
  causes(scope: string): Promise<SharedScopeState | undefined>;
  /** Writes the scope's state if its version is still `expected` (0: no row) and this server is live. */
  write(scope: string, expected: number, time: number, causes: string, memory?: Buffer): Promise<SharedWriteResult>;
}

/** A cause's memo with its evidence trace when it has one (how causes are saved, here and in the alert database). */
export function withTrace(m: CauseMemo, traceOf: (id: string) => TraceNote | undefined): CauseMemo & { trace?: TraceNote } {
  const trace = traceOf(m.cause.id);
  return trace ? { ...m, trace } : m;
}

/** The causes of a scope as one JSON text (each cause's memo, with its evidence trace when it has one). */
export function encodeCauses(causes: Iterable<CauseMemo>, traceOf: (id: string) => TraceNote | undefined): string {
  return JSON.stringify([...causes].map((m) => withTrace(m, traceOf)));
}

/** Decodes encodeCauses' text into the causes and their traces; throws on text it did not write. */
export function decodeCauses(text: string): { causes: Map<string, CauseMemo>; traces: Map<string, TraceNote> } {
  const list = JSON.parse(text) as unknown;
  if (!Array.isArray(list)) throw new Error('shared localization causes are not a list');
  const causes = new Map<string, CauseMemo>();
  const traces = new Map<string, TraceNote>();
  for (const x of list as (CauseMemo & { trace?: TraceNote })[]) {
    if (!x || typeof x !== 'object' || !x.cause || typeof x.cause.id !== 'string') throw new Error('shared localization cause without an id');
    const { trace, ...m } = x;
    causes.set(m.cause.id, m);
    if (trace) traces.set(m.cause.id, trace);
  }
  return { causes, traces };
}
