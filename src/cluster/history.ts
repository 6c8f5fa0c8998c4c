/**
 * Alert history shared among the servers of a cluster: each server copies the events,
 * deliveries and attempts of its own alert database (`alerts.sqlite`, where its outbox and
 * dispatcher record them) into the shared database every second, and the history and
 * deliveries API of every server reads them back from there, whichever server sent them. The
 * copy is idempotent (keyed by event id, and by the server and its local delivery id): a
 * restarted server copies its file again from the start. Without a cluster the API reads the
 * local file.
 */
import Database from 'better-sqlite3';
import type pg from 'pg';
import type { AttemptRow, DeliveryListRow, DeliveryQuery, EventQuery, EventRow } from '../alerts/db.ts';
import { trimTrailingSlashes } from '../config/tree.ts';

export const HISTORY_SCHEMA = `
CREATE TABLE IF NOT EXISTS smokemesh_alert_events (
  id text PRIMARY KEY,
  server text NOT NULL,
  time bigint NOT NULL,
  target text NOT NULL,
  agent text NOT NULL,
  alert text NOT NULL,
  state text NOT NULL,
  muted_by text,
  event jsonb NOT NULL
);
CREATE INDEX IF NOT EXISTS smokemesh_alert_events_time ON smokemesh_alert_events (time);
CREATE TABLE IF NOT EXISTS smokemesh_alert_deliveries (
  id bigserial PRIMARY KEY,
  server text NOT NULL,
  local_id bigint NOT NULL,
  event_id text NOT NULL,
  channel text NOT NULL,
  kind text NOT NULL,
  status text NOT NULL,
  attempts integer NOT NULL,
  created bigint NOT NULL,
  updated bigint NOT NULL,
  last_error text,
  attempt_log jsonb NOT NULL,
  UNIQUE (server, local_id)
);
CREATE INDEX IF NOT EXISTS smokemesh_alert_deliveries_event ON smokemesh_alert_deliveries (event_id);
`;

const RECOPY_MS = 2000;

/** Where the history and deliveries routes read from in a cluster (instead of this server's own database). */
export interface SharedHistory {
  events(q: EventQuery): Promise<{ rows: EventRow[]; total: number }>;
  deliveries(q: DeliveryQuery): Promise<{ rows: DeliveryListRow[]; total: number }>;
}

interface LocalEvent { rid: number; id: string; time: number; target: string; agent: string; alert: string; state: string; muted_by: string | null; event: string }
interface LocalDelivery { id: number; event_id: string; channel: string; kind: string; status: string; attempts: number; created: number; updated: number; last_error: string | null }

/** What one copy found in the local file: new events, and deliveries changed since the last copy (with their attempts and events). */
export interface LocalChanges {
  events: LocalEvent[];
  deliveries: (LocalDelivery & { attempt_log: AttemptRow[] })[];
}

/** A read-only view of this server's own alert database: what changed since a cursor. */
export class LocalHistory {
  private readonly db: Database.Database;
  /** The copy's cursor: the newest event rowid and (updated, id) of the newest delivery copied. */
  private cursor = { event: 0, updated: 0, delivery: 0 };

  constructor(file: string) {
    this.db = new Database(file, { readonly: true, fileMustExist: true });
  }

  /**
   * Up to `max` events and deliveries changed after the cursor; `advance()` moves it past them
   * once they are copied. `more`: a page was full, ask again. Deliveries updated in the last
   * RECOPY_MS before the newest one seen are copied again at the next round of pages (a change
   * in the same millisecond as the last copy is not missed).
   */
  changes(max = 1000): { changes: LocalChanges; more: boolean; advance: () => void } {
    const events = this.db.prepare('SELECT rowid AS rid, * FROM events WHERE rowid > ? ORDER BY rowid LIMIT ?').all(this.cursor.event, max) as LocalEvent[];
    const deliveries = this.db.prepare('SELECT * FROM deliveries WHERE (updated, id) > (?, ?) ORDER BY updated, id LIMIT ?')
      .all(this.cursor.updated, this.cursor.delivery, max) as LocalDelivery[];
    const attempts = this.db.prepare('SELECT * FROM attempts WHERE delivery_id = ? ORDER BY attempt');
    const eventById = this.db.prepare('SELECT rowid AS rid, * FROM events WHERE id = ?');
    // A delivery that changed may carry a changed event (muted when settled, a trace attached): copied again.
    const seen = new Set(events.map((e) => e.id));
    for (const d of deliveries) {
      if (seen.has(d.event_id)) continue;
      const e = eventById.get(d.event_id) as LocalEvent | undefined;
      if (e) events.push(e), seen.add(e.id);
    }
    const out: LocalChanges = { events, deliveries: deliveries.map((d) => ({ ...d, attempt_log: attempts.all(d.id) as AttemptRow[] })) };
    const next = { ...this.cursor };
    for (const e of events) next.event = Math.max(next.event, e.rid);
    const more = deliveries.length === max || events.length >= max;
    const last = deliveries[deliveries.length - 1];
    if (more && last) Object.assign(next, { updated: last.updated, delivery: last.id });
    else if (last) Object.assign(next, { updated: last.updated - RECOPY_MS, delivery: 0 });
    return { changes: out, more, advance: () => { this.cursor = next; } };
  }

  close(): void {
    this.db.close();
  }
}

