/**
 * Quorum alerts: an alert on a target probed by several agents raises once for the target
 * when enough of them match, instead of once per agent. Plain functions over plain data.
 */
import type { QuorumConfig } from '../config/alerts-schema.ts';

/** One agent's series of the target: whether the alert is raised on it, and its region. */
export interface QuorumVoter {
  agent: string;
  region: string;
  matching: boolean;
}

export interface QuorumVerdict {
  met: boolean;
  matching: string[];
  /** Agents reporting on the target (fresh series). */
  total: number;
  regions: string[];
  /** What was needed, in words: "2 of 3 agents, 2 regions". */
  need: string;
}

/** Whether the voters meet the quorum: `agents` (a number or a percentage of them, at least 1) and `regions`. */
export function quorum(q: QuorumConfig, voters: readonly QuorumVoter[]): QuorumVerdict {
  const total = voters.length;
  const matching = voters.filter((v) => v.matching).map((v) => v.agent).sort();
  const regions = [...new Set(voters.filter((v) => v.matching).map((v) => v.region))].sort();
  let agents = 1;
  if (typeof q.agents === 'number') agents = q.agents;
  else if (typeof q.agents === 'string') agents = Math.max(1, Math.ceil((Number(q.agents.slice(0, -1)) * total) / 100));
  const need = [`${agents} of ${total} agents`, ...(q.regions ? [`${q.regions} regions`] : [])].join(', ');
  const met = matching.length > 0 && matching.length >= agents && regions.length >= (q.regions ?? 0);
  return { met, matching, total, regions, need };
}
