/**
 * The alert engine's own small SQLite database (`<data_dir>/alerts.sqlite`): the match
 * counters of active alerts (so a restart neither raises twice nor loses a clear), the
 * history of events, every delivery and each of its attempts, and the silences.
 */
import Database from 'better-sqlite3';
import { ensurePrivateDatabase, type ModeNote } from '../private-files.ts';
import type { AlertEvent } from './notifiers/notifier.ts';

export interface ActiveRow {
  target: string;
  agent: string;
  alert: string;
  prevmatch: number;
  since: number;
}

/** `held`: waiting for a verdict (a cause, a parent target's alert, renotify_min) before it is sent or suppressed. */
export type DeliveryStatus = 'pending' | 'sent' | 'failed' | 'silenced' | 'suppressed' | 'held';

export interface DeliveryRow {
  id: number;
  event_id: string;
  channel: string;
  kind: string;
  status: DeliveryStatus;
  attempts: number;
  created: number;
  updated: number;
  last_error: string | null;
}

export interface AttemptRow {
  delivery_id: number;
  attempt: number;
  time: number;
  outcome: 'sent' | 'retry' | 'failed';
  duration_ms: number;
  error: string | null;
}

export interface EventRow {
  id: string;
  time: number;
  target: string;
  agent: string;
  alert: string;
  state: AlertEvent['state'];
  /** Why nothing was sent: a silence id, 'priority', 'quorum', 'renotify', 'cause:<id>', 'depends_on:<path>'. */
  muted_by: string | null;
  event: AlertEvent;
}

export interface Silence {
  id: string;
  created: number;
  /** Active from `starts` (inclusive) to `ends` (exclusive), ms since the epoch. */
  starts: number;
  ends: number;
  /** Target path glob: `*` within one path segment, `**` across segments (alerts/glob.ts). */
  target?: string;
  /** Agent name glob. */
  agent?: string;
  /** Alert name glob. */
  alert?: string;
  /** Every label must be equal on the target. */
  labels?: Record<string, string>;
  comment: string;
  created_by?: string;
}

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
  outcome TEXT NOT NULL, duration_ms INTEGER NOT NULL, error TEXT
);
CREATE INDEX IF NOT EXISTS attempts_delivery ON attempts (delivery_id);
CREATE TABLE IF NOT EXISTS silences (id TEXT PRIMARY KEY, ends INTEGER NOT NULL, body TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS events_muted ON events (muted_by) WHERE muted_by IS NOT NULL;
CREATE TABLE IF NOT EXISTS causes (id TEXT PRIMARY KEY, scope TEXT NOT NULL, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS localize_state (scope TEXT PRIMARY KEY, time INTEGER NOT NULL, state BLOB NOT NULL);
`;

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
  // Notifications held when the process stopped lost their verdict: send them rather than lose them.
  db.prepare(`UPDATE deliveries SET status = 'pending' WHERE status = 'held'`).run();

  const upsertActive = db.prepare('INSERT INTO active (target, agent, alert, prevmatch, since) VALUES (?, ?, ?, ?, ?) ON CONFLICT (target, agent, alert) DO UPDATE SET prevmatch = excluded.prevmatch');
  const deleteActive = db.prepare('DELETE FROM active WHERE target = ? AND agent = ? AND alert = ?');
  const insertEvent = db.prepare('INSERT INTO events (id, time, target, agent, alert, state, muted_by, event) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
  const insertDelivery = db.prepare('INSERT INTO deliveries (event_id, channel, kind, status, created, updated) VALUES (?, ?, ?, ?, ?, ?)');
  const updateDelivery = db.prepare('UPDATE deliveries SET status = ?, attempts = ?, updated = ?, last_error = ? WHERE id = ?');
  const insertAttempt = db.prepare('INSERT INTO attempts (delivery_id, attempt, time, outcome, duration_ms, error) VALUES (?, ?, ?, ?, ?, ?)');
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
      return Object.fromEntries(rows.map((r) => [r.channel, r.n]));
    },
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
    recordAttempt: db.transaction((deliveryId: number, attempt: number, outcome: AttemptRow['outcome'], durationMs: number, error: string | null) => {
      const now = Date.now();
      insertAttempt.run(deliveryId, attempt, now, outcome, Math.round(durationMs), error);
      updateDelivery.run(outcome === 'sent' ? 'sent' : outcome === 'failed' ? 'failed' : 'pending', attempt, now, error, deliveryId);
    }),
    /** Deliveries not finished when the process stopped, with their events, oldest first. */
    pendingDeliveries(): (DeliveryRow & { event: AlertEvent })[] {
      const rows = db.prepare(`SELECT d.*, e.event AS event FROM deliveries d JOIN events e ON e.id = d.event_id WHERE d.status = 'pending' ORDER BY d.id`).all() as (DeliveryRow & { event: string })[];
      return rows.map((r) => ({ ...r, event: JSON.parse(r.event) as AlertEvent }));
    },
    events(q: { target?: string; alert?: string; agent?: string; before?: number; muted_by?: string; alertPrefix?: string; type?: string; limit: number }): EventRow[] {
      const where: string[] = [];
      const args: unknown[] = [];
      if (q.alertPrefix) { where.push('substr(alert, 1, ?) = ?'); args.push(q.alertPrefix.length, q.alertPrefix); }
      if (q.type) { where.push(`json_extract(event, '$.alert.type') = ?`); args.push(q.type); }
      if (q.muted_by) { where.push('muted_by = ?'); args.push(q.muted_by); }
      if (q.target) { where.push('target = ?'); args.push(q.target); }
      if (q.alert) { where.push('alert = ?'); args.push(q.alert); }
      if (q.agent) { where.push('agent = ?'); args.push(q.agent); }
      if (q.before !== undefined) { where.push('time < ?'); args.push(q.before); }
      const sql = `SELECT * FROM events ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY time DESC, rowid DESC LIMIT ?`;
      return (db.prepare(sql).all(...args, q.limit) as (Omit<EventRow, 'event'> & { event: string })[]).map(parseEvent);
    },
    /** How many events the given reason muted. */
    countMuted(mutedBy: string): number {
      return (db.prepare('SELECT COUNT(*) AS n FROM events WHERE muted_by = ?').get(mutedBy) as { n: number }).n;
    },
    deliveries(q: { event?: string; channel?: string; status?: string; limit: number }): (DeliveryRow & { attempt_log: AttemptRow[] })[] {
      const where: string[] = [];
      const args: unknown[] = [];
      if (q.event) { where.push('event_id = ?'); args.push(q.event); }
      if (q.channel) { where.push('channel = ?'); args.push(q.channel); }
      if (q.status) { where.push('status = ?'); args.push(q.status); }
      const rows = db.prepare(`SELECT * FROM deliveries ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY id DESC LIMIT ?`).all(...args, q.limit) as DeliveryRow[];
      const attempts = db.prepare('SELECT * FROM attempts WHERE delivery_id = ? ORDER BY attempt');
      return rows.map((r) => ({ ...r, attempt_log: attempts.all(r.id) as AttemptRow[] }));
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
