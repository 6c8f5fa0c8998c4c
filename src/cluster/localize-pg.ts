/**
 * Localization shared among the servers of a cluster (src/localize/shared.ts), in PostgreSQL:
 * one digest row per scope × sending server, replaced at each of the scope's steps (the latest
 * rounds that server received, compressed), and one state row per scope (its causes, and now
 * and then the engine's per-series memory) changed only through the fence: a compare-and-set
 * on the row's version by a server whose heartbeat is fresh on the database's clock
 * (decideFence, the same decision as the alert state's). I/O only.
 */
import type pg from 'pg';
import { decideFence } from './fence.ts';

export const LOCALIZE_SCHEMA = `
CREATE TABLE IF NOT EXISTS smokemesh_localize_digests (
  scope text NOT NULL,
  sender text NOT NULL,
  time bigint NOT NULL,
  body bytea NOT NULL,
  PRIMARY KEY (scope, sender)
);
CREATE TABLE IF NOT EXISTS smokemesh_localize_state (
  scope text PRIMARY KEY,
  version bigint NOT NULL,
  owner text NOT NULL,
  time bigint NOT NULL,
  causes text NOT NULL,
  memory bytea,
  memory_time bigint
);
`;

/** Digests older than this are deleted when their scope is read (a server gone for good). */
const DIGEST_KEEP_MS = 24 * 3600 * 1000;

export interface ScopeStateRow {
  version: number;
  owner: string;
  time: number;
  causes: string;
  memory?: { time: number; state: Buffer };
}

/** Replaces `sender`'s digest of `scope` unless a newer one is there. */
export async function publishDigest(c: pg.PoolClient, scope: string, sender: string, time: number, body: Buffer): Promise<void> {
  await c.query(`INSERT INTO smokemesh_localize_digests (scope, sender, time, body) VALUES ($1, $2, $3, $4)
    ON CONFLICT (scope, sender) DO UPDATE SET time = $3, body = $4 WHERE smokemesh_localize_digests.time <= $3`, [scope, sender, time, body]);
}

/** The digests of `scope` taken since `since`, and its state row (the memory column only when asked). Deletes digests a day old. */
export async function readScope(c: pg.PoolClient, scope: string, since: number, memory: boolean): Promise<{ digests: { sender: string; time: number; body: Buffer }[]; state: ScopeStateRow | undefined }> {
  await c.query('DELETE FROM smokemesh_localize_digests WHERE scope = $1 AND time < $2', [scope, since - DIGEST_KEEP_MS]);
  const d = await c.query('SELECT sender, time::float8 AS time, body FROM smokemesh_localize_digests WHERE scope = $1 AND time >= $2 ORDER BY sender', [scope, since]);
  const s = await c.query(`SELECT version::float8 AS version, owner, time::float8 AS time, causes${memory ? ', memory, memory_time::float8 AS memory_time' : ''}
    FROM smokemesh_localize_state WHERE scope = $1`, [scope]);
  const row = s.rows[0] as (ScopeStateRow & { memory?: Buffer | null; memory_time?: number | null }) | undefined;
  let state: ScopeStateRow | undefined;
  if (row) {
    state = { version: row.version, owner: row.owner, time: row.time, causes: row.causes };
    if (row.memory && row.memory_time !== null && row.memory_time !== undefined) state.memory = { time: row.memory_time, state: row.memory };
  }
  return { digests: d.rows as { sender: string; time: number; body: Buffer }[], state };
}

/** The scope's state row without its memory (a server that does not step the scope reads its causes). */
export async function readCauses(c: pg.PoolClient, scope: string): Promise<ScopeStateRow | undefined> {
  const s = await c.query('SELECT version::float8 AS version, owner, time::float8 AS time, causes FROM smokemesh_localize_state WHERE scope = $1', [scope]);
  return s.rows[0] as ScopeStateRow | undefined;
}

/**
 * The scope's fence: in one transaction, locks its state row, judges the write with
 * decideFence (the writer live on the database's clock, the row's version the one expected)
 * and applies it by a conditional upsert (a row another server inserted meanwhile makes it
 * stale too). `memory` replaces the stored per-series memory when given.
 */
export async function fencedScopeWrite(c: pg.PoolClient, server: string, deadAfterMs: number, scope: string, expected: number, time: number, causes: string, memory?: Buffer): Promise<{ ok: true; version: number } | { ok: false; why: 'stale' | 'not-live'; owner: string | undefined }> {
  await c.query('BEGIN');
  const beat = await c.query(`SELECT (extract(epoch from clock_timestamp() - beat_at) * 1000)::float8 AS age FROM smokemesh_servers WHERE server_id = $1`, [server]);
  const age = (beat.rows[0] as { age: number } | undefined)?.age;
  const live = age !== undefined && age <= deadAfterMs;
  const r = await c.query('SELECT version::float8 AS version, owner FROM smokemesh_localize_state WHERE scope = $1 FOR UPDATE', [scope]);
  const row = r.rows[0] as { version: number; owner: string } | undefined;
  // The alert state's decision, on the scope's row (one "series" per scope).
  const asRow = (x: { version: number; owner: string }) => ({ target: scope, agent: '*', alert: 'localize', prevmatch: 0, since: 0, version: x.version, owner: x.owner });
  const v = decideFence(row && asRow(row), { target: scope, agent: '*', alert: 'localize', prevmatch: 0, since: 0, expected }, server, live);
  if (!v.ok) {
    await c.query('ROLLBACK');
    return { ok: false, why: v.why, owner: row?.owner };
  }
  const version = v.next.version;
  const done = memory
    ? await c.query(`INSERT INTO smokemesh_localize_state (scope, version, owner, time, causes, memory, memory_time) VALUES ($1, $2, $3, $4, $5, $6, $4)
        ON CONFLICT (scope) DO UPDATE SET version = $2, owner = $3, time = $4, causes = $5, memory = $6, memory_time = $4 WHERE smokemesh_localize_state.version = $7`,
    [scope, version, server, time, causes, memory, expected])
    : await c.query(`INSERT INTO smokemesh_localize_state (scope, version, owner, time, causes) VALUES ($1, $2, $3, $4, $5)
        ON CONFLICT (scope) DO UPDATE SET version = $2, owner = $3, time = $4, causes = $5 WHERE smokemesh_localize_state.version = $6`,
    [scope, version, server, time, causes, expected]);
  await c.query('COMMIT');
  return done.rowCount === 1 ? { ok: true, version } : { ok: false, why: 'stale', owner: row?.owner };
}
