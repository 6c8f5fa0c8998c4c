/**
 * What the cluster shares of its agents beyond the shared tasks' needs: the addresses and
 * version each server saw of the agents talking to it (columns of `smokemesh_agents_seen`, so
 * that every server builds the same live mesh and plans from the same members), and whether an
 * agent is down for the cluster (`smokemesh_agent_liveness`: one row per agent, changed by a
 * compare-and-set, so that agent-down and agent-up are told by exactly one server, and
 * `smokemesh_agent_events`, the newest of those changes, listed by every server).
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
CREATE TABLE IF NOT EXISTS smokemesh_agent_events (
  id bigserial PRIMARY KEY,
  agent text NOT NULL,
  state text NOT NULL,
  time bigint NOT NULL,
  server text NOT NULL
);
`;

/** The newest agent events kept (as many as a single server keeps in memory). */
export const AGENT_EVENTS_KEPT = 1000;

/** An agent-down or agent-up as the cluster told it: when (database clock, ms) and by which server. */
export interface SharedAgentEvent {
  agent: string;
  state: 'down' | 'up';
  time: number;
  server: string;
}

/** The agents the cluster counts as down now (a row says down); an agent without a row was never told down. */
export async function readDownAgents(c: pg.PoolClient): Promise<Set<string>> {
  const r = await c.query('SELECT agent FROM smokemesh_agent_liveness WHERE down');
  return new Set((r.rows as { agent: string }[]).map((x) => x.agent));
}

/**
 * Records that `agent` is down (or up) for the cluster, if it was not already, with its event:
 * true when this statement changed it (the caller then tells it, once in the cluster), false
 * when another server did first. Up with no row is no change (an agent never told down is not
 * told up).
 */
export async function markAgent(c: pg.PoolClient, server: string, agent: string, down: boolean): Promise<boolean> {
  const r = down
    ? await c.query(`INSERT INTO smokemesh_agent_liveness (agent, down, changed_at, server) VALUES ($1, true, clock_timestamp(), $2)
        ON CONFLICT (agent) DO UPDATE SET down = true, changed_at = clock_timestamp(), server = $2 WHERE NOT smokemesh_agent_liveness.down`, [agent, server])
    : await c.query('UPDATE smokemesh_agent_liveness SET down = false, changed_at = clock_timestamp(), server = $2 WHERE agent = $1 AND down', [agent, server]);
  if (r.rowCount !== 1) return false;
  await c.query(`INSERT INTO smokemesh_agent_events (agent, state, time, server) VALUES ($1, $2, floor(extract(epoch from clock_timestamp()) * 1000), $3)`,
    [agent, down ? 'down' : 'up', server]);
  return true;
}

/** The newest agent events of the cluster, newest first. */
export async function readAgentEvents(c: pg.PoolClient, limit = AGENT_EVENTS_KEPT): Promise<SharedAgentEvent[]> {
  const r = await c.query('SELECT agent, state, time::float8 AS time, server FROM smokemesh_agent_events ORDER BY id DESC LIMIT $1', [limit]);
  return r.rows as SharedAgentEvent[];
}

/** Forgets agent events older than the newest AGENT_EVENTS_KEPT. */
export async function pruneAgentEvents(c: pg.PoolClient): Promise<void> {
  await c.query(`DELETE FROM smokemesh_agent_events WHERE id <= (SELECT id FROM smokemesh_agent_events ORDER BY id DESC OFFSET $1 LIMIT 1)`, [AGENT_EVENTS_KEPT]);
}
