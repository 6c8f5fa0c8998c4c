/**
 * Sharding by rendezvous (highest random weight) hashing: within a region, each target goes
 * to the live candidate agent with the highest score hash(target, agent). A target therefore
 * moves only when its winner leaves or a newcomer outscores it — the minimal movement any
 * stable split can have — and every server computes the same split without coordination.
 */

/** 32-bit FNV-1a of a string (UTF-16 code units; enough for names and paths). */
export function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** murmur3's finalizer: spreads every input bit over the output (FNV alone mixes poorly). */
function mix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The rendezvous score of an agent for a target, from their precomputed hashes. */
export function score(targetHash: number, agentHash: number): number {
  return mix(mix(targetHash ^ 0x9e3779b9) ^ agentHash);
}

/**
 * The candidate that owns `target`, or undefined when there is none. Ties (equal 32-bit
 * scores) go to the smaller name so that the result never depends on the candidates' order.
 */
export function shardOwner(target: string, candidates: readonly string[]): string | undefined {
  return ownerOf(target, hashCandidates(candidates));
}

/** Candidates with their name hashes, to reuse over many targets. */
export type HashedCandidates = readonly { name: string; hash: number }[];
export function hashCandidates(candidates: readonly string[]): HashedCandidates {
  return candidates.map((name) => ({ name, hash: fnv1a(name) }));
}

/** shardOwner over precomputed candidate hashes. */
export function ownerOf(target: string, candidates: HashedCandidates): string | undefined {
  const th = fnv1a(target);
  let best: string | undefined;
  let bestScore = -1;
  for (const c of candidates) {
    const s = score(th, c.hash);
    if (s > bestScore || (s === bestScore && best !== undefined && c.name < best)) {
      best = c.name;
      bestScore = s;
    }
  }
  return best;
}

/**
 * Splits targets among the candidates: every target to exactly one candidate (none when the
 * list is empty). The map holds every candidate, with an empty list when it won nothing.
 */
export function splitTargets(targets: readonly string[], candidates: readonly string[]): Map<string, string[]> {
  const out = new Map<string, string[]>(candidates.map((c) => [c, []]));
  const hashed = hashCandidates([...new Set(candidates)]);
  for (const t of targets) {
    const owner = ownerOf(t, hashed);
    if (owner !== undefined) out.get(owner)!.push(t);
  }
  return out;
}
