/**
 * Which server steps a localization scope when several share the work (the `cluster:`
 * section): the rendezvous owner of the scope among the live servers (src/cluster/hrw.ts, the
 * same hashing that gives each series its one alert evaluator). Every server computes the
 * same answer from the same live set, so each scope is stepped by exactly one of them; when
 * its owner leaves, the scope moves to the server that ranked second for it. Pure.
 */
import { ownerOf } from '../cluster/hrw.ts';

/** The key a scope is hashed by (apart from series keys, which hold a target path and an agent). */
export const scopeKey = (scope: string): string => `localize\u0000${scope}`;

/** The live server that steps `scope`; undefined while no live set is known (then none does). */
export function scopeOwner(scope: string, live: readonly string[]): string | undefined {
  return ownerOf(scopeKey(scope), live);
}
