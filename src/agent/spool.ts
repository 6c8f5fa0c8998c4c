import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { Round } from '../probes/round.ts';
import { SmokemeshError } from '../errors.ts';
import { ensurePrivateDatabase, ensurePrivateDir, type ModeNote } from '../private-files.ts';
import type { SpoolStatus } from './protocol.ts';

/** A round waiting in the outbox, with the id that acknowledges it. */
export interface SpooledRound {
  id: number;
  round: Round;
}

/**
 * The agent's outbox: every round is written here (SQLite, WAL, synchronous=FULL: on disk
 * before append() returns) and deleted only once the server has answered for it. SQLite rather
 * than segment files because the sender acknowledges arbitrary subsets (fresh rounds go out
 * beside the oldest backlog), which a table does atomically and a log of segments does not.
 * The quota counts the rounds' JSON bytes; past it the oldest rounds go first and are counted.
 * Directory 700, files 600. A write that fails (disk full) throws and changes nothing.
 */
export class Spool {
  private db: Database.Database;
  private bytes = 0;
  private count = 0;
  private droppedTotal = 0;
  private readonly stmt;

  constructor(dir: string, private readonly quotaBytes = 256 * 1024 * 1024, note?: ModeNote) {
    const file = join(dir, 'outbox.sqlite');
    try {
      ensurePrivateDir(dir, note);
      ensurePrivateDatabase(file, note);
      this.db = new Database(file);
      this.db.pragma('journal_mode = WAL');
      this.db.pragma('synchronous = FULL');
      this.db.exec(`
        CREATE TABLE IF NOT EXISTS outbox (id INTEGER PRIMARY KEY AUTOINCREMENT, time INTEGER NOT NULL, size INTEGER NOT NULL, body TEXT NOT NULL);
        CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
      `);
    } catch (e) {
      throw new SmokemeshError('SMOKEMESH_E_STORE', `spool ${file}: cannot open it: ${(e as Error).message}`, { cause: e });
    }
    this.stmt = {
      insert: this.db.prepare('INSERT INTO outbox (time, size, body) VALUES (?, ?, ?)'),
      oldest: this.db.prepare('SELECT id, size FROM outbox ORDER BY id LIMIT ?'),
      del: this.db.prepare('DELETE FROM outbox WHERE id = ? RETURNING size'),
      headIds: this.db.prepare('SELECT id, body FROM outbox ORDER BY id LIMIT ?'),
      tailIds: this.db.prepare('SELECT id, body FROM outbox ORDER BY id DESC LIMIT ?'),
      getMeta: this.db.prepare('SELECT value FROM meta WHERE key = ?'),
      setMeta: this.db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value'),
      firstTime: this.db.prepare('SELECT time FROM outbox ORDER BY id LIMIT 1'),
    };
    const row = this.db.prepare('SELECT COUNT(*) AS n, COALESCE(SUM(size), 0) AS b FROM outbox').get() as { n: number; b: number };
    this.count = row.n;
    this.bytes = row.b;
    this.droppedTotal = Number(this.getMeta('dropped') ?? 0);
  }

  /** Rounds waiting (cheap: no query). */
  get backlog(): number {
    return this.count;
  }

  /**
   * Writes rounds to disk (one transaction: all or, when it throws, none); returns how many
   * older rounds the quota pushed out.
   */
  append(rounds: readonly Round[]): number {
    if (rounds.length === 0) return 0;
    const bodies = rounds.map((r) => JSON.stringify(r));
    const incoming = bodies.reduce((a, b) => a + Buffer.byteLength(b), 0);
    // The counters change only once the transaction committed.
    let bytes = this.bytes;
    let count = this.count;
    let dropped = 0;
    this.db.transaction(() => {
      while (bytes + incoming > this.quotaBytes && count > 0) {
        for (const { id } of this.stmt.oldest.all(256) as { id: number; size: number }[]) {
          if (bytes + incoming <= this.quotaBytes) break;
          const gone = this.stmt.del.get(id) as { size: number } | undefined;
          if (!gone) continue;
          bytes -= gone.size;
          count--;
          dropped++;
        }
      }
      for (let i = 0; i < bodies.length; i++) {
        this.stmt.insert.run(rounds[i]!.time, Buffer.byteLength(bodies[i]!), bodies[i]);
      }
      if (dropped) this.stmt.setMeta.run('dropped', String(this.droppedTotal + dropped));
    })();
    this.bytes = bytes + incoming;
    this.count = count + rounds.length;
    this.droppedTotal += dropped;
    return dropped;
  }

  /**
   * The next batch to send, in id order: while a backlog is waiting, half the batch is the
   * newest rounds (so current data keeps flowing) and half the oldest (so the backlog drains
   * in order); otherwise everything waiting.
   */
  take(max: number): SpooledRound[] {
    const parse = (rows: { id: number; body: string }[]) => rows.map((r) => ({ id: r.id, round: JSON.parse(r.body) as Round }));
    if (this.count <= max) return parse(this.stmt.headIds.all(max) as { id: number; body: string }[]);
    const freshN = Math.floor(max / 2);
    const fresh = this.stmt.tailIds.all(freshN) as { id: number; body: string }[];
    const old = this.stmt.headIds.all(max - freshN) as { id: number; body: string }[];
    return parse([...old, ...fresh.reverse()]);
  }

  /** Deletes acknowledged rounds (accepted or refused for good by the server). */
  remove(ids: readonly number[]): void {
    let bytes = 0;
    let count = 0;
    this.db.transaction(() => {
      for (const id of ids) {
        const gone = this.stmt.del.get(id) as { size: number } | undefined;
        if (!gone) continue;
        bytes += gone.size;
        count++;
      }
    })();
    this.bytes -= bytes;
    this.count -= count;
  }

  status(): SpoolStatus {
    const first = this.stmt.firstTime.get() as { time: number } | undefined;
    const s: SpoolStatus = { backlog: this.count, bytes: this.bytes, dropped: this.droppedTotal };
    if (first) s.oldest = first.time;
    return s;
  }

  getMeta(key: string): string | undefined {
    return (this.stmt.getMeta.get(key) as { value: string } | undefined)?.value;
  }

  setMeta(key: string, value: string): void {
    this.stmt.setMeta.run(key, value);
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
