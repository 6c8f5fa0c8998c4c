/**
 * The heartbeat table's statements (`smokemesh_servers`, created in postgres.ts), in one place
 * for both callers: the main thread's pool (registering at start, leaving at a clean stop) and
 * the heartbeat thread's own connection (heartbeat-worker.ts). Times are taken on the
 * database's clock, so the servers' clocks may disagree.
 */
import type pg from 'pg';
import type { ServerBeat } from './membership.ts';

/** A timestamptz column as ms since the epoch. */
export const ms = (col: string) => `(extract(epoch from ${col}) * 1000)::float8`;

/** The heartbeat thread's connection as pg_stat_activity shows it (application_name). */
export function heartbeatApplication(serverId: string): string {
  return `smokemesh heartbeat ${serverId}`.slice(0, 63);
}

/** What a heartbeat read: every server's row, and the database's clock (ms) when it was read. */
export interface BeatRows {
  rows: ServerBeat[];
  now: number;
}

/** Records this server's heartbeat and returns every server's row with the database's clock. */
export async function writeBeat(c: pg.ClientBase, serverId: string, url: string): Promise<BeatRows> {
  await c.query(`INSERT INTO smokemesh_servers (server_id, url, beat_at, started_at) VALUES ($1, $2, clock_timestamp(), clock_timestamp())
    ON CONFLICT (server_id) DO UPDATE SET url = $2, beat_at = clock_timestamp()`, [serverId, url]);
  const r = await c.query(`SELECT server_id, url, ${ms('beat_at')} AS beat_at, ${ms('started_at')} AS started_at, ${ms('clock_timestamp()')} AS now FROM smokemesh_servers`);
  const rows = r.rows as (ServerBeat & { now: number })[];
  return { rows: rows.map(({ now: _now, ...b }) => b), now: rows.find((b) => b.server_id === serverId)?.now ?? Date.now() };
}

/** Marks this server as started now (a restart is a new run). */
export async function registerStart(c: pg.ClientBase, serverId: string, url: string): Promise<void> {
  await c.query(`INSERT INTO smokemesh_servers (server_id, url, beat_at, started_at) VALUES ($1, $2, clock_timestamp(), clock_timestamp())
    ON CONFLICT (server_id) DO UPDATE SET url = $2, beat_at = clock_timestamp(), started_at = clock_timestamp()`, [serverId, url]);
}

/** Removes this server's row (a clean stop). */
export async function removeServer(c: pg.ClientBase, serverId: string): Promise<void> {
  await c.query('DELETE FROM smokemesh_servers WHERE server_id = $1', [serverId]);
}
