import { chmodSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import type { Round } from '../../probes/round.ts';
import type { SeriesRow } from '../raw.ts';
import type { SeriesInfo } from '../types.ts';

/**
 * One series of the index as it is shared (src/cluster/index-sync.ts) or rebuilt from
 * VictoriaMetrics: its probe and step, first and last round times and the latest round (JSON).
 */
export interface IndexRow extends Omit<SeriesRow, 'id'> {
  /** The latest round, as JSON. */
  latest: string;
}

/** The outbox file inside the data dir. */
export const OUTBOX_FILE = 'vm-outbox.db';

/**
 * The VictoriaMetrics backend's local, durable part (one SQLite file, mode 600, WAL,
 * synchronous FULL): rounds acknowledged but not yet confirmed by VictoriaMetrics, and the
 * series index (first, last, the latest round) that latest(), list() and top-by-latest read.
 * A round is acknowledged once it is committed here; it leaves only when VM answered 2xx.
 * Every change of a series' row made here (a round received, a row rebuilt from VM) takes the
 * next `changed` number, so that what changed since a cursor can be shared with other servers;
 * rows merged from other servers keep theirs. A small `meta` table keeps cursors and flags.
 */
export class Outbox {
  readonly file: string;
  private readonly db: Database.Database;
  private readonly ins: Database.Statement;
  private readonly upsert: Database.Statement;
  private readonly mergeRow: Database.Statement;
  /** The last `changed` number given. */
  private changeSeq: number;

  constructor(dir: string) {
    this.file = resolve(join(dir, OUTBOX_FILE));
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    // Created 600 before SQLite opens it: SQLite gives its WAL and shm files the same mode.
    writeFileSync(this.file, '', { flag: 'a', mode: 0o600 });
    chmodSync(this.file, 0o600);
    this.db = new Database(this.file, { timeout: 1000 });
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.exec(`CREATE TABLE IF NOT EXISTS outbox (id INTEGER PRIMARY KEY AUTOINCREMENT, round TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS series (target TEXT NOT NULL, agent TEXT NOT NULL, probe TEXT NOT NULL, step INTEGER NOT NULL,
        first INTEGER NOT NULL, last INTEGER NOT NULL, latest TEXT NOT NULL, PRIMARY KEY (target, agent)) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT NOT NULL) WITHOUT ROWID;`);
    const cols = this.db.prepare('SELECT name FROM pragma_table_info(?)').all('series') as Array<{ name: string }>;
    if (!cols.some((c) => c.name === 'changed')) this.db.exec('ALTER TABLE series ADD COLUMN changed INTEGER NOT NULL DEFAULT 0');
    this.db.exec('CREATE INDEX IF NOT EXISTS series_changed ON series (changed)');
    this.changeSeq = (this.db.prepare('SELECT coalesce(max(changed), 0) AS n FROM series').get() as { n: number }).n;
    this.ins = this.db.prepare('INSERT INTO outbox (round) VALUES (?)');
    // A row moves forward only: the latest round (and its probe and step) is replaced by a newer one, first only by an older one.
    const forward = `first = min(first, excluded.first),
        probe = CASE WHEN excluded.last >= last THEN excluded.probe ELSE probe END,
        step = CASE WHEN excluded.last >= last THEN excluded.step ELSE step END,
        latest = CASE WHEN excluded.last >= last THEN excluded.latest ELSE latest END,
        last = max(last, excluded.last)`;
    this.upsert = this.db.prepare(`INSERT INTO series (target, agent, probe, step, first, last, latest, changed) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (target, agent) DO UPDATE SET ${forward}, changed = excluded.changed`);
    this.mergeRow = this.db.prepare(`INSERT INTO series (target, agent, probe, step, first, last, latest, changed) VALUES (?, ?, ?, ?, ?, ?, ?, 0)
      ON CONFLICT (target, agent) DO UPDATE SET ${forward} WHERE excluded.last > last OR excluded.first < first`);
  }

  /** Commits the rounds (to send) and the series index in one transaction; throws on failure. */
  add(rounds: readonly Round[]): void {
    this.db.transaction(() => {
      for (const r of rounds) {
        const json = JSON.stringify(r);
        this.ins.run(json);
        this.upsert.run(r.target, r.agent, r.probe, r.step, r.time, r.time, json, ++this.changeSeq);
      }
    })();
  }

  /** Only the index (history copied straight to VictoriaMetrics by `data copy`). */
  index(rounds: readonly Round[]): void {
    this.db.transaction(() => {
      for (const r of rounds) this.upsert.run(r.target, r.agent, r.probe, r.step, r.time, r.time, JSON.stringify(r), ++this.changeSeq);
    })();
  }

  /**
   * Rows of the index changed here after `cursor` (a `changed` number), oldest change first, at
   * most `limit`; `changed` of the last one is the next cursor.
   */
  changedSince(cursor: number, limit: number): Array<IndexRow & { changed: number }> {
    return this.db.prepare('SELECT target, agent, probe, step, first, last, latest, changed FROM series WHERE changed > ? ORDER BY changed LIMIT ?')
      .all(cursor, limit) as Array<IndexRow & { changed: number }>;
  }

  /**
   * Merges rows into the index in one transaction (each only moves its row forward: a newer
   * latest round, an older first) and sets the meta values with them. `mine`: the rows count as
   * changed here (a rebuild from VM, to be shared); else (rows from other servers) they do not.
   * Returns how many rows changed.
   */
  merge(rows: readonly IndexRow[], mine: boolean, meta: Record<string, string> = {}): number {
    let n = 0;
    this.db.transaction(() => {
      for (const r of rows) {
        n += mine
          ? this.upsert.run(r.target, r.agent, r.probe, r.step, r.first, r.last, r.latest, ++this.changeSeq).changes
          : this.mergeRow.run(r.target, r.agent, r.probe, r.step, r.first, r.last, r.latest).changes;
      }
      for (const [k, v] of Object.entries(meta)) this.setMeta(k, v);
    })();
    return n;
  }

  getMeta(k: string): string | undefined {
    return (this.db.prepare('SELECT v FROM meta WHERE k = ?').get(k) as { v: string } | undefined)?.v;
  }

  /** Sets (or with undefined deletes) a meta value. */
  setMeta(k: string, v: string | undefined): void {
    if (v === undefined) this.db.prepare('DELETE FROM meta WHERE k = ?').run(k);
    else this.db.prepare('INSERT INTO meta (k, v) VALUES (?, ?) ON CONFLICT (k) DO UPDATE SET v = excluded.v').run(k, v);
  }

  /** The oldest `n` rounds waiting, with their ids. */
  peek(n: number): { ids: number[]; rounds: Round[] } {
    const rows = this.db.prepare('SELECT id, round FROM outbox ORDER BY id LIMIT ?').all(n) as Array<{ id: number; round: string }>;
    return { ids: rows.map((r) => r.id), rounds: rows.map((r) => JSON.parse(r.round) as Round) };
  }

  /** Removes rounds VictoriaMetrics confirmed. */
  remove(ids: readonly number[]): void {
    if (ids.length === 0) return;
    this.db.prepare('DELETE FROM outbox WHERE id >= ? AND id <= ?').run(ids[0], ids[ids.length - 1]);
  }

  /** Rounds waiting to be sent. */
  pending(): number {
    return (this.db.prepare('SELECT count(*) AS n FROM outbox').get() as { n: number }).n;
  }

  /** The latest round of every series. */
  latest(): Round[] {
    return (this.db.prepare('SELECT latest FROM series').all() as Array<{ latest: string }>).map((r) => JSON.parse(r.latest) as Round);
  }

  list(): SeriesInfo[] {
    return this.db.prepare('SELECT target, agent, probe, first, last FROM series ORDER BY target, agent').all() as SeriesInfo[];
  }

  /** The series' step (of its latest round), or undefined when the series is unknown. */
  stepOf(target: string, agent: string): number | undefined {
    return (this.db.prepare('SELECT step FROM series WHERE target = ? AND agent = ?').get(target, agent) as { step: number } | undefined)?.step;
  }

  /** The series of the given targets with their step, by target then agent. */
  seriesOf(targets: readonly string[]): Array<{ target: string; agent: string; step: number }> {
    return this.db.prepare('SELECT target, agent, step FROM series WHERE target IN (SELECT value FROM json_each(?)) ORDER BY target, agent')
      .all(JSON.stringify(targets)) as Array<{ target: string; agent: string; step: number }>;
  }

  /** Forgets the series under the paths (exact or below); returns how many. */
  forget(paths: readonly string[]): number {
    let n = 0;
    const del = this.db.prepare("DELETE FROM series WHERE target = ? OR substr(target, 1, length(?) + 1) = ? || '/'");
    const delOut = this.db.prepare("DELETE FROM outbox WHERE json_extract(round, '$.target') = ? OR substr(json_extract(round, '$.target'), 1, length(?) + 1) = ? || '/'");
    this.db.transaction(() => {
      for (const p of paths) {
        n += del.run(p, p, p).changes;
        delOut.run(p, p, p);
      }
    })();
    return n;
  }

  seriesCount(): number {
    return (this.db.prepare('SELECT count(*) AS n FROM series').get() as { n: number }).n;
  }

  /** Bytes of the file and its WAL. */
  bytes(): number {
    let n = 0;
    for (const f of [this.file, `${this.file}-wal`]) {
      try { n += statSync(f).size; } catch { /* no WAL yet */ }
    }
    return n;
  }

  close(): void {
    this.db.close();
  }
}
