import { mkdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import type { StoreConfig } from '../config/schema.ts';
import { trimTrailingSlashes } from '../config/tree.ts';
import { SmokemeshError } from '../errors.ts';
import type { Round } from '../probes/round.ts';
import { pruneSeries, renameSeries } from './admin.ts';
import { addContribution, contributionOf, emptyBucket, fromRow, toRow, type BucketRow, type BucketState, type Contribution } from './bucket.ts';
import { packAscendingUs } from './codec.ts';
import { importHistory } from './import.ts';
import { ensureTier, migrate, useIncrementalVacuum } from './migrations.ts';
import { querySeries, queryTopWindow, topOfRounds, type QueryContext } from './query.ts';
import { rawExtra, roundFromRaw, type RawRow, type SeriesRow } from './raw.ts';
import { RecentIndex } from './recent.ts';
import { Retention } from './retention.ts';
import { rawKeepMs, tiersOf, type Tier } from './tiers.ts';
import type { HistoryImport, HistoryImportResult, SeriesInfo, SeriesQuery, SeriesResult, Store, StoreStats, TopMetric, TopRow } from './types.ts';
import { describeRound as describe, roundProblem } from './validate-round.ts';

/** The subset of a pino logger the store uses. */
export interface StoreLogger {
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
}

export interface StoreOptions {
  log?: StoreLogger;
  /** Clock (ms); benchmarks and tests simulate time with it. */
  now?: () => number;
  /** Run retention and retries on timers (default true); when false call maintain() yourself. */
  timers?: boolean;
  /** How long a write waits for another connection's lock before the batch is kept pending. */
  busyTimeoutMs?: number;
  /**
   * Keep the recent past (finest buckets of the last ~2 h, raw rounds of the last ~15 min) in
   * memory for windowed top-N (default true; ~2 KB per series). Tests turn it off to compare.
   */
  recentIndex?: boolean;
}

/** Name of the database file inside the data dir. */
export const DB_FILE = 'smokemesh.db';

/** Open buckets kept decoded in memory (the rest are read back when a round lands in them). */
const BUCKET_CACHE = 200_000;
/** Storage failures that are worth retrying; anything else is a bad round. */
const TRANSIENT = /^SQLITE_(BUSY|LOCKED|FULL|IOERR|CORRUPT|NOTADB|CANTOPEN|READONLY|PERM|PROTOCOL|NOMEM)/;

const noLog: StoreLogger = { info() {}, warn() {}, error() {} };

/** A rollup bucket being filled, as cached: where it belongs and its decoded state. */
interface OpenBucket {
  tier: Tier;
  series: number;
  b: number;
  state: BucketState;
}

/** A series as cached by the writer, with the bucket it last wrote in each tier (the usual next one). */
interface SeriesEntry extends SeriesRow {
  open: Array<OpenBucket | undefined>;
}

/**
 * The SQLite store: one writer (this object), WAL so that readers never block it, every
 * write() one transaction holding the raw rounds and their rollup buckets together.
 */
export class SqliteStore implements Store {
  readonly name = 'store';
  readonly file: string;
  private readonly db: Database.Database;
  private readonly tiers: Tier[];
  private readonly rawKeepMs: number;
  private readonly log: StoreLogger;
  private readonly now: () => number;
  private readonly maxPending: number;
  private readonly stmts = new Map<string, Database.Statement>();
  /** Series by target, then agent (no per-round key string to build). */
  private readonly seriesIds = new Map<string, Map<string, SeriesEntry>>();
  private readonly seriesById = new Map<number, SeriesEntry>();
  /** Open buckets by tier:series:b, least recently read first (the per-series `open` slots serve most rounds). */
  private readonly buckets = new Map<string, OpenBucket>();
  /** The recent past for windowed top-N, created at the first such query; null when it may be stale. */
  private recent: RecentIndex | null = null;
  private latestBySeries: Map<number, Round> | null = null;
  private readonly retention: Retention;
  private dataVersion = 0;
  private pending: Round[] = [];
  private retryDelay = 0;
  private retryAt = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private maintainTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly counters = { rounds_written: 0, dropped: 0, rejected: 0, duplicates: 0 };
  private lastError: string | undefined;
  private readonly timers: boolean;
  private readonly useRecent: boolean;

  constructor(dir: string, cfg: StoreConfig, opts: StoreOptions = {}) {
    this.file = resolve(join(dir, DB_FILE));
    this.log = opts.log ?? noLog;
    this.now = opts.now ?? Date.now;
    this.tiers = tiersOf(cfg);
    this.rawKeepMs = rawKeepMs(cfg);
    this.maxPending = cfg.max_pending;
    this.timers = opts.timers ?? true;
    this.useRecent = opts.recentIndex ?? true;
    let db: Database.Database | undefined;
    try {
      mkdirSync(dir, { recursive: true });
      db = new Database(this.file, { timeout: opts.busyTimeoutMs ?? 50 });
      // Before the first table exists, so that a new file never needs the conversion VACUUM.
      db.pragma('auto_vacuum = INCREMENTAL');
      const mode = db.pragma('journal_mode = WAL', { simple: true });
      if (mode !== 'wal') throw new Error(`cannot switch to WAL journal (got ${String(mode)})`);
      db.pragma(`synchronous = ${cfg.synchronous === 'normal' ? 'NORMAL' : 'FULL'}`);
      migrate(db);
      useIncrementalVacuum(db, this.file, this.log);
      for (const t of this.tiers) ensureTier(db, t.bucket);
    } catch (e) {
      db?.close();
      throw storeError(this.file, 'cannot open the history database', e);
    }
    this.db = db;
    this.dataVersion = this.db.pragma('data_version', { simple: true }) as number;
    this.retention = new Retention(db, this.tiers, this.rawKeepMs, this.now, (t, s, b) => this.forgetBucket(t, s, b));
    if (this.timers) this.scheduleMaintenance(1000);
  }

  /** Stores the rounds durably (one transaction) or, when the database fails, keeps them pending. */
  write(rounds: readonly Round[]): void {
    if (this.closed) throw new SmokemeshError('SMOKEMESH_E_STORE', `${this.file}: the store is closed`);
    const ok = this.accept(rounds);
    if (this.pending.length > 0) {
      this.enqueue(ok);
      this.retry(false);
      return;
    }
    this.commitOrKeep(ok);
  }

  /** Validates and filters the rounds (bad or too old ones are counted and logged, never stored). */
  private accept(rounds: readonly Round[]): Round[] {
    const ok: Round[] = [];
    const now = this.now();
    for (const r of rounds) {
      const problem = roundProblem(r, now, this.rawKeepMs);
      if (problem) {
        this.counters.rejected++;
        if (this.counters.rejected <= 10 || this.counters.rejected % 10000 === 0) {
          this.log.warn(`SMOKEMESH_E_STORE: round refused (${this.counters.rejected} so far): ${describe(r)}: ${problem}`);
        }
      } else {
        ok.push(r);
      }
    }
    return ok;
  }

  private commitOrKeep(rounds: Round[]): void {
    if (rounds.length === 0) return;
    try {
      this.commit(rounds);
      this.recovered();
    } catch (e) {
      if (isTransient(e)) {
        this.failed(e);
        this.enqueue(rounds);
        this.retry(false);
      } else {
        this.oneByOne(rounds, e);
      }
    }
  }

  /** A batch failed for a reason that is not storage: store what can be stored, refuse the rest. */
  private oneByOne(rounds: Round[], cause: unknown): void {
    this.log.error(`SMOKEMESH_E_STORE: ${this.file}: batch failed (${errText(cause)}); storing its rounds one by one`);
    for (const r of rounds) {
      try {
        this.commit([r]);
      } catch (e) {
        if (isTransient(e)) { this.failed(e); this.enqueue([r]); continue; }
        this.counters.rejected++;
        this.log.warn(`SMOKEMESH_E_STORE: round refused: ${describe(r)}: ${errText(e)}`);
      }
    }
  }

  private enqueue(rounds: Round[]): void {
    this.pending.push(...rounds);
    const excess = this.pending.length - this.maxPending;
    if (excess > 0) {
      // Keep the newest: they matter most to whoever looks at the graphs after the outage.
      this.pending.splice(0, excess);
      this.counters.dropped += excess;
    }
  }

  /** Tries the pending rounds again (now if `force`, else once the backoff delay has passed). */
  private retry(force: boolean): void {
    if (this.pending.length === 0 || this.closed) return;
    if (!force && performance.now() < this.retryAt) return;
    const batch = this.pending;
    this.pending = [];
    try {
      this.commit(batch);
      this.log.info(`store: ${batch.length} pending rounds written to ${this.file}`);
      this.recovered();
    } catch (e) {
      this.pending = batch.concat(this.pending);
      if (!isTransient(e)) { const b = this.pending; this.pending = []; this.oneByOne(b, e); return; }
      this.failed(e);
    }
  }

  private failed(e: unknown): void {
    // The cached buckets and series may hold what the rolled-back transaction changed.
    this.resetCaches();
    const msg = `SMOKEMESH_E_STORE: ${this.file}: ${errText(e)}; rounds are kept in memory (up to store.max_pending) and retried`;
    if (msg !== this.lastError) this.log.error(msg);
    this.lastError = msg;
    this.retryDelay = Math.min(30_000, this.retryDelay ? this.retryDelay * 2 : 250);
    // Monotonic clock: the injected one may be simulated.
    this.retryAt = performance.now() + this.retryDelay;
    if (this.timers && !this.retryTimer) {
      this.retryTimer = setTimeout(() => { this.retryTimer = undefined; this.retry(true); }, this.retryDelay);
      this.retryTimer.unref();
    }
  }

  private recovered(): void {
    if (this.lastError && this.pending.length === 0) {
      this.log.info(`store: ${this.file} writable again`);
      this.lastError = undefined;
    }
    this.retryDelay = 0;
  }

  /** One transaction: raw rows (deduplicated on series+time), then every bucket they touched. */
  private commit(rounds: Round[]): void {
    this.checkOtherWriters();
    const insRaw = this.stmt('INSERT OR IGNORE INTO raw (series, time, step, sent, rtts, extra) VALUES (?, ?, ?, ?, ?, ?)');
    const updSeries = this.stmt('UPDATE series SET first = ?, last = ?, probe = ?, step = ? WHERE id = ?');
    const tiers = this.tiers;
    const stored: Array<[SeriesEntry, Round, Contribution]> = [];
    const dirty = new Set<OpenBucket>();
    const touched = new Set<SeriesEntry>();
    let duplicates = 0;
    const recent = this.recent;
    const finestRows: Array<[OpenBucket, BucketRow]> = [];
    this.db.transaction(() => {
      for (const r of rounds) {
        const s = this.seriesOf(r);
        const c = contributionOf(r);
        if (insRaw.run(s.id, r.time, r.step, r.sent, c.us.length ? packAscendingUs(c.us, true) : null, rawExtra(r)).changes === 0) { duplicates++; continue; }
        for (let i = 0; i < tiers.length; i++) {
          const ob = this.openBucket(s, i, Math.floor(r.time / tiers[i]!.ms));
          addContribution(ob.state, c);
          dirty.add(ob);
        }
        if (r.time >= s.last) { s.last = r.time; s.probe = r.probe; s.step = r.step; }
        if (r.time < s.first) s.first = r.time;
        touched.add(s);
        stored.push([s, r, c]);
      }
      for (const ob of dirty) {
        // Transient blob: bound (copied) at once; the row's numbers are all the recent index keeps.
        const row = toRow(ob.state, true);
        this.upsert(ob.tier).run(ob.series, ob.b, row.rounds, row.sent, row.lost, row.n, row.min, row.max, row.mean, row.median, row.stddev, row.sketch, row.q, row.extra);
        if (recent && ob.tier === tiers[0]) finestRows.push([ob, row]);
      }
      for (const s of touched) updSeries.run(s.first, s.last, s.probe, s.step, s.id);
    })();
    this.counters.rounds_written += stored.length;
    this.counters.duplicates += duplicates;
    // Only what is committed reaches the recent index.
    if (recent) {
      const now = this.now();
      for (const [ob, row] of finestRows) recent.bucket(this.seriesById.get(ob.series)!, ob.b, row);
      for (const [s, , c] of stored) recent.round(s, c.time, c.sent, c.us, now);
    }
    if (this.latestBySeries) {
      for (const [s, r] of stored) {
        const cur = this.latestBySeries.get(s.id);
        if (!cur || r.time >= cur.time) this.latestBySeries.set(s.id, r);
      }
    }
    this.trimCache();
  }

  private readonly upserts = new Map<Tier, Database.Statement>();

  private upsert(t: Tier): Database.Statement {
    let st = this.upserts.get(t);
    if (!st) {
      st = this.db.prepare(`INSERT OR REPLACE INTO ${t.table} (series, b, rounds, sent, lost, n, min, max, mean, median, stddev, sketch, q, extra)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
      this.upserts.set(t, st);
    }
    return st;
  }

  private seriesOf(r: Round): SeriesEntry {
    const cached = this.seriesIds.get(r.target)?.get(r.agent);
    if (cached) return cached;
    let row = this.stmt('SELECT * FROM series WHERE target = ? AND agent = ?').get(r.target, r.agent) as SeriesRow | undefined;
    if (!row) {
      row = this.stmt('INSERT INTO series (target, agent, probe, step, first, last) VALUES (?, ?, ?, ?, ?, ?) RETURNING *')
        .get(r.target, r.agent, r.probe, r.step, r.time, r.time) as SeriesRow;
    }
    const s: SeriesEntry = { ...row, open: [] };
    let byAgent = this.seriesIds.get(r.target);
    if (!byAgent) this.seriesIds.set(r.target, (byAgent = new Map()));
    byAgent.set(r.agent, s);
    this.seriesById.set(s.id, s);
    return s;
  }

  /** Bucket `b` of tier `i` of the series: the one it last wrote, else cached, else read back, else empty. */
  private openBucket(s: SeriesEntry, i: number, b: number): OpenBucket {
    const last = s.open[i];
    if (last?.b === b) return last;
    const t = this.tiers[i]!;
    const key = bucketKey(t, s.id, b);
    let ob = this.buckets.get(key);
    if (ob) {
      // Re-insert: Map order is the eviction order.
      this.buckets.delete(key);
    } else {
      const row = this.stmt(`SELECT * FROM ${t.table} WHERE series = ? AND b = ?`).get(s.id, b) as BucketRow | undefined;
      ob = { tier: t, series: s.id, b, state: row ? fromRow(row) : emptyBucket() };
    }
    this.buckets.set(key, ob);
    s.open[i] = ob;
    return ob;
  }

  /** Retention sealed (rewrote) a bucket: drop any decoded copy. */
  private forgetBucket(t: Tier, series: number, b: number): void {
    this.buckets.delete(bucketKey(t, series, b));
    const s = this.seriesById.get(series);
    const i = this.tiers.indexOf(t);
    if (s && s.open[i]?.b === b) s.open[i] = undefined;
  }

  private trimCache(): void {
    if (this.buckets.size <= BUCKET_CACHE) return;
    let drop = this.buckets.size - Math.floor(BUCKET_CACHE * 0.9);
    for (const key of this.buckets.keys()) {
      if (drop-- <= 0) break;
      this.buckets.delete(key);
    }
  }

  /** Another connection (the `smokemesh data` CLI) committed: forget what it may have changed. */
  private checkOtherWriters(): void {
    const v = this.db.pragma('data_version', { simple: true }) as number;
    if (v !== this.dataVersion) {
      this.dataVersion = v;
      this.resetCaches();
    }
  }

  private resetCaches(): void {
    this.seriesIds.clear();
    this.seriesById.clear();
    this.buckets.clear();
    this.recent = null;
    this.latestBySeries = null;
  }

  private stmt(sql: string): Database.Statement {
    let s = this.stmts.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.stmts.set(sql, s);
    }
    return s;
  }

  private get ctx(): QueryContext {
    return { tiers: this.tiers, rawKeepMs: this.rawKeepMs, now: this.now, stmt: (sql) => this.stmt(sql), recent: () => this.recentIndex() };
  }

  series(q: SeriesQuery): SeriesResult {
    return this.read(() => querySeries(this.ctx, q));
  }

  latest(prefix?: string): Round[] {
    return this.read(() => {
      const all = [...this.latestMap().values()];
      if (!prefix || prefix === '/') return all;
      const p = trimTrailingSlashes(prefix);
      return all.filter((r) => r.target === p || r.target.startsWith(p + '/'));
    });
  }

  top(metric: TopMetric, n: number, window?: { from: number; to: number }): TopRow[] {
    return this.read(() => (window ? queryTopWindow(this.ctx, metric, n, window.from, window.to) : topOfRounds(this.latestMap().values(), metric, n)));
  }

  /** The recent index, loaded from the file on first use (and again after the caches were dropped). */
  private recentIndex(): RecentIndex | undefined {
    if (!this.useRecent) return undefined;
    this.checkOtherWriters();
    if (!this.recent) {
      const now = this.now();
      const recent = new RecentIndex(this.tiers[0], now);
      recent.load((sql) => this.stmt(sql), now);
      this.recent = recent;
    }
    return this.recent;
  }

  private latestMap(): Map<number, Round> {
    this.checkOtherWriters();
    if (this.latestBySeries) return this.latestBySeries;
    const m = new Map<number, Round>();
    const rows = this.stmt('SELECT s.id, s.target, s.agent, s.probe, r.time, r.step, r.sent, r.rtts, r.extra FROM series s JOIN raw r ON r.series = s.id AND r.time = s.last').all() as Array<SeriesRow & { sent: number; rtts: Buffer | null; extra: string | null; time: number }>;
    for (const row of rows) m.set(row.id, roundFromRaw(row, row));
    this.latestBySeries = m;
    return m;
  }

  /** Up to `limit` raw rounds of a series after time `after`, oldest first (for `data copy`). */
  rawRoundsAfter(target: string, agent: string, after: number, limit: number): Round[] {
    return this.read(() => {
      const s = this.stmt('SELECT * FROM series WHERE target = ? AND agent = ?').get(target, agent) as SeriesRow | undefined;
      if (!s) return [];
      const rows = this.stmt('SELECT time, step, sent, rtts, extra FROM raw WHERE series = ? AND time > ? ORDER BY time LIMIT ?').all(s.id, after, limit) as RawRow[];
      return rows.map((row) => roundFromRaw(s, row));
    });
  }

  list(): SeriesInfo[] {
    return this.read(() => this.stmt('SELECT target, agent, probe, first, last FROM series ORDER BY target, agent').all() as SeriesInfo[]);
  }

  prune(paths: string[]): number {
    const n = this.admin(() => pruneSeries(this.db, this.tiers, paths));
    return n;
  }

  rename(from: string, to: string): number {
    return this.admin(() => renameSeries(this.db, this.tiers, from, to));
  }

  /** Foreign history older than the series' first round, straight into the tiers (src/store/import.ts). */
  importHistory(h: HistoryImport): HistoryImportResult {
    return this.admin(() => importHistory({ db: this.db, tiers: this.tiers, rawKeepMs: this.rawKeepMs, now: this.now() }, h));
  }

  private admin<T>(fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      if (e instanceof SmokemeshError) throw e;
      throw storeError(this.file, 'history change failed, nothing was changed', e);
    } finally {
      this.resetCaches();
    }
  }

  /** Reads turn SQLite failures into SMOKEMESH_E_STORE naming the file. */
  private read<T>(fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      throw storeError(this.file, 'read failed', e);
    }
  }

  stats(): StoreStats & { rejected: number; duplicates: number } {
    let fileBytes = 0;
    for (const f of [this.file, `${this.file}-wal`]) {
      try { fileBytes += statSync(f).size; } catch { /* absent WAL */ }
    }
    let series = 0;
    try { series = (this.stmt('SELECT count(*) AS n FROM series').get() as { n: number }).n; } catch { /* reported via last_error */ }
    const s: StoreStats & { rejected: number; duplicates: number } = {
      rounds_written: this.counters.rounds_written,
      pending: this.pending.length,
      dropped: this.counters.dropped,
      rejected: this.counters.rejected,
      duplicates: this.counters.duplicates,
      series,
      file_bytes: fileBytes,
    };
    if (this.lastError) s.last_error = this.lastError;
    return s;
  }

  /** Rows per table (raw and each tier), for `smokemesh data info`. */
  tableRows(): Record<string, number> {
    return this.read(() => {
      const out: Record<string, number> = {};
      for (const table of ['raw', ...this.tiers.map((t) => t.table)]) {
        out[table] = (this.stmt(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
      }
      return out;
    });
  }

  /**
   * Runs retention (and a due retry) for about `budgetMs`; returns true when more work is left.
   * The timers call it; benchmarks with a simulated clock call it directly.
   */
  maintain(budgetMs = 25): boolean {
    this.retry(false);
    try {
      return this.retention.step(budgetMs);
    } catch (e) {
      this.log.error(`SMOKEMESH_E_STORE: ${this.file}: retention failed (${errText(e)}); will try again`);
      return false;
    }
  }

  private scheduleMaintenance(delay: number): void {
    this.maintainTimer = setTimeout(() => {
      const more = this.maintain();
      if (!this.closed) this.scheduleMaintenance(more ? 20 : 60_000);
    }, delay);
    this.maintainTimer.unref();
  }

  /** Tries the pending rounds once more, then closes; rounds still pending are reported lost. */
  close(): void {
    if (this.closed) return;
    this.retry(true);
    this.closed = true;
    clearTimeout(this.retryTimer);
    clearTimeout(this.maintainTimer);
    if (this.pending.length) this.log.error(`SMOKEMESH_E_STORE: ${this.file}: closing with ${this.pending.length} rounds not written (${this.lastError ?? 'unknown error'})`);
    try {
      this.db.pragma('optimize');
    } catch { /* best effort */ }
    this.db.close();
  }
}

function bucketKey(t: Tier, series: number, b: number): string {
  return `${t.bucket}:${series}:${b}`;
}

function isTransient(e: unknown): boolean {
  const code = (e as { code?: unknown })?.code;
  return typeof code === 'string' && TRANSIENT.test(code);
}

function errText(e: unknown): string {
  const code = (e as { code?: unknown })?.code;
  const msg = e instanceof Error ? e.message : String(e);
  return typeof code === 'string' && !msg.includes(code) ? `${msg} (${code})` : msg;
}

/** SMOKEMESH_E_STORE naming the file, with SQLite's reason and what to do. */
export function storeError(file: string, what: string, e: unknown): SmokemeshError {
  const code = (e as { code?: unknown })?.code;
  let hint = '';
  if (code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT') hint = '; the file is damaged or not a smokemesh database: restore a backup or move it aside to start a new history';
  else if (code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED') hint = '; another process holds a lock on it: stop it and try again';
  else if (code === 'SQLITE_FULL') hint = '; the disk is full: free space';
  else if (code === 'SQLITE_CANTOPEN' || code === 'SQLITE_READONLY' || code === 'SQLITE_PERM') hint = '; check the data_dir and its permissions';
  return new SmokemeshError('SMOKEMESH_E_STORE', `${file}: ${what}: ${errText(e)}${hint}`, { cause: e });
}
