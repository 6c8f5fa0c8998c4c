/**
 * Rendezvous (highest random weight) hashing: each series goes to the live server with the
 * highest hash of (server, series). Every server computes the same answer from the same live
 * set, with no table to share; when a server leaves, only its series move (each to the server
 * that ranked second for it), and a server joining takes about 1/N of the series from the
 * others. Pure functions.
 */
import { createHash } from 'node:crypto';

/** The key of a series (target × agent) as hashed. */
export function seriesKey(target: string, agent: string): string {
  return `${target}\u0000${agent}`;
}

/** The weight of `key` on `server`: the first 48 bits of SHA-256(server \0 key). */
export function weight(server: string, key: string): number {
  return createHash('sha256').update(server).update('\u0000').update(key).digest().readUIntBE(0, 6);
}

/** The server that owns `key` among `servers` (undefined when there is none). Ties go to the smaller server id. */
export function ownerOf(key: string, servers: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestW = -1;
  for (const s of servers) {
    const w = weight(s, key);
    if (w > bestW || (w === bestW && best !== undefined && s < best)) {
      best = s;
      bestW = w;
    }
  }
  return best;
}
