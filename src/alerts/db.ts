/**
 * The alert engine's own small SQLite database (`<data_dir>/alerts.sqlite`): the match
 * counters of active alerts (so a restart neither raises twice nor loses a clear), the
 * history of events, every delivery and each of its attempts, and the silences.
 */
import Database from 'better-sqlite3';
import Type, { type Static, type TSchema } from 'typebox';
import { trimTrailingSlashes } from '../config/tree.ts';
import { ensurePrivateDatabase, type ModeNote } from '../private-files.ts';
import { AlertEventSchema, type AlertEvent } from './notifiers/notifier.ts';

/** An alert that matches a series now: SmokePing's match counter and since when. */
export const ActiveRowSchema = Type.Object({
  target: Type.String(),
  agent: Type.String(),
  alert: Type.String(),
  prevmatch: Type.Number({ description: "SmokePing's match counter (internal; not a count of rounds)" }),
  since: Type.Number({ description: 'ms since the epoch: first round of this match' }),
});
export type ActiveRow = Static<typeof ActiveRowSchema>;

/** `held`: waiting for a verdict (a cause, a parent target's alert, renotify_min) before it is sent or suppressed. */
export const DELIVERY_STATUSES = ['pending', 'sent', 'failed', 'silenced', 'suppressed', 'held'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];
const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);

export const DeliveryRowSchema = Type.Object({
  id: Type.Integer(),
  event_id: Type.String(),
  channel: Type.String(),
  kind: Type.String(),
  status: Type.Enum(DELIVERY_STATUSES),
  attempts: Type.Integer(),
  created: Type.Number(),
  updated: Type.Number(),
  last_error: Nullable(Type.String()),
});
export type DeliveryRow = Static<typeof DeliveryRowSchema>;

export const AttemptRowSchema = Type.Object({
  delivery_id: Type.Integer(),
  attempt: Type.Integer(),
  time: Type.Number(),
  outcome: Type.Enum(['sent', 'retry', 'failed']),
  duration_ms: Type.Number(),
  error: Nullable(Type.String()),
  note: Nullable(Type.String({ description: 'what the channel reported on success: an action\'s changes with their request ids' })),
});
export type AttemptRow = Static<typeof AttemptRowSchema>;

export const EventRowSchema = Type.Object({
  id: Type.String(),
  time: Type.Number(),
  target: Type.String(),
  agent: Type.String(),
  alert: Type.String(),
  state: AlertEventSchema.properties.state,
  muted_by: Nullable(Type.String({ description: "why nothing was sent: a silence id, 'priority', 'quorum', 'renotify', 'cause:<id>', 'depends_on:<path>'" })),
  event: AlertEventSchema,
});
export type EventRow = Static<typeof EventRowSchema>;

/** A delivery as the API lists it: with its attempts and what its event was about. */
export const DeliveryListRowSchema = Type.Object({
  ...DeliveryRowSchema.properties,
  attempt_log: Type.Array(AttemptRowSchema),
  event: Nullable(Type.Object({
    alert: Type.String(), state: AlertEventSchema.properties.state, target: Type.String(), agent: Type.String(), time: Type.Number(),
  }, { description: 'the event it carried (null if the event is gone)' })),
});
export type DeliveryListRow = Static<typeof DeliveryListRowSchema>;

