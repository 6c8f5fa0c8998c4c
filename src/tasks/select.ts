import type { AgentChoice } from './record.ts';

/** What the choice of agents looks at. */
export interface AgentFacts {
  name: string;
  region: string;
  labels: Record<string, string>;
}

/**
 * The agents a task goes to: the listed names, or (with `all`, `regions`, `labels` or
 * `probing`) every agent passing all the filters given. Down agents are chosen too: they get
 * a clear "agent_down" status rather than silently nothing. Throws an Error saying what to fix
 * when the choice is empty, names an agent unknown (to `knower`: this server, or the cluster) or matches nobody.
 */
export function chooseAgents(choice: AgentChoice, agents: readonly AgentFacts[], probersOf: (target: string) => readonly string[] | undefined, knower = 'this server'): string[] {
  const known = new Map(agents.map((a) => [a.name, a]));
  const filtered = choice.regions !== undefined || choice.labels !== undefined || choice.probing !== undefined;
  if (!choice.names?.length && !choice.all && !filtered) {
    throw new Error('agents: choose the agents (names, regions, labels, probing: a target path, or all: true)');
  }
  let pool: AgentFacts[];
  if (choice.names?.length) {
    const unknown = choice.names.filter((n) => !known.has(n));
    if (unknown.length) throw new Error(`agents.names: ${unknown.map((n) => `"${n}"`).join(', ')} ${unknown.length > 1 ? 'are' : 'is'} not known to ${knower} (GET /api/v1/agents lists them)`);
    pool = [...new Set(choice.names)].map((n) => known.get(n)!);
  } else {
    pool = [...agents];
  }
  if (choice.regions) pool = pool.filter((a) => choice.regions!.includes(a.region));
  if (choice.labels) pool = pool.filter((a) => Object.entries(choice.labels!).every(([k, v]) => a.labels[k] === v));
  if (choice.probing !== undefined) {
    const probers = probersOf(choice.probing);
    if (!probers) throw new Error(`agents.probing: no target "${choice.probing}" in the config`);
    pool = pool.filter((a) => probers.includes(a.name));
  }
  if (!pool.length) throw new Error(`agents: no agent matches ${JSON.stringify(choice)}`);
  return pool.map((a) => a.name);
}
