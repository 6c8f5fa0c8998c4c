/**
 * What a server does with its series when the live set changes: pure decisions over keys.
 * A series this server evaluates and no longer owns is dropped from its memory (the new owner
 * continues from the shared state); a series it now owns and does not hold in memory is
 * adopted: its alert state is read from the shared database before any round of it is
 * evaluated here.
 */
import { seriesOwner } from './hrw.ts';

export interface Handover {
  /** Keys held in memory that another server owns now. */
  drop: string[];
  /** Keys of shared state (alert counters) this server owns now and does not hold. */
  adopt: string[];
}

/**
 * `held`: keys whose state this server holds in memory; `shared`: keys that have state in the
 * shared database; `live`: the live set now (this server included); `me`: this server's id.
 */
export function handover(held: Iterable<string>, shared: Iterable<string>, live: readonly string[], me: string): Handover {
  const heldSet = new Set(held);
  const drop = [...heldSet].filter((k) => seriesOwner(k, live) !== me);
  const adopt = [...new Set(shared)].filter((k) => !heldSet.has(k) && seriesOwner(k, live) === me);
  return { drop, adopt };
}
