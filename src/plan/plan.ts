import { createHash } from 'node:crypto';
import type { AgentSelection } from '../config/schema.ts';
import { probedTargets, type TargetNode } from '../config/tree.ts';
import type { Assignment, Plan } from './assignment.ts';

/** The facts about an agent that decide what it probes. */
export interface AgentIdentity {
  name: string;
  region: string;
  labels: Record<string, string>;
  builtin: boolean;
}

/** Whether a target's agent selection picks this (remote) agent. */
export function selects(sel: AgentSelection, agent: AgentIdentity): boolean {
  if (sel === 'all') return true;
  if (sel === 'none') return false;
  if (Array.isArray(sel)) return sel.includes(agent.name);
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
 */
export function planFor(root: TargetNode, agent: AgentIdentity): Plan {
  const assignments: Assignment[] = [];
  for (const t of probedTargets(root)) {
    const probes = agent.builtin ? t.server_probes : selects(t.agents, agent);
    if (!probes) continue;
    assignments.push({ target: t.path, host: t.probe.host, probe: t.probe.type, params: t.probe.params });
  }
  return { version: planVersion(assignments), agent: agent.name, assignments };
}

/** A short digest of the assignments, used as the plan's ETag. */
export function planVersion(assignments: Assignment[]): string {
  return createHash('sha256').update(JSON.stringify(assignments)).digest('base64url').slice(0, 16);
}
