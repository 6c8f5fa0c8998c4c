/**
 * Rendezvous (highest random weight) hashing: each series goes to the live server with the
 * highest hash of (server, placement). Every server computes the same answer from the same live
 * set, with no table to share; when a server leaves, only its series move (each to the server
 * that ranked second for it), and a server joining takes about 1/N of the series from the
 * others. A series is placed by its agent (every series of an agent on one server, the one the
 * agent is told to push to, so that its rounds need no relay); a target evaluated whole (agent
 * "*", it has a quorum alert) by its target. Pure functions.
 */
import { createHash } from 'node:crypto';

/** The key of a series (target × agent) as hashed. */
export { seriesKey } from '../probes/round.ts';

/** The weight of `key` on `server`: the first 48 bits of SHA-256(server \0 key). */
export function weight(server: string, key: string): number {
  return createHash('sha256').update(server).update('\u0000').update(key).digest().readUIntBE(0, 6);
}

/** The agent of an ownership key of a target evaluated whole (the alert engine's ANY_AGENT). */
const WHOLE_TARGET = '*';

/**
 * What an ownership key (seriesKey(target, agent)) is placed by: `agent <name>` for a series,
 * `target <path>` for a target evaluated whole (agent "*").
 */
export function placementKey(key: string): string {
  const cut = key.lastIndexOf('\u0000');
  if (cut < 0) return key;
  const agent = key.slice(cut + 1);
  return agent === WHOLE_TARGET ? `target\u0000${key.slice(0, cut)}` : `agent\u0000${agent}`;
}

/** The live server that evaluates the series (or whole target) under this ownership key. */
export function seriesOwner(key: string, servers: readonly string[]): string | undefined {
  return ownerOf(placementKey(key), servers);
}

/** The live server that evaluates the series of `agent` (the one it is told to push to). */
export function agentOwner(agent: string, servers: readonly string[]): string | undefined {
  return ownerOf(`agent\u0000${agent}`, servers);
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
