import { statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import type { StoreConfig } from '../config/schema.ts';
import { trimTrailingSlashes } from '../config/tree.ts';
import { SmokemeshError, UnavailableError } from '../errors.ts';
import { ensurePrivateDatabase, ensurePrivateDir } from '../private-files.ts';
import type { Round } from '../probes/round.ts';
import { pruneSeries, renameSeries } from './admin.ts';
import { addContribution, contributionOf, emptyBucket, fromRow, summaryOf, toRow, type BucketRow, type BucketState, type Contribution } from './bucket.ts';
import { packAscendingUs } from './codec.ts';
import { importHistory } from './import.ts';
import { ensureTier, migrate, SCHEMA_VERSION, useIncrementalVacuum } from './migrations.ts';
import { querySeries, querySummaries, queryTopWindow, topOfRounds, type QueryContext } from './query.ts';
import { rawExtra, roundFromRaw, type RawRow, type SeriesRow } from './raw.ts';
import { RecentIndex } from './recent.ts';
import { SummaryCache, type CachedBucket } from './summary-cache.ts';
import { Retention } from './retention.ts';
import { countBuckets, takeBucket } from './tier-rows.ts';
import { rawKeepMs, tiersOf, type Tier } from './tiers.ts';
import { noLog, seriesKey, SMOKE_QUANTILES, type HistoryImport, type StoreLogger, type HistoryImportResult, type RoundRefusal, type SeriesInfo, type SeriesPoint, type SeriesQuery, type RawRead, type SeriesResult, type SeriesSummary, type Store, type StoreStats, type TopMetric, type SummaryQuery, type TopRow, type WriteResult } from './types.ts';
import { checkRound, FUTURE_MS, type RoundProblem, type RoundWindow } from './validate-round.ts';

/** The subset of a pino logger the store uses. */
export interface StoreOptions {
  log?: StoreLogger;
  /** Clock (ms); benchmarks and tests simulate time with it. */
  now?: () => number;
  /** Run retention on a timer (default true); when false call maintain() yourself. */
  timers?: boolean;
  /** How long a write waits for another connection's lock before it fails with SMOKEMESH_E_UNAVAILABLE. */
  busyTimeoutMs?: number;
  /**
   * Keep the recent past (finest buckets of the last ~2 h, raw rounds of the last ~15 min) in
   * memory for windowed top-N (default true; ~2 KB per series). Tests turn it off to compare.
   */
  recentIndex?: boolean;
  /**
   * Keep the recent bucket summaries of the series small graphs ask for in memory (default
   * true; at most ~18 MB, src/store/summary-cache.ts). Tests turn it off to compare.
   */
  summaryCache?: boolean;
}

/** Name of the database file inside the data dir. */
export const DB_FILE = 'smokemesh.db';

/** After a storage failure writes fail at once for 250 ms, doubling up to this, then one is tried again. */
const MAX_RETRY_MS = 5000;
/** Open buckets kept decoded in memory (the rest are read back when a round lands in them). */
const BUCKET_CACHE = 200_000;
/** Storage failures that are worth retrying (SMOKEMESH_E_UNAVAILABLE); anything else is a bad round or a bug. */
const TRANSIENT = /^SQLITE_(BUSY|LOCKED|FULL|IOERR|CORRUPT|NOTADB|CANTOPEN|READONLY|PERM|PROTOCOL|NOMEM)/;


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
 * write() one transaction holding the raw rounds and their rollup buckets together. Nothing is
 * held in memory for a later write: a write commits or throws (see Store.write).
 */
export class SqliteStore implements Store {
  readonly name = 'store';
  readonly file: string;
  private readonly db: Database.Database;
  private readonly tiers: Tier[];
  private readonly rawKeepMs: number;
  private readonly log: StoreLogger;
  private readonly now: () => number;
  private readonly rawDays: number;
  private readonly stmts = new Map<string, Database.Statement>();
  /** Series by target, then agent (no per-round key string to build). */
  private readonly seriesIds = new Map<string, Map<string, SeriesEntry>>();
  private readonly seriesById = new Map<number, SeriesEntry>();
  /** Open buckets by tier:series:b, least recently read first (the per-series `open` slots serve most rounds). */
  private readonly buckets = new Map<string, OpenBucket>();
  /** The recent past for windowed top-N, created at the first such query; null when it may be stale. */
  private recent: RecentIndex | null = null;
  private latestBySeries: Map<number, Round> | null = null;
  /** Recent bucket summaries for Store.summaries; undefined when turned off. */
  private readonly summaryCache: SummaryCache | undefined;
  private readonly retention: Retention;
  private dataVersion = 0;
  /** Breaker after a storage failure: writes fail at once until retryAt (performance.now()), then one is tried. */
  private retryDelay = 0;
  private retryAt = 0;
  private maintainTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly counters = { rounds_written: 0, refused: 0, duplicates: 0, write_failures: 0 };
  private lastError: string | undefined;
  private readonly timers: boolean;
  private readonly useRecent: boolean;

  constructor(dir: string, cfg: StoreConfig, opts: StoreOptions = {}) {
    this.file = resolve(join(dir, DB_FILE));
    this.log = opts.log ?? noLog;
    this.now = opts.now ?? Date.now;
    this.tiers = tiersOf(cfg);
    this.rawKeepMs = rawKeepMs(cfg);
    this.rawDays = cfg.raw_days;
    if (cfg.max_pending !== undefined) this.log.warn(`store.max_pending is ignored: the store no longer holds rounds in memory (writers keep them until they are committed); remove it from the config`);
    this.timers = opts.timers ?? true;
    this.useRecent = opts.recentIndex ?? true;
    this.summaryCache = opts.summaryCache === false ? undefined : new SummaryCache();
    let db: Database.Database | undefined;
    try {
      const note = (m: string) => this.log.warn(`store: ${m}`);
      ensurePrivateDir(dir, note);
      ensurePrivateDatabase(this.file, note);
      db = new Database(this.file, { timeout: opts.busyTimeoutMs ?? 50 });
      // Before the first table exists, so that a new file never needs the conversion VACUUM.
      db.pragma('auto_vacuum = INCREMENTAL');
      const mode = db.pragma('journal_mode = WAL', { simple: true });
      if (mode !== 'wal') throw new Error(`cannot switch to WAL journal (got ${String(mode)})`);
      db.pragma(`synchronous = ${cfg.synchronous === 'normal' ? 'NORMAL' : 'FULL'}`);
      const from = db.pragma('user_version', { simple: true }) as number;
      // A file of an older schema is converted once, in one transaction per version; it can take a while for a big file.
      if (from > 0 && from < SCHEMA_VERSION) this.log.info(`store: migrating ${this.file} from schema version ${from} to ${SCHEMA_VERSION}, once (version 2 packs sealed buckets)`);
      const t0 = performance.now();
      migrate(db);
      if (from > 0 && from < SCHEMA_VERSION) this.log.info(`store: ${this.file} migrated in ${((performance.now() - t0) / 1000).toFixed(1)} s; retention hands the freed pages back over its next passes`);
      useIncrementalVacuum(db, this.file, this.log);
      for (const t of this.tiers) ensureTier(db, t.bucket);
    } catch (e) {
      db?.close();
      throw storeError(this.file, 'cannot open the history database', e);
    }
    this.db = db;
    this.dataVersion = this.db.pragma('data_version', { simple: true }) as number;
    this.retention = new Retention(db, this.tiers, this.rawKeepMs, this.now, (t, s, b) => this.forgetBucket(t, s, b),
      (t, s, below) => this.summaryCache?.forgetBelow(this.tiers.indexOf(t), s, below));
    if (this.timers) this.scheduleMaintenance(1000);
  }

  /** The store's validation of one round (Store.check): the shared checkRound with this store's time window. */
  check(round: unknown, now = this.now()): RoundProblem | undefined {
    return checkRound(round, this.window(now));
  }

  private window(now: number): RoundWindow {
    return { oldest: now - this.rawKeepMs, newest: now + FUTURE_MS, retention: `store.raw_days = ${this.rawDays}` };
  }

  /** Validates, then commits the valid rounds in one transaction, or throws (see Store.write). */
  write(rounds: readonly Round[]): WriteResult {
    if (this.closed) throw new SmokemeshError('SMOKEMESH_E_STORE', `${this.file}: the store is closed`);
    const wait = this.retryAt - performance.now();
    if (this.lastError !== undefined && wait > 0) {
      this.counters.write_failures++;
      throw new UnavailableError(this.lastError, wait);
    }
    const window = this.window(this.now());
    const ok: Round[] = [];
    const at: number[] = [];
    const refused: RoundRefusal[] = [];
    for (let i = 0; i < rounds.length; i++) {
      const problem = checkRound(rounds[i], window);
      if (problem) this.refuse(refused, i, rounds[i], problem);
      else { ok.push(rounds[i]!); at.push(i); }
    }
    if (ok.length === 0) return { stored: 0, duplicates: [], refused };
    const before = this.counters.rounds_written;
    let duplicates: number[];
    try {
      duplicates = this.commit(ok).map((j) => at[j]!);
    } catch (e) {
      if (isTransient(e)) throw this.failed(e);
      duplicates = this.commitWithout(ok, at, refused, e);
    }
    this.recovered();
    refused.sort((x, y) => x.index - y.index);
    return { stored: this.counters.rounds_written - before, duplicates, refused };
  }

  private refuse(refused: RoundRefusal[], index: number, r: unknown, problem: RoundProblem): void {
    refused.push({ index, ...problem });
    this.counters.refused++;
    if (this.counters.refused <= 10 || this.counters.refused % 10000 === 0) {
      this.log.warn(`SMOKEMESH_E_STORE: round refused (${this.counters.refused} so far): ${describe(r)}: ${problem.field}: ${problem.message}`);
    }
  }

  /**
   * The batch failed for a reason that is neither a bad round nor storage (a bug-shaped failure):
   * each round is tried in a transaction that is rolled back, the ones SQLite fails on are
   * refused, and the others committed in one transaction. Returns the duplicates' indices.
   */
  private commitWithout(ok: Round[], at: number[], refused: RoundRefusal[], cause: unknown): number[] {
    this.resetCaches();
    this.log.error(`SMOKEMESH_E_STORE: ${this.file}: batch failed (${errText(cause)}); finding the rounds it fails on`);
    const keep: Round[] = [];
    const keepAt: number[] = [];
    for (let i = 0; i < ok.length; i++) {
      try {
        this.commit([ok[i]!], true);
        keep.push(ok[i]!);
        keepAt.push(at[i]!);
      } catch (e) {
        if (isTransient(e)) throw this.failed(e);
        this.refuse(refused, at[i]!, ok[i], { field: '', message: `the store cannot write it: ${errText(e)}` });
      } finally {
        this.resetCaches();
      }
    }
    try {
      return this.commit(keep).map((j) => keepAt[j]!);
    } catch (e) {
      if (isTransient(e)) throw this.failed(e);
      this.resetCaches();
      throw storeError(this.file, 'write failed, nothing of the batch was stored', e);
    }
  }

  /** A storage failure: nothing was committed; writes fail at once for a while; logged when it changes. */
  private failed(e: unknown): UnavailableError {
    // The cached buckets and series may hold what the rolled-back transaction changed.
    this.resetCaches();
    this.counters.write_failures++;
    this.retryDelay = Math.min(MAX_RETRY_MS, this.retryDelay ? this.retryDelay * 2 : 250);
    // Monotonic clock: the injected one may be simulated.
    this.retryAt = performance.now() + this.retryDelay;
    const msg = `SMOKEMESH_E_UNAVAILABLE: ${this.file}: cannot commit: ${errText(e)}${hintOf(e)}; nothing of the batch was stored (agents keep their rounds and retry)`;
    if (msg !== this.lastError) this.log.error(msg);
    this.lastError = msg;
    return new UnavailableError(msg, this.retryDelay, { cause: e });
  }

  private recovered(): void {
    if (this.lastError !== undefined) {
      this.log.info(`store: ${this.file} writable again`);
      this.lastError = undefined;
    }
    this.retryDelay = 0;
  }

  /**
   * One transaction: raw rows (deduplicated on series+time), then every bucket they touched.
   * Returns the indices of the rounds that were already stored. `dryRun` rolls it back (and the
   * caller drops the caches it changed).
   */
  private commit(rounds: Round[], dryRun = false): number[] {
    this.checkOtherWriters();
    const insRaw = this.stmt('INSERT OR IGNORE INTO raw (series, time, step, sent, rtts, extra) VALUES (?, ?, ?, ?, ?, ?)');
    const updSeries = this.stmt('UPDATE series SET first = ?, last = ?, probe = ?, step = ? WHERE id = ?');
    const tiers = this.tiers;
    const stored: Array<[SeriesEntry, Round, Contribution]> = [];
    const dirty = new Set<OpenBucket>();
    const touched = new Set<SeriesEntry>();
    const duplicates: number[] = [];
    const recent = this.recent;
    const finestRows: Array<[OpenBucket, BucketRow]> = [];
    const cache = this.summaryCache;
    const cachedRows: Array<[number, number, CachedBucket]> = [];
    const tx = this.db.transaction(() => {
      for (let k = 0; k < rounds.length; k++) {
        const r = rounds[k]!;
        const s = this.seriesOf(r);
        const c = contributionOf(r);
        if (insRaw.run(s.id, r.time, r.step, r.sent, c.us.length ? packAscendingUs(c.us, true) : null, rawExtra(r)).changes === 0) { duplicates.push(k); continue; }
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
        // Summarized now: the row's blobs are scratch views, valid until the next toRow.
        const ti = tiers.indexOf(ob.tier);
        if (cache?.has(ti, ob.series)) cachedRows.push([ti, ob.series, { b: ob.b, n: row.n, ...summaryOf(row, ALL_LEVELS) }]);
      }
      for (const s of touched) updSeries.run(s.first, s.last, s.probe, s.step, s.id);
      if (dryRun) throw DRY_RUN;
    });
    try {
      tx();
    } catch (e) {
      if (e === DRY_RUN) return [];
      throw e;
    }
    this.counters.rounds_written += stored.length;
    this.counters.duplicates += duplicates.length;
    // Only what is committed reaches the recent index.
    if (recent) {
      const now = this.now();
      for (const [ob, row] of finestRows) recent.bucket(this.seriesById.get(ob.series)!, ob.b, row);
      for (const [s, , c] of stored) recent.round(s, c.time, c.sent, c.us, now);
    }
    for (const [ti, series, c] of cachedRows) cache!.update(ti, series, c);
    if (this.latestBySeries) {
      for (const [s, r] of stored) {
        const cur = this.latestBySeries.get(s.id);
        if (!cur || r.time >= cur.time) this.latestBySeries.set(s.id, r);
      }
    }
    this.trimCache();
    return duplicates;
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
      // A sealed (packed) bucket leaves its pack: it is written back open, and sealed again by retention.
      const row = takeBucket((sql) => this.stmt(sql), t, s.id, b);
      ob = { tier: t, series: s.id, b, state: row ? fromRow(row) : emptyBucket() };
    }
    this.buckets.set(key, ob);
    s.open[i] = ob;
    return ob;
  }

  /** Retention sealed (rewrote) a bucket: drop any decoded copy. */
  private forgetBucket(t: Tier, series: number, b: number): void {
    this.buckets.delete(bucketKey(t, series, b));
    this.summaryCache?.forgetBelow(this.tiers.indexOf(t), series, b + 1);
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
    this.summaryCache?.clear();
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

  summaries(q: SummaryQuery): SeriesSummary[] {
    return this.read(() => {
      this.checkOtherWriters();
      return querySummaries({ ...this.ctx, summaryCache: this.summaryCache }, q);
    });
  }

  /** Buckets the summary cache holds (0 when it is off). */
  summaryCacheHeld(): number {
    return this.summaryCache?.size ?? 0;
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

  rawRounds(reads: readonly RawRead[]): Map<string, SeriesPoint[]> {
    // A local read costs no round trip: series() per series, its raw answers kept.
    const out = new Map<string, SeriesPoint[]>();
    for (const { target, agent, from, to } of reads) {
      const res = this.series({ target, agent, from, to });
      if (res.tier === 'raw' && res.points.length) out.set(seriesKey(target, agent), res.points);
    }
    return out;
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

  /**
   * Foreign history older than the series' first round, straight into the tiers
   * (src/store/import.ts). The write contract holds here too: one transaction that commits or
   * throws, storage failures as SMOKEMESH_E_UNAVAILABLE with nothing of the series committed,
   * and every raw round it makes passes the store's own validation.
   */
  importHistory(h: HistoryImport): HistoryImportResult {
    if (this.closed) throw new SmokemeshError('SMOKEMESH_E_STORE', `${this.file}: the store is closed`);
    const now = this.now();
    const check = (r: Round, raw: boolean) => checkRound(r, raw ? this.window(now) : { ...this.window(now), oldest: 0 });
    try {
      return importHistory({ db: this.db, tiers: this.tiers, rawKeepMs: this.rawKeepMs, now, check }, h);
    } catch (e) {
      if (e instanceof SmokemeshError) throw e;
      if (isTransient(e)) {
        throw new UnavailableError(`SMOKEMESH_E_UNAVAILABLE: ${this.file}: cannot commit the history of ${h.target} from ${h.agent}: ${errText(e)}${hintOf(e)}; nothing of it was stored (run the import again: it writes only what is missing)`, MAX_RETRY_MS, { cause: e });
      }
      throw storeError(this.file, `history of ${h.target} from ${h.agent} not imported, nothing of it was stored`, e);
    } finally {
      // The writer's cached series and buckets may predate what the import changed.
      this.resetCaches();
    }
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

  stats(): StoreStats {
    let fileBytes = 0;
    for (const f of [this.file, `${this.file}-wal`]) {
      try { fileBytes += statSync(f).size; } catch { /* absent WAL */ }
    }
    let series = 0;
    try { series = (this.stmt('SELECT count(*) AS n FROM series').get() as { n: number }).n; } catch { /* reported via last_error */ }
    const s: StoreStats = {
      rounds_written: this.counters.rounds_written,
      refused: this.counters.refused,
      duplicates: this.counters.duplicates,
      write_failures: this.counters.write_failures,
      unavailable: this.lastError !== undefined,
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
      out.raw = (this.stmt('SELECT count(*) AS n FROM raw').get() as { n: number }).n;
      // A tier's buckets, open and packed alike, under the name of its table.
      for (const t of this.tiers) out[t.table] = countBuckets((sql) => this.stmt(sql), t);
      return out;
    });
  }

  /**
   * Runs retention for about `budgetMs`; returns true when more work is left.
   * The timer calls it; benchmarks with a simulated clock call it directly.
   */
  maintain(budgetMs = 25): boolean {
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

  /** Closes the file (nothing is waiting: every write committed or threw). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.maintainTimer);
    try {
      this.db.pragma('optimize');
    } catch { /* best effort */ }
    this.db.close();
  }
}

/** Every SMOKE_QUANTILES level, by index: what the summary cache keeps. */
const ALL_LEVELS = SMOKE_QUANTILES.map((_, i) => i);

/** Thrown inside a dry-run transaction to roll it back. */
const DRY_RUN = Symbol('dry run');

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

/** Names a round in a log line without trusting its shape (a field may be a huge or deeply nested value). */
function describe(r: unknown): string {
  const x = (r !== null && typeof r === 'object' ? r : {}) as Record<string, unknown>;
  const show = (v: unknown) => (typeof v === 'string' ? v.slice(0, 200) : typeof v === 'number' ? String(v) : typeof v);
  return `target ${show(x.target)} agent ${show(x.agent)} time ${show(x.time)}`;
}

/** SMOKEMESH_E_STORE naming the file, with SQLite's reason and what to do. */
export function storeError(file: string, what: string, e: unknown): SmokemeshError {
  return new SmokemeshError('SMOKEMESH_E_STORE', `${file}: ${what}: ${errText(e)}${hintOf(e)}`, { cause: e });
}

/** What to do about a SQLite failure, from its code. */
function hintOf(e: unknown): string {
  const code = (e as { code?: unknown })?.code;
  if (code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT') return '; the file is damaged or not a smokemesh database: restore a backup or move it aside to start a new history';
  if (code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED') return '; another process holds a lock on it: stop it and try again';
  if (code === 'SQLITE_FULL') return '; the disk is full: free space';
  if (code === 'SQLITE_CANTOPEN' || code === 'SQLITE_READONLY' || code === 'SQLITE_PERM') return '; check the data_dir and its permissions';
  return '';
}
