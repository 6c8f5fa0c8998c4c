/**
 * The series index shared among the servers of a cluster (src/cluster/index-sync.ts): one row
 * per series (target × agent) with its probe, step, first and last round times and latest
 * round, and `seq`, a number that grows with every change. Each server upserts the rows its
 * rounds changed, in one statement per few thousand rows, and reads the rows changed by the
 * others after the last `seq` it read. Writers take turns (a transaction-scoped advisory lock
 * around the upsert), so `seq` numbers become visible in order: a reader that has seen a
 * number has seen every smaller one, and a cursor never skips a row.
 */
import type pg from 'pg';
import type { IndexRow } from '../store/vm/outbox.ts';

/** Serialises index upserts among servers (any constant of our own). */
const INDEX_LOCK = 0x736d6978;

export const INDEX_SCHEMA = `
CREATE SEQUENCE IF NOT EXISTS smokemesh_series_seq;
CREATE TABLE IF NOT EXISTS smokemesh_series (
  target text NOT NULL,
  agent text NOT NULL,
  probe text NOT NULL,
  step integer NOT NULL,
  first bigint NOT NULL,
  last bigint NOT NULL,
  latest text NOT NULL,
  server text NOT NULL,
  seq bigint NOT NULL,
  PRIMARY KEY (target, agent)
);
CREATE INDEX IF NOT EXISTS smokemesh_series_seq_idx ON smokemesh_series (seq);
CREATE TABLE IF NOT EXISTS smokemesh_series_epoch (
  one boolean PRIMARY KEY DEFAULT true CHECK (one),
  epoch text NOT NULL
);
INSERT INTO smokemesh_series_epoch (epoch) VALUES (gen_random_uuid()::text) ON CONFLICT DO NOTHING;
`;

/**
 * Upserts rows changed on `server` (each key at most once), moving each row forward only (a
 * newer latest round, an older first); a row that changes takes the next `seq`. One
 * transaction; returns the rows that changed as they now stand (the pusher merges them: a row
 * may have kept another server's older first or newer latest round, which the pusher's pulls
 * skip as its own).
 */
export async function pushIndex(c: pg.PoolClient, server: string, rows: readonly IndexRow[]): Promise<IndexRow[]> {
  if (!rows.length) return [];
  await c.query('BEGIN');
  await c.query('SELECT pg_advisory_xact_lock($1)', [INDEX_LOCK]);
  const r = await c.query(`INSERT INTO smokemesh_series AS s (target, agent, probe, step, first, last, latest, server, seq)
    SELECT t.target, t.agent, t.probe, t.step, t.first, t.last, t.latest, $8, nextval('smokemesh_series_seq')
    FROM unnest($1::text[], $2::text[], $3::text[], $4::integer[], $5::bigint[], $6::bigint[], $7::text[]) AS t(target, agent, probe, step, first, last, latest)
    ON CONFLICT (target, agent) DO UPDATE SET
      first = least(s.first, excluded.first),
      probe = CASE WHEN excluded.last >= s.last THEN excluded.probe ELSE s.probe END,
      step = CASE WHEN excluded.last >= s.last THEN excluded.step ELSE s.step END,
      latest = CASE WHEN excluded.last >= s.last THEN excluded.latest ELSE s.latest END,
      last = greatest(s.last, excluded.last),
      server = excluded.server,
      seq = excluded.seq
    WHERE excluded.last > s.last OR excluded.first < s.first
    RETURNING target, agent, probe, step, first::float8 AS first, last::float8 AS last, latest`,
  [rows.map((x) => x.target), rows.map((x) => x.agent), rows.map((x) => x.probe), rows.map((x) => x.step),
    rows.map((x) => x.first), rows.map((x) => x.last), rows.map((x) => x.latest), server]);
  await c.query('COMMIT');
  return r.rows as IndexRow[];
}

/** What one pull read: rows other servers changed after the cursor, and the cursor to ask from next. */
export interface IndexPage {
  rows: IndexRow[];
  /** The next cursor: past every row read, and past this server's own rows when the page was not full. */
  next: number;
  /** The page was full: ask again. */
  more: boolean;
  /** The shared index's identity (a new one when its tables were recreated: cursors start over). */
  epoch: string;
}

/** Up to `limit` rows changed by servers other than `me` after `cursor`, in `seq` order. */
export async function pullIndex(c: pg.PoolClient, me: string, cursor: number, limit: number): Promise<IndexPage> {
  // One statement, one snapshot: the rows, the highest seq and the epoch agree.
  const r = await c.query(`SELECT target, agent, probe, step, first::float8 AS first, last::float8 AS last, latest, seq::float8 AS seq,
      (SELECT coalesce(max(seq), 0)::float8 FROM smokemesh_series) AS top, (SELECT epoch FROM smokemesh_series_epoch) AS epoch
    FROM (SELECT 1) AS one LEFT JOIN LATERAL (
      SELECT * FROM smokemesh_series WHERE seq > $2 AND server <> $1 ORDER BY seq LIMIT $3) AS x ON true`, [me, cursor, limit]);
  const got = r.rows as Array<IndexRow & { seq: number | null; top: number; epoch: string }>;
  const rows = got.filter((x) => x.seq !== null).map(({ target, agent, probe, step, first, last, latest }) => ({ target, agent, probe, step, first, last, latest }));
  const more = rows.length >= limit;
  const lastSeq = rows.length ? got[got.length - 1]!.seq! : cursor;
  return { rows, next: more ? lastSeq : Math.max(lastSeq, got[0]?.top ?? cursor), more, epoch: got[0]?.epoch ?? '' };
}
