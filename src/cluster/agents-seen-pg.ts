/**
 * `smokemesh_agents_seen` read by its changes (the model is sightings.ts): every insert or
 * update of a row takes the next number of a sequence into its `change` column, and every
 * deletion (the pruning of old rows or any other) leaves a tombstone with the next number in
 * `smokemesh_agents_gone`. Our writer numbers its rows itself (writeSightings, tasks-pg.ts);
 * row triggers number those of any statement that does not (an older server during a rolling
 * upgrade, whose statements do not know the column; an UPDATE by hand), and write the
 * tombstones. (Row triggers numbering every row cost an upsert of 33,333 rows ~45% more;
 * numbered by the writer, with the triggers' WHEN false, ~15%, mostly the index on `change`:
 * bench/agents-seen-numbering.ts.) A reader asks for the rows and tombstones after its cursor.
 *
 * Out-of-order commits: a number is taken when a row is written but becomes visible when its
 * transaction commits; a reader that saw 11 committed while 10 was still in flight would move
 * its cursor past 10 and never read it. So every statement that changes the table first takes
 * a transaction-scoped advisory lock (a statement trigger): writers take turns, a number is
 * taken only after every smaller one committed or rolled back, and a reader that sees a number
 * has seen every smaller one. Chosen over a safe horizon (reading up to the smallest in-flight
 * number, or up to pg_snapshot_xmin with the writer's xid stored in each row) because it needs
 * no bookkeeping of transactions in flight and no state in the reader, and costs little here:
 * each server writes once per heartbeat, in one statement (the series index does the same,
 * index-pg.ts). The cost, measured: BENCHMARKS.md, "Agents read by their changes".
 *
 * Tombstones are kept TOMBSTONES_KEPT_MS; pruning them records the highest number pruned in
 * `smokemesh_agents_seen_meta`, and a reader whose cursor is below it reads every row again
 * (it may have missed a deletion). The meta row also holds the table's epoch, replaced when the
 * tables are created or their schema changes (this DDL runs): readers then read every row again.
 * Functions take a client inside the caller's transaction.
 */
import type pg from 'pg';
import { fullReadReason, type GoneSighting, type SightingsMeta, type SightingsPage, type SightingsState, type StoredSighting } from './sightings.ts';

/** Serialises the changes of `smokemesh_agents_seen` among all writers (any constant of our own). */
const AGENTS_SEEN_LOCK = 0x736d6173;

/**
 * Runs after TASKS_SCHEMA and AGENTS_SCHEMA (the table and its address columns). An existing
 * table gets the column, its rows numbered by the trigger (the backfill UPDATE), then NOT NULL.
 * The statement trigger takes the lock before any row is made, so before the writer's own
 * nextval (in its SELECT) runs.
 */
export const AGENTS_SEEN_SCHEMA = `
CREATE SEQUENCE IF NOT EXISTS smokemesh_agents_seen_change;
ALTER TABLE smokemesh_agents_seen ADD COLUMN IF NOT EXISTS change bigint;
CREATE TABLE IF NOT EXISTS smokemesh_agents_gone (
  agent text NOT NULL,
  server text NOT NULL,
  change bigint NOT NULL,
  gone_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX IF NOT EXISTS smokemesh_agents_gone_change ON smokemesh_agents_gone (change);
CREATE TABLE IF NOT EXISTS smokemesh_agents_seen_meta (
  one boolean PRIMARY KEY DEFAULT true CHECK (one),
  epoch text NOT NULL,
  pruned bigint NOT NULL DEFAULT 0
);
INSERT INTO smokemesh_agents_seen_meta (epoch) VALUES (gen_random_uuid()::text) ON CONFLICT (one) DO UPDATE SET epoch = excluded.epoch;
CREATE OR REPLACE FUNCTION smokemesh_agents_seen_turn() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_advisory_xact_lock(${AGENTS_SEEN_LOCK});
  RETURN NULL;
END $$;
CREATE OR REPLACE FUNCTION smokemesh_agents_seen_number() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.change := nextval('smokemesh_agents_seen_change');
  RETURN NEW;
END $$;
CREATE OR REPLACE FUNCTION smokemesh_agents_seen_tombstone() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO smokemesh_agents_gone (agent, server, change) VALUES (OLD.agent, OLD.server, nextval('smokemesh_agents_seen_change'));
  RETURN NULL;
END $$;
DROP TRIGGER IF EXISTS smokemesh_agents_seen_turn ON smokemesh_agents_seen;
CREATE TRIGGER smokemesh_agents_seen_turn BEFORE INSERT OR UPDATE OR DELETE ON smokemesh_agents_seen
  FOR EACH STATEMENT EXECUTE FUNCTION smokemesh_agents_seen_turn();
DROP TRIGGER IF EXISTS smokemesh_agents_seen_number ON smokemesh_agents_seen;
CREATE TRIGGER smokemesh_agents_seen_number BEFORE INSERT ON smokemesh_agents_seen
  FOR EACH ROW WHEN (NEW.change IS NULL) EXECUTE FUNCTION smokemesh_agents_seen_number();
DROP TRIGGER IF EXISTS smokemesh_agents_seen_renumber ON smokemesh_agents_seen;
CREATE TRIGGER smokemesh_agents_seen_renumber BEFORE UPDATE ON smokemesh_agents_seen
  FOR EACH ROW WHEN (NEW.change IS NOT DISTINCT FROM OLD.change) EXECUTE FUNCTION smokemesh_agents_seen_number();
DROP TRIGGER IF EXISTS smokemesh_agents_seen_tombstone ON smokemesh_agents_seen;
CREATE TRIGGER smokemesh_agents_seen_tombstone AFTER DELETE ON smokemesh_agents_seen
  FOR EACH ROW EXECUTE FUNCTION smokemesh_agents_seen_tombstone();
UPDATE smokemesh_agents_seen SET change = NULL WHERE change IS NULL;
ALTER TABLE smokemesh_agents_seen ALTER COLUMN change SET NOT NULL;
CREATE INDEX IF NOT EXISTS smokemesh_agents_seen_change_idx ON smokemesh_agents_seen (change);
`;