/** Copies one server's changes into the shared tables (in the caller's transaction). */
export async function copyHistory(c: pg.PoolClient, server: string, ch: LocalChanges): Promise<void> {
  for (const e of ch.events) {
    await c.query(`INSERT INTO smokemesh_alert_events (id, server, time, target, agent, alert, state, muted_by, event) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
      ON CONFLICT (id) DO UPDATE SET muted_by = $8, event = $9`, [e.id, server, e.time, e.target, e.agent, e.alert, e.state, e.muted_by, e.event]);
  }
  for (const d of ch.deliveries) {
    await c.query(`INSERT INTO smokemesh_alert_deliveries (server, local_id, event_id, channel, kind, status, attempts, created, updated, last_error, attempt_log)
      VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
      ON CONFLICT (server, local_id) DO UPDATE SET status = $6, attempts = $7, updated = $9, last_error = $10, attempt_log = $11`,
    [server, d.id, d.event_id, d.channel, d.kind, d.status, d.attempts, d.created, d.updated, d.last_error, JSON.stringify(d.attempt_log)]);
  }
}

/** SQL conditions and parameters of a history or delivery filter, as the local file's (src/alerts/db.ts) on the shared tables. */
function conditions(q: Omit<EventQuery, 'limit'> & { event?: string; channel?: string; status?: string }, ev: string, del?: string): { where: string; args: unknown[] } {
  const conds: string[] = [];
  const args: unknown[] = [];
  const arg = (v: unknown) => (args.push(v), `$${args.length}`);
  if (q.target) {
    const t = trimTrailingSlashes(q.target) || '/';
    const under = t === '/' ? '/' : t + '/';
    conds.push(`(${ev}target = ${arg(t)} OR left(${ev}target, ${arg(under.length)}) = ${arg(under)})`);
  }
  if (q.alert) conds.push(`${ev}alert = ${arg(q.alert)}`);
  if (q.agent) conds.push(`${ev}agent = ${arg(q.agent)}`);
  if (q.state) conds.push(`${ev}state = ${arg(q.state)}`);
  if (del === undefined) {
    if (q.from !== undefined) conds.push(`time >= ${arg(q.from)}`);
    if (q.to !== undefined) conds.push(`time < ${arg(q.to)}`);
    if (q.before !== undefined) conds.push(`time < ${arg(q.before)}`);
    if (q.muted_by) conds.push(`muted_by = ${arg(q.muted_by)}`);
    if (q.alertPrefix) conds.push(`left(alert, ${arg(q.alertPrefix.length)}) = ${arg(q.alertPrefix)}`);
    if (q.type) conds.push(`event->'alert'->>'type' = ${arg(q.type)}`);
  } else {
    if (q.event) conds.push(`${del}event_id = ${arg(q.event)}`);
    if (q.channel) conds.push(`${del}channel = ${arg(q.channel)}`);
    if (q.status) conds.push(`${del}status = ${arg(q.status)}`);
    if (q.from !== undefined) conds.push(`${del}created >= ${arg(q.from)}`);
    if (q.to !== undefined) conds.push(`${del}created < ${arg(q.to)}`);
  }
  return { where: conds.length ? `WHERE ${conds.join(' AND ')}` : '', args };
}

/** The events of every server matching the filter, newest first, one page, and how many match in all. */
export async function sharedEvents(c: pg.PoolClient, q: EventQuery): Promise<{ rows: EventRow[]; total: number }> {
  const { where, args } = conditions(q, '');
  const n = args.length;
  const r = await c.query(`SELECT id, time::float8 AS time, target, agent, alert, state, muted_by, event FROM smokemesh_alert_events ${where}
    ORDER BY time DESC, id DESC LIMIT $${n + 1} OFFSET $${n + 2}`, [...args, q.limit, q.offset ?? 0]);
  const total = await c.query(`SELECT count(*)::int AS n FROM smokemesh_alert_events ${where}`, args);
  return { rows: r.rows as EventRow[], total: (total.rows[0] as { n: number }).n };
}

/** The deliveries of every server matching the filter, newest first, one page, with their attempts and events, and how many match. */
export async function sharedDeliveries(c: pg.PoolClient, q: DeliveryQuery): Promise<{ rows: DeliveryListRow[]; total: number }> {
  const { where, args } = conditions(q, 'e.', 'd.');
  const n = args.length;
  const from = 'smokemesh_alert_deliveries d LEFT JOIN smokemesh_alert_events e ON e.id = d.event_id';
  const r = await c.query(`SELECT d.id::int AS id, d.event_id, d.channel, d.kind, d.status, d.attempts, d.created::float8 AS created, d.updated::float8 AS updated,
      d.last_error, d.attempt_log, e.alert, e.state, e.target, e.agent, e.time::float8 AS time
    FROM ${from} ${where} ORDER BY d.id DESC LIMIT $${n + 1} OFFSET $${n + 2}`, [...args, q.limit, q.offset ?? 0]);
  const total = await c.query(`SELECT count(*)::int AS n FROM ${from} ${where}`, args);
  type Row = Omit<DeliveryListRow, 'event'> & { alert: string | null; state: EventRow['state'] | null; target: string; agent: string; time: number };
  const rows = (r.rows as Row[]).map(({ alert, state, target, agent, time, attempt_log, ...d }) => ({
    ...d,
    // Attempts name the delivery by the id every server shows (the shared one).
    attempt_log: attempt_log.map((a) => ({ ...a, delivery_id: d.id })),
    event: alert === null || state === null ? null : { alert, state, target, agent, time },
  }));
  return { rows, total: (total.rows[0] as { n: number }).n };
}