export const SilenceSchema = Type.Object({
  id: Type.String(),
  created: Type.Number(),
  starts: Type.Number({ description: 'active from starts (inclusive), ms since the epoch' }),
  ends: Type.Number({ description: 'to ends (exclusive)' }),
  target: Type.Optional(Type.String({ description: 'target path glob: * within one path segment, ** across segments (alerts/glob.ts)' })),
  agent: Type.Optional(Type.String({ description: 'agent name glob' })),
  alert: Type.Optional(Type.String({ description: 'alert name glob' })),
  labels: Type.Optional(Type.Record(Type.String(), Type.String(), { description: 'every label must be equal on the target' })),
  comment: Type.String(),
  created_by: Type.Optional(Type.String()),
});
export type Silence = Static<typeof SilenceSchema>;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS active (
  target TEXT NOT NULL, agent TEXT NOT NULL, alert TEXT NOT NULL,
  prevmatch REAL NOT NULL, since INTEGER NOT NULL,
  PRIMARY KEY (target, agent, alert)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS events (
  id TEXT PRIMARY KEY, time INTEGER NOT NULL, target TEXT NOT NULL, agent TEXT NOT NULL,
  alert TEXT NOT NULL, state TEXT NOT NULL, muted_by TEXT, event TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_time ON events (time);
CREATE TABLE IF NOT EXISTS deliveries (
  id INTEGER PRIMARY KEY, event_id TEXT NOT NULL REFERENCES events(id), channel TEXT NOT NULL,
  kind TEXT NOT NULL, status TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
  created INTEGER NOT NULL, updated INTEGER NOT NULL, last_error TEXT
);
CREATE INDEX IF NOT EXISTS deliveries_event ON deliveries (event_id);
CREATE INDEX IF NOT EXISTS deliveries_status ON deliveries (status);
CREATE TABLE IF NOT EXISTS attempts (
  delivery_id INTEGER NOT NULL REFERENCES deliveries(id), attempt INTEGER NOT NULL, time INTEGER NOT NULL,
  outcome TEXT NOT NULL, duration_ms INTEGER NOT NULL, error TEXT, note TEXT
);
CREATE INDEX IF NOT EXISTS attempts_delivery ON attempts (delivery_id);
CREATE TABLE IF NOT EXISTS silences (id TEXT PRIMARY KEY, ends INTEGER NOT NULL, body TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS events_muted ON events (muted_by) WHERE muted_by IS NOT NULL;
CREATE TABLE IF NOT EXISTS causes (id TEXT PRIMARY KEY, scope TEXT NOT NULL, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS pruned_failures (channel TEXT PRIMARY KEY, n INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS localize_state (scope TEXT PRIMARY KEY, time INTEGER NOT NULL, state BLOB NOT NULL);
`;

/** A filter on the history; `target` matches the path itself and every path under it. */
export interface EventQuery {
  target?: string;
  alert?: string;
  agent?: string;
  state?: string;
  /** Why nothing was sent (exactly), e.g. `cause:<id>`. */
  muted_by?: string;
  /** Alert names starting with this (a localization scope's `<scope>.`). */
  alertPrefix?: string;
  /** The alert's type, e.g. `localize`. */
  type?: string;
  /** ms since the epoch: from (inclusive) … to (exclusive); `before` is the older paging cursor. */
  from?: number;
  to?: number;
  before?: number;
  limit: number;
  offset?: number;
}

/** A filter on deliveries; target, alert and agent are those of the event each one carried. */
export interface DeliveryQuery {
  event?: string;
  channel?: string;
  status?: string;
  target?: string;
  alert?: string;
  agent?: string;
  from?: number;
  to?: number;
  limit: number;
  offset?: number;
}

/** WHERE clause of the event filters (`e.` columns); values as bound parameters, never in the SQL. */
function eventConditions(q: Omit<EventQuery, 'limit'>, prefix: string): { conds: string[]; args: unknown[] } {
  const conds: string[] = [];
  const args: unknown[] = [];
  const col = (c: string) => `${prefix}${c}`;
  if (q.target) {
    const t = trimTrailingSlashes(q.target) || '/';
    conds.push(`(${col('target')} = ? OR substr(${col('target')}, 1, ?) = ?)`);
    const under = t === '/' ? '/' : t + '/';
    args.push(t, under.length, under);
  }
  if (q.alert) { conds.push(`${col('alert')} = ?`); args.push(q.alert); }
  if (q.agent) { conds.push(`${col('agent')} = ?`); args.push(q.agent); }
  if (q.state) { conds.push(`${col('state')} = ?`); args.push(q.state); }
  return { conds, args };
}

function eventFilter(q: Omit<EventQuery, 'limit'>): { where: string; args: unknown[] } {
  const { conds, args } = eventConditions(q, '');
  if (q.from !== undefined) { conds.push('time >= ?'); args.push(q.from); }
  if (q.to !== undefined) { conds.push('time < ?'); args.push(q.to); }
  if (q.before !== undefined) { conds.push('time < ?'); args.push(q.before); }
  if (q.muted_by) { conds.push('muted_by = ?'); args.push(q.muted_by); }
  if (q.alertPrefix) { conds.push('substr(alert, 1, ?) = ?'); args.push(q.alertPrefix.length, q.alertPrefix); }
  if (q.type) { conds.push(`json_extract(event, '$.alert.type') = ?`); args.push(q.type); }
  return { where: conds.length ? 'WHERE ' + conds.join(' AND ') : '', args };
}

function deliveryFilter(q: Omit<DeliveryQuery, 'limit'>): { from: string; where: string; args: unknown[] } {
  // The event's target, alert and agent: filtered through a join on the event.
  const { conds, args } = eventConditions(q, 'e.');
  if (q.event) { conds.push('d.event_id = ?'); args.push(q.event); }
  if (q.channel) { conds.push('d.channel = ?'); args.push(q.channel); }
  if (q.status) { conds.push('d.status = ?'); args.push(q.status); }
  if (q.from !== undefined) { conds.push('d.created >= ?'); args.push(q.from); }
  if (q.to !== undefined) { conds.push('d.created < ?'); args.push(q.to); }
  const join = Boolean(q.target || q.alert || q.agent);
  return { from: join ? 'deliveries d JOIN events e ON e.id = d.event_id' : 'deliveries d', where: conds.length ? 'WHERE ' + conds.join(' AND ') : '', args };
}

/**
 * Opens (creating if needed) the alert database at `file` (':memory:' for tests), mode 600 with
 * its WAL and SHM (it holds alert history and delivery errors); `note` hears of modes tightened.
 */
export function openAlertDb(file: string, note?: ModeNote) {
  ensurePrivateDatabase(file, note);
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec(SCHEMA);
  // Databases made before attempts had notes (route actions) gain the column.
  if (!(db.prepare('PRAGMA table_info(attempts)').all() as { name: string }[]).some((c) => c.name === 'note')) db.exec('ALTER TABLE attempts ADD COLUMN note TEXT');
  // Notifications held when the process stopped lost their verdict: send them rather than lose them.
  db.prepare(`UPDATE deliveries SET status = 'pending' WHERE status = 'held'`).run();

  const upsertActive = db.prepare('INSERT INTO active (target, agent, alert, prevmatch, since) VALUES (?, ?, ?, ?, ?) ON CONFLICT (target, agent, alert) DO UPDATE SET prevmatch = excluded.prevmatch');
  const deleteActive = db.prepare('DELETE FROM active WHERE target = ? AND agent = ? AND alert = ?');
  const insertEvent = db.prepare('INSERT INTO events (id, time, target, agent, alert, state, muted_by, event) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
  const insertDelivery = db.prepare('INSERT INTO deliveries (event_id, channel, kind, status, created, updated) VALUES (?, ?, ?, ?, ?, ?)');
  const updateDelivery = db.prepare('UPDATE deliveries SET status = ?, attempts = ?, updated = ?, last_error = ? WHERE id = ?');
  const insertAttempt = db.prepare('INSERT INTO attempts (delivery_id, attempt, time, outcome, duration_ms, error, note) VALUES (?, ?, ?, ?, ?, ?, ?)');
  const record = (e: AlertEvent, mutedBy: string | null, channels: { name: string; kind: string }[], status: DeliveryStatus): number[] => {
    insertEvent.run(e.id, e.time, e.target.path, e.agent, e.alert.name, e.state, mutedBy, JSON.stringify(e));
    const now = Date.now();
    return channels.map((c) => Number(insertDelivery.run(e.id, c.name, c.kind, status, now, now).lastInsertRowid));
  };
  const parseEvent = (r: Omit<EventRow, 'event'> & { event: string }): EventRow => ({ ...r, event: JSON.parse(r.event) as AlertEvent });

  return {
    /** Applies counter changes of one batch of rounds in one transaction (0 deletes). */
    saveCounters: db.transaction((changes: ActiveRow[]) => {
      for (const c of changes) {
        if (c.prevmatch === 0) deleteActive.run(c.target, c.agent, c.alert);
        else upsertActive.run(c.target, c.agent, c.alert, c.prevmatch, c.since);
      }
    }),
    /** Failed delivery attempts per channel since the database was created (the /metrics notifier failures). */
    failuresByChannel(): Record<string, number> {
      const rows = db.prepare(`SELECT d.channel AS channel, COUNT(*) AS n FROM attempts a JOIN deliveries d ON d.id = a.delivery_id WHERE a.outcome != 'sent' GROUP BY d.channel`).all() as { channel: string; n: number }[];
      const out: Record<string, number> = Object.fromEntries(rows.map((r) => [r.channel, r.n]));
      // Failures of pruned deliveries still count (the metric is a counter).
      for (const p of db.prepare('SELECT channel, n FROM pruned_failures').all() as { channel: string; n: number }[]) out[p.channel] = (out[p.channel] ?? 0) + p.n;
      return out;
    },
    /**
     * Deletes up to `batch` events older than `cutoff` (ms) whose deliveries are all settled,
     * with their deliveries and attempts, in one transaction (alerts.history_days); returns how
     * many events went. Call again until it returns less than `batch`.
     */
    pruneHistory: db.transaction((cutoff: number, batch: number): number => {
      const ids = (db.prepare(`SELECT id FROM events e WHERE time < ? AND NOT EXISTS (
          SELECT 1 FROM deliveries d WHERE d.event_id = e.id AND d.status IN ('pending', 'held')) ORDER BY time LIMIT ?`).all(cutoff, batch) as { id: string }[]).map((r) => r.id);
      if (!ids.length) return 0;
      const list = JSON.stringify(ids);
      const inEvents = 'IN (SELECT value FROM json_each(?))';
      const inDeliveries = `IN (SELECT id FROM deliveries WHERE event_id ${inEvents})`;
      db.prepare(`INSERT INTO pruned_failures (channel, n) SELECT d.channel, COUNT(*) FROM attempts a JOIN deliveries d ON d.id = a.delivery_id
        WHERE a.outcome != 'sent' AND a.delivery_id ${inDeliveries} GROUP BY d.channel
        ON CONFLICT (channel) DO UPDATE SET n = n + excluded.n`).run(list);
      db.prepare(`DELETE FROM attempts WHERE delivery_id ${inDeliveries}`).run(list);
      db.prepare(`DELETE FROM deliveries WHERE event_id ${inEvents}`).run(list);
      return db.prepare(`DELETE FROM events WHERE id ${inEvents}`).run(list).changes;
    }),
    loadCounters(): ActiveRow[] {
      return db.prepare('SELECT target, agent, alert, prevmatch, since FROM active').all() as ActiveRow[];
    },
    /** Records an event and its deliveries (status pending, or silenced/suppressed); returns delivery ids. */
    recordEvent: db.transaction((e: AlertEvent, mutedBy: string | null, channels: { name: string; kind: string }[], status: DeliveryStatus): number[] => {
      return record(e, mutedBy, channels, status);
    }),
    /** Records a batch of events in one transaction; returns the delivery ids of each. */
    recordEvents: db.transaction((batch: { event: AlertEvent; mutedBy: string | null; channels: { name: string; kind: string }[]; status: DeliveryStatus }[]): number[][] => {
      return batch.map((b) => record(b.event, b.mutedBy, b.channels, b.status));
    }),
    /** Rewrites a recorded event (a trace attached after it was recorded). */
    updateEvent(e: AlertEvent): void {
      db.prepare('UPDATE events SET event = ? WHERE id = ?').run(JSON.stringify(e), e.id);
    },
    /** Settles a held event: muted (its deliveries become suppressed) or released (pending; returned to be queued). */
    settle: db.transaction((eventId: string, mutedBy: string | null): { id: number; channel: string }[] => {
      const now = Date.now();
      if (mutedBy !== null) {
        db.prepare('UPDATE events SET muted_by = ? WHERE id = ?').run(mutedBy, eventId);
        db.prepare(`UPDATE deliveries SET status = 'suppressed', updated = ? WHERE event_id = ? AND status = 'held'`).run(now, eventId);
        return [];
      }
      const rows = db.prepare(`SELECT id, channel FROM deliveries WHERE event_id = ? AND status = 'held' ORDER BY id`).all(eventId) as { id: number; channel: string }[];
      db.prepare(`UPDATE deliveries SET status = 'pending', updated = ? WHERE event_id = ? AND status = 'held'`).run(now, eventId);
      return rows;
    }),
    /** The active causes of a localization scope (replaces what was saved for it). */
    saveCauses: db.transaction((scope: string, causes: { id: string; body: string }[]) => {
      db.prepare('DELETE FROM causes WHERE scope = ?').run(scope);
      const ins = db.prepare('INSERT INTO causes (id, scope, body) VALUES (?, ?, ?)');
      for (const c of causes) ins.run(c.id, scope, c.body);
    }),
    loadCauses(scope: string): string[] {
      return (db.prepare('SELECT body FROM causes WHERE scope = ? ORDER BY id').all(scope) as { body: string }[]).map((r) => r.body);
    },
    /** A localization scope's engine memory (baselines, bad runs), kept across restarts. */
    saveLocalizeState(scope: string, time: number, state: Buffer): void {
      db.prepare('INSERT OR REPLACE INTO localize_state (scope, time, state) VALUES (?, ?, ?)').run(scope, time, state);
    },
    loadLocalizeState(scope: string): { time: number; state: Buffer } | undefined {
      return db.prepare('SELECT time, state FROM localize_state WHERE scope = ?').get(scope) as { time: number; state: Buffer } | undefined;
    },
    recordAttempt: db.transaction((deliveryId: number, attempt: number, outcome: AttemptRow['outcome'], durationMs: number, error: string | null, note: string | null = null) => {
      const now = Date.now();
      insertAttempt.run(deliveryId, attempt, now, outcome, Math.round(durationMs), error, note);
      updateDelivery.run(outcome === 'sent' ? 'sent' : outcome === 'failed' ? 'failed' : 'pending', attempt, now, error, deliveryId);
    }),
    /** Deliveries not finished when the process stopped, with their events, oldest first. */
    pendingDeliveries(): (DeliveryRow & { event: AlertEvent })[] {
      const rows = db.prepare(`SELECT d.*, e.event AS event FROM deliveries d JOIN events e ON e.id = d.event_id WHERE d.status = 'pending' ORDER BY d.id`).all() as (DeliveryRow & { event: string })[];
      return rows.map((r) => ({ ...r, event: JSON.parse(r.event) as AlertEvent }));
    },
    /** Events matching the filter, newest first, one page of it. */
    events(q: EventQuery): EventRow[] {
      const { where, args } = eventFilter(q);
      const sql = `SELECT * FROM events ${where} ORDER BY time DESC, rowid DESC LIMIT ? OFFSET ?`;
      return (db.prepare(sql).all(...args, q.limit, q.offset ?? 0) as (Omit<EventRow, 'event'> & { event: string })[]).map(parseEvent);
    },
    /** How many events match the filter (all pages). */
    countEvents(q: EventQuery): number {
      const { where, args } = eventFilter(q);
      return (db.prepare(`SELECT COUNT(*) AS n FROM events ${where}`).get(...args) as { n: number }).n;
    },
    /** How many events the given reason muted. */
    countMuted(mutedBy: string): number {
      return (db.prepare('SELECT COUNT(*) AS n FROM events WHERE muted_by = ?').get(mutedBy) as { n: number }).n;
    },
    /** Deliveries matching the filter, newest first, one page of it, each with its attempts and its event. */
    deliveries(q: DeliveryQuery): DeliveryListRow[] {
      const { from, where, args } = deliveryFilter(q);
      const rows = db.prepare(`SELECT d.* FROM ${from} ${where} ORDER BY d.id DESC LIMIT ? OFFSET ?`).all(...args, q.limit, q.offset ?? 0) as DeliveryRow[];
      const attempts = db.prepare('SELECT * FROM attempts WHERE delivery_id = ? ORDER BY attempt');
      const event = db.prepare('SELECT alert, state, target, agent, time FROM events WHERE id = ?');
      return rows.map((r) => ({ ...r, attempt_log: attempts.all(r.id) as AttemptRow[], event: (event.get(r.event_id) as DeliveryListRow['event'] | undefined) ?? null }));
    },
    /** The outcome of each channel's latest attempt (a channel whose latest attempt failed is failing). */
    lastOutcomes(): Record<string, AttemptRow['outcome']> {
      const rows = db.prepare(`SELECT d.channel AS channel, a.outcome AS outcome FROM attempts a JOIN deliveries d ON d.id = a.delivery_id
        WHERE a.rowid IN (SELECT max(a2.rowid) FROM attempts a2 JOIN deliveries d2 ON d2.id = a2.delivery_id GROUP BY d2.channel)`).all() as { channel: string; outcome: AttemptRow['outcome'] }[];
      return Object.fromEntries(rows.map((r) => [r.channel, r.outcome]));
    },
    /** How many deliveries match the filter (all pages). */
    countDeliveries(q: DeliveryQuery): number {
      const { from, where, args } = deliveryFilter(q);
      return (db.prepare(`SELECT COUNT(*) AS n FROM ${from} ${where}`).get(...args) as { n: number }).n;
    },
    saveSilence(s: Silence): void {
      db.prepare('INSERT OR REPLACE INTO silences (id, ends, body) VALUES (?, ?, ?)').run(s.id, s.ends, JSON.stringify(s));
    },
    deleteSilence(id: string): boolean {
      return db.prepare('DELETE FROM silences WHERE id = ?').run(id).changes > 0;
    },
    silences(): Silence[] {
      return (db.prepare('SELECT body FROM silences ORDER BY ends').all() as { body: string }[]).map((r) => JSON.parse(r.body) as Silence);
    },
    close(): void {
      db.close();
    },
  };
}

export type AlertDb = ReturnType<typeof openAlertDb>;
