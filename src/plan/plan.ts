import { createHash } from 'node:crypto';
import type { AgentSelection } from '../config/schema.ts';
import { probedTargets, type TargetNode } from '../config/tree.ts';
import type { Assignment, Plan } from './assignment.ts';
import { hashCandidates, ownerOf, type HashedCandidates } from './shard.ts';

/** The facts about an agent that decide what it probes. */
export interface AgentIdentity {
  name: string;
  region: string;
  labels: Record<string, string>;
  builtin: boolean;
}

// Mesh targets list their probers by name (hundreds at mesh scale), read once per agent plan.
const nameSets = new WeakMap<readonly string[], Set<string>>();
function nameSet(list: readonly string[]): Set<string> {
  let s = nameSets.get(list);
  if (!s) nameSets.set(list, (s = new Set(list)));
  return s;
}

/** Whether a target's agent selection picks this (remote) agent. */
export function selects(sel: AgentSelection, agent: AgentIdentity): boolean {
  if (sel === 'all') return true;
  if (sel === 'none') return false;
  if (Array.isArray(sel)) return nameSet(sel).has(agent.name);
  if (sel.region !== undefined) {
    const regions = Array.isArray(sel.region) ? sel.region : [sel.region];
    if (!regions.includes(agent.region)) return false;
  }
  for (const [k, v] of Object.entries(sel.labels ?? {})) if (agent.labels[k] !== v) return false;
  return true;
}

/**
 * Computes an agent's plan from the target tree: the built-in agent probes every target
 * unless `server_probes: false`; a remote agent probes the targets whose `agents` select it.
 * A target under `shard: per_region` goes to exactly one of the live `peers` of the agent's
 * region that would probe it (rendezvous hashing, src/plan/shard.ts); without `peers` the
 * agent counts as alone in its region and probes all of them.
 */
export function planFor(root: TargetNode, agent: AgentIdentity, peers: readonly AgentIdentity[] = []): Plan {
  const assignments: Assignment[] = [];
  const regionPeers = peers.filter((p) => p.region === agent.region && p.name !== agent.name);
  regionPeers.push(agent);
  // Targets inherit their `agents` object from the group, so candidates are cached per
  // (selection, server_probes) pair rather than recomputed per target.
  const candidates = new Map<AgentSelection, Map<boolean, HashedCandidates>>();
  for (const t of probedTargets(root)) {
    if (!probes(t, agent)) continue;
    if (t.shard === 'per_region') {
      let bySp = candidates.get(t.agents);
      if (!bySp) candidates.set(t.agents, (bySp = new Map()));
      let names = bySp.get(t.server_probes);
      if (!names) bySp.set(t.server_probes, (names = hashCandidates(regionPeers.filter((p) => probes(t, p)).map((p) => p.name))));
      if (ownerOf(t.path, names) !== agent.name) continue;
    }
    assignments.push({ target: t.path, host: t.probe.host, probe: t.probe.type, params: t.probe.params });
  }
  return { version: planVersion(assignments), agent: agent.name, assignments };
}

/** Whether an agent probes a target, sharding aside. */
function probes(t: TargetNode, agent: AgentIdentity): boolean {
  return agent.builtin ? t.server_probes : selects(t.agents, agent);
}

/** A short digest of the assignments, used as the plan's ETag. */
export function planVersion(assignments: Assignment[]): string {
  const h = createHash('sha256');
  // Same digest as hashing JSON.stringify(assignments); params objects are shared by many
  // targets (a group's, a mesh's), so their JSON is made once.
  h.update('[');
  assignments.forEach((a, i) => {
    h.update(`${i ? ',' : ''}{"target":${JSON.stringify(a.target)},"host":${JSON.stringify(a.host)},"probe":${JSON.stringify(a.probe)},"params":${paramsJson(a.params)}}`);
  });
  h.update(']');
  return h.digest('base64url').slice(0, 16);
}

const paramsJsonCache = new WeakMap<object, string>();
function paramsJson(p: Record<string, unknown>): string {
  let s = paramsJsonCache.get(p);
  if (s === undefined) paramsJsonCache.set(p, (s = JSON.stringify(p)));
  return s;
}
