/**
 * What the cluster shares of its agents beyond the shared tasks' needs: the addresses and
 * version each server saw of the agents talking to it (columns of `smokemesh_agents_seen`, so
 * that every server builds the same live mesh and plans from the same members), and whether an
 * agent is down for the cluster (`smokemesh_agent_liveness`: one row per agent, changed by a
 * compare-and-set, so that agent-down and agent-up are told by exactly one server).
 * Functions take a client inside the caller's transaction.
 */
import type pg from 'pg';

export const AGENTS_SCHEMA = `
ALTER TABLE smokemesh_agents_seen ADD COLUMN IF NOT EXISTS intranet text;
ALTER TABLE smokemesh_agents_seen ADD COLUMN IF NOT EXISTS public text;
ALTER TABLE smokemesh_agents_seen ADD COLUMN IF NOT EXISTS version text;
CREATE TABLE IF NOT EXISTS smokemesh_agent_liveness (
  agent text PRIMARY KEY,
  down boolean NOT NULL,
  changed_at timestamptz NOT NULL,
  server text NOT NULL
);
`;

/** The agents the cluster counts as down now (a row says down); an agent without a row was never told down. */
export async function readDownAgents(c: pg.PoolClient): Promise<Set<string>> {
  const r = await c.query('SELECT agent FROM smokemesh_agent_liveness WHERE down');
  return new Set((r.rows as { agent: string }[]).map((x) => x.agent));
}

/**
 * Records that `agent` is down (or up) for the cluster, if it was not already: true when this
 * statement changed it (the caller then tells it, once in the cluster), false when another
 * server did first. Up with no row is no change (an agent never told down is not told up).
 */
export async function markAgent(c: pg.PoolClient, server: string, agent: string, down: boolean): Promise<boolean> {
  const r = down
    ? await c.query(`INSERT INTO smokemesh_agent_liveness (agent, down, changed_at, server) VALUES ($1, true, clock_timestamp(), $2)
        ON CONFLICT (agent) DO UPDATE SET down = true, changed_at = clock_timestamp(), server = $2 WHERE NOT smokemesh_agent_liveness.down`, [agent, server])
    : await c.query('UPDATE smokemesh_agent_liveness SET down = false, changed_at = clock_timestamp(), server = $2 WHERE agent = $1 AND down', [agent, server]);
  return r.rowCount === 1;
}