/** Tombstones older than this are pruned (a reader this far behind reads every row again). */
export const TOMBSTONES_KEPT_MS = 3600_000;

const ms = (col: string) => `floor(extract(epoch from ${col}) * 1000)::float8`;
const ROW_COLUMNS = `agent, server, change::float8 AS change, ${ms('written_at')} AS written_at, ${ms('seen_at')} AS seen_at, ${ms('polled_at')} AS polled_at,
  polling, region, labels, builtin, intranet, public, version`;

/**
 * Reads what `state` lacks: every row when fullReadReason says so, else the rows and tombstones
 * after its cursor, all in one snapshot with the meta (the caller applies it: applySightings).
 * Must be the first statement of its transaction (it makes the transaction REPEATABLE READ, so
 * that the meta, the rows and the tombstones are of one moment).
 */
export async function readSightingChanges(c: pg.ClientBase, state: SightingsState | undefined): Promise<SightingsPage & { reason: ReturnType<typeof fullReadReason> }> {
  await c.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ');
  const m = await c.query(`SELECT epoch, pruned::float8 AS pruned,
      greatest(pruned, (SELECT coalesce(max(change), 0) FROM smokemesh_agents_seen), (SELECT coalesce(max(change), 0) FROM smokemesh_agents_gone))::float8 AS top,
      ${ms('clock_timestamp()')} AS now
    FROM smokemesh_agents_seen_meta`);
  const meta = m.rows[0] as SightingsMeta | undefined;
  if (!meta) throw new Error('smokemesh_agents_seen_meta has no row');
  const reason = fullReadReason(state, meta);
  if (reason || !state) {
    const r = await c.query(`SELECT ${ROW_COLUMNS} FROM smokemesh_agents_seen`);
    return { full: true, meta, rows: r.rows as StoredSighting[], gone: [], reason };
  }
  const r = await c.query(`SELECT ${ROW_COLUMNS} FROM smokemesh_agents_seen WHERE change > $1`, [state.cursor]);
  const g = await c.query('SELECT agent, server, change::float8 AS change FROM smokemesh_agents_gone WHERE change > $1', [state.cursor]);
  return { full: false, meta, rows: r.rows as StoredSighting[], gone: g.rows as GoneSighting[], reason };
}

/** Forgets tombstones older than `olderThanMs`, recording the highest number forgotten (readers behind it read every row again). */
export async function pruneTombstones(c: pg.ClientBase, olderThanMs: number): Promise<number> {
  const r = await c.query(`WITH d AS (DELETE FROM smokemesh_agents_gone WHERE gone_at < clock_timestamp() - make_interval(secs => $1::float8 / 1000) RETURNING change),
      u AS (UPDATE smokemesh_agents_seen_meta SET pruned = greatest(pruned, (SELECT max(change) FROM d)) WHERE EXISTS (SELECT 1 FROM d))
    SELECT count(*)::int AS n FROM d`, [olderThanMs]);
  return (r.rows[0] as { n: number }).n;
}
