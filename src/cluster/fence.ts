/**
 * The per-series fence of a cluster: a server may change a series' shared alert state (and
 * send the notifications that change caused) only if the state it changes is the one it last
 * read or wrote: a compare-and-set on the row's version, by a server whose heartbeat is fresh.
 * While two servers' views of the live set disagree, both may evaluate a series, but only one
 * of them wins each change; the other drops its change and its notifications and reads the
 * state again. Pure decision over plain rows; the SQL that applies it is in postgres.ts.
 */

/** One series × alert's shared state as stored (prevmatch 0: not matching; the row stays, so its version does too). */
export interface SharedAlertState {
  target: string;
  agent: string;
  alert: string;
  prevmatch: number;
  since: number;
  /** Bumped by every accepted change; 0 for a row that was never written. */
  version: number;
  /** The server whose change was accepted last. */
  owner: string;
}

/** A change one server wants to make: the new counter, and the version it was computed from. */
export interface FenceWrite {
  target: string;
  agent: string;
  alert: string;
  prevmatch: number;
  since: number;
  /** The version this server read or wrote last for the row (0: it knows no row). */
  expected: number;
}

export type FenceVerdict =
  | { ok: true; next: SharedAlertState }
  | { ok: false; why: 'stale' | 'not-live'; current: SharedAlertState | undefined };

/** The key of a series × alert (the engine's notification key has the same form). */
export function stateKey(target: string, agent: string, alert: string): string {
  return `${target}\u0000${agent}\u0000${alert}`;
}

/**
 * Whether `server`'s write stands against the row as it is now (`current`, undefined when
 * absent). It stands when the writer is live (its heartbeat at most dead_after old, on the
 * database's clock) and the row's version is the one the write was computed from; the row then
 * gets the next version and the writer as owner.
 */
export function decideFence(current: SharedAlertState | undefined, write: FenceWrite, server: string, writerLive: boolean): FenceVerdict {
  if (!writerLive) return { ok: false, why: 'not-live', current };
  const version = current?.version ?? 0;
  if (version !== write.expected) return { ok: false, why: 'stale', current };
  return {
    ok: true,
    next: { target: write.target, agent: write.agent, alert: write.alert, prevmatch: write.prevmatch, since: write.since, version: version + 1, owner: server },
  };
}

/**
 * The last change per series × alert of a batch: a batch of rounds may change one counter
 * several times; only its final value is written (one compare-and-set).
 */
export function lastPerKey<T extends { target: string; agent: string; alert: string }>(changes: readonly T[]): T[] {
  const out = new Map<string, T>();
  for (const c of changes) {
    const k = stateKey(c.target, c.agent, c.alert);
    out.delete(k);
    out.set(k, c);
  }
  return [...out.values()];
}
