/**
 * The cluster's rows of `smokemesh_agents_seen` as one server keeps them in memory, kept up to
 * date by reading only what changed (agents-seen-pg.ts): every insert or update of a row gives
 * it the next `change` number, every deletion leaves a tombstone with one. A server reads every
 * row once (at start, after any error, when the tombstones it needs were pruned, when the
 * table's epoch changed), then at each heartbeat the rows and tombstones after its cursor.
 * Pure functions over plain data; times are ms since the epoch on the database's clock.
 */
import { SmokemeshError } from '../errors.ts';

/** What a row of `smokemesh_agents_seen` says of its agent, besides the times. */
export interface SightingFacts {
  polling: boolean;
  region: string;
  labels: Record<string, string>;
  builtin: boolean;
  /** The addresses meshes probe, and the agent's version (null: unknown). */
  intranet: string | null;
  public: string | null;
  version: string | null;
}

/** A row as stored: its facts, its absolute times and its change number. */
export interface StoredSighting extends SightingFacts {
  agent: string;
  server: string;
  change: number;
  /** When the row was written, the agent last heard from, its last task poll (null: never). */
  written_at: number;
  seen_at: number;
  polled_at: number | null;
}

/** A deleted row (pruned, or removed by any other statement): its key and its change number. */
export interface GoneSighting {
  agent: string;
  server: string;
  change: number;
}

/** What the table says of itself, read in the same snapshot as the rows. */
export interface SightingsMeta {
  /** The table's identity: a new one when its tables were recreated or its schema changed (every cursor starts over). */
  epoch: string;
  /** The highest change number of a pruned tombstone: a cursor below it may have missed a deletion. */
  pruned: number;
  /** The highest change number the snapshot holds (rows, tombstones, pruned). */
  top: number;
  /** The database's clock at the read. */
  now: number;
}

/** One read: every row (full) or the rows and tombstones after the cursor, with the table's meta. */
export interface SightingsPage {
  full: boolean;
  meta: SightingsMeta;
  rows: readonly StoredSighting[];
  gone: readonly GoneSighting[];
}

/** The rows a server knows (by agent, then server), the epoch they belong to and the change number read up to. */
export interface SightingsState {
  epoch: string;
  cursor: number;
  rows: Map<string, Map<string, StoredSighting>>;
  /** The agents whose rows the last read changed (undefined: a full read, every agent). */
  changed: ReadonlySet<string> | undefined;
}

/** Every row of the state. */
export function* allSightings(state: SightingsState): Generator<StoredSighting> {
  for (const byServer of state.rows.values()) yield* byServer.values();
}

/**
 * Why the next read must be a full one, or undefined when reading after the cursor is enough:
 * nothing read yet, another epoch (tables recreated, schema changed), or tombstones after the
 * cursor pruned (a deletion it has not seen may be gone with them).
 */
export function fullReadReason(state: SightingsState | undefined, meta: Pick<SightingsMeta, 'epoch' | 'pruned'>): 'start' | 'epoch' | 'pruned' | undefined {
  if (!state) return 'start';
  if (state.epoch !== meta.epoch) return 'epoch';
  if (meta.pruned > state.cursor) return 'pruned';
  return undefined;
}

/**
 * The state after a read: a full page replaces it; an incremental one applies each key's
 * newest event (a row or a tombstone, by change number; one older than what the state holds is
 * ignored) and moves the cursor to the page's top (never back). The state given is consumed:
 * its map is updated in place and returned (a copy of every row per heartbeat is what reading
 * by changes avoids). An incremental page of another epoch than the state's is refused (the
 * caller reads in full instead: fullReadReason).
 */
export function applySightings(state: SightingsState | undefined, page: SightingsPage): SightingsState {
  if (page.full) {
    const rows = new Map<string, Map<string, StoredSighting>>();
    for (const r of page.rows) put(rows, r);
    return { epoch: page.meta.epoch, cursor: page.meta.top, rows, changed: undefined };
  }
  if (!state || state.epoch !== page.meta.epoch) {
    throw new SmokemeshError('SMOKEMESH_E_CLUSTER', `agents seen: a read of the changes of epoch ${page.meta.epoch} cannot apply over ${state ? `epoch ${state.epoch}` : 'nothing'}`);
  }
  const rows = state.rows;
  const changed = new Set<string>();
  const events: (StoredSighting | GoneSighting)[] = [...page.rows, ...page.gone].sort((a, b) => a.change - b.change);
  for (const e of events) {
    const byServer = rows.get(e.agent);
    const prev = byServer?.get(e.server);
    if (prev && prev.change >= e.change) continue;
    changed.add(e.agent);
    if ('written_at' in e) put(rows, e);
    else if (byServer?.delete(e.server) && !byServer.size) rows.delete(e.agent);
  }
  return { epoch: state.epoch, cursor: Math.max(state.cursor, page.meta.top), rows, changed };
}

function put(rows: Map<string, Map<string, StoredSighting>>, r: StoredSighting): void {
  let byServer = rows.get(r.agent);
  if (!byServer) rows.set(r.agent, (byServer = new Map()));
  byServer.set(r.server, r);
}
