import type { StoreConfig } from '../config/schema.ts';
import { trimTrailingSlashes } from '../config/tree.ts';
import { vmEndpoints, type VmEndpoints } from '../config/vm-endpoints.ts';
import { SmokemeshError, UnavailableError } from '../errors.ts';
import type { Round } from '../probes/round.ts';
import { rank, topOfRounds } from './query.ts';

import { rawKeepMs, tiersOf, type Tier } from './tiers.ts';
import { noLog, type HistoryImport, type HistoryImportResult, type RoundRefusal, type SeriesInfo, type SeriesPoint, type SeriesQuery, type RawRead, type SeriesResult, type SeriesSummary, type Store, type StoreLogger, type StoreStats, type TopMetric, type SummaryQuery, type TopRow, type WriteResult } from './types.ts';
import { checkRound, FUTURE_MS, type RoundProblem, type RoundWindow } from './validate-round.ts';
import { summaryOfPoints } from './summary.ts';
import { importLines, pointsBySeries, pointsFromExport, seriesKey } from './vm/encode.ts';
import { Outbox, type IndexRow } from './vm/outbox.ts';
import { rebuildFromVm } from './vm/rebuild.ts';
import { bucketPointsBySeries, bucketQuery, escapeRegex, groupReads, groupSelector, promAnswer, q, selector, stepFor, targetsSelector, windowQuery, windowRows, windowValue, type PromSeries } from './vm/query.ts';
import { SyncHttp } from './vm/sync-http.ts';

/** Points returned when a query does not say (as the SQLite store). */
const DEFAULT_POINTS = 1000;
/** Rounds per import request. */
const BATCH = 10000;
/** The smallest batch after failures halved it (a timeout can mean "too much at once for VM now"). */
const MIN_BATCH = 50;

/** Targets per export of Store.rawRounds (the selector's regexp stays a few KB). */
const RAW_READ_CHUNK = 200;
/** Meta key set while the series index is being rebuilt from VM (a rebuild cut short runs again at the next start). */
const REBUILD_KEY = 'rebuild';
/** Wait before retrying a rebuild that failed (VM away). */
const REBUILD_RETRY_MS = 30_000;

export interface VmStoreOptions {
  log?: StoreLogger;
  now?: () => number;
  /** Send the outbox on timers (default true); when false call flush() yourself. */
  timers?: boolean;
}


/**
 * The VictoriaMetrics backend (a single node, or a cluster's vminsert and vmselect: the
 * endpoints come from src/config/vm-endpoints.ts): a round is acknowledged once committed to
 * the local durable outbox (src/store/vm/outbox.ts); a sender moves the outbox to VM's import
 * in batches, with retries, and removes a batch only after VM answered 2xx. Reads are MetricsQL
 * queries (graphs, windowed top-N) or the local series index (latest, list); a partial answer
 * of vmselect is refused (SMOKEMESH_E_STORE), never shown as if complete.
 */
export class VmStore implements Store {
  readonly name = 'store';
  /** Where writes, reads and deletes go. */
  readonly endpoints: VmEndpoints;
  /** How logs and `data info` name the VictoriaMetrics (its URL, or the cluster's with the tenant). */
  get label(): string {
    return this.endpoints.label;
  }
  private readonly outbox: Outbox;
  /** The outbox file (for `smokemesh data info`). */
  get outboxFile(): string {
    return this.outbox.file;
  }

  private readonly http = new SyncHttp();
  private readonly tiers: Tier[];
  private readonly rawKeepMs: number;
  private readonly maxPending: number;
  private readonly timeoutMs: number;
  private readonly log: StoreLogger;
  private readonly now: () => number;
  private readonly counters = { rounds_written: 0, refused: 0, write_failures: 0 };
  private readonly rawDays: number;
  private lastError: string | undefined;
  private sending: Promise<void> | undefined;
  private retryDelay = 0;
  /** Rounds per import now: halved after a failure, doubled back after a success, so a VM too slow for a whole batch still takes smaller ones. */
  private batch = BATCH;
  private timer: NodeJS.Timeout | undefined;
  private rebuildTimer: NodeJS.Timeout | undefined;
  private rebuilding: Promise<number> | undefined;
  private readonly timers: boolean;
  private closed = false;
  private readonly mergeListeners: Array<(rounds: Round[]) => void> = [];

  constructor(dir: string, cfg: StoreConfig, opts: VmStoreOptions = {}) {
    this.endpoints = vmEndpoints(cfg);
    this.tiers = tiersOf(cfg);
    this.rawKeepMs = rawKeepMs(cfg);
    this.maxPending = cfg.max_pending ?? 200_000;
    this.rawDays = cfg.raw_days;
    this.timeoutMs = cfg.timeout_ms ?? 10_000;
    this.log = opts.log ?? noLog;
    this.now = opts.now ?? Date.now;
    this.timers = opts.timers ?? true;
    try {
      this.outbox = new Outbox(dir);
    } catch (e) {
      throw new SmokemeshError('SMOKEMESH_E_STORE', `${dir}: cannot open the VictoriaMetrics outbox: ${String(e)}; check the data_dir and its permissions`, { cause: e });
    }
    if (this.timers) {
      this.schedule(0);
      // A fresh data dir (or a rebuild cut short): the series VM already holds are listed again.
      if (this.outbox.seriesCount() === 0 || this.outbox.getMeta(REBUILD_KEY)) this.rebuildLater(0);
    }
  }

  private rebuildLater(delay: number): void {
    this.rebuildTimer = setTimeout(() => {
      this.rebuildIndex().catch((e) => {
        if (this.closed) return;
        this.log.warn(`store: the series index could not be rebuilt from VictoriaMetrics (${String((e as Error).message ?? e)}); retrying in ${REBUILD_RETRY_MS / 1000} s`);
        this.rebuildLater(REBUILD_RETRY_MS);
      });
    }, delay);
    this.rebuildTimer.unref();
  }

  /**
   * Rebuilds the series index from VictoriaMetrics (src/store/vm/rebuild.ts): every series with
   * a round in the last raw_days, with its first and last times and latest round, merged into
   * the local index (rows move forward only, so rounds written meanwhile are kept). Runs by
   * itself at the start of a store whose index is empty (and again after a start that did not
   * finish it); resolves to the number of series rebuilt.
   */
  rebuildIndex(): Promise<number> {
    this.rebuilding ??= (async () => {
      const t0 = Date.now();
      this.outbox.setMeta(REBUILD_KEY, 'pending');
      const n = await rebuildFromVm({
        endpoints: this.endpoints, timeoutMs: this.timeoutMs, now: this.now(), windowMs: this.rawDays * 86_400_000,
        info: (m) => this.log.info(m),
        merge: (rows) => { if (!this.closed) this.outbox.merge(rows, true); },
        stopped: () => this.closed,
      });
      if (this.closed) return n;
      this.outbox.setMeta(REBUILD_KEY, undefined);
      this.log.info(`store: series index rebuilt from VictoriaMetrics: ${n} series in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      return n;
    })().finally(() => { this.rebuilding = undefined; });
    return this.rebuilding;
  }

  /**
   * Rows of the series index changed on this server after `cursor`, oldest change first (at most
   * `limit`): what a cluster shares (src/cluster/index-sync.ts). `changed` of the last row is
   * the next cursor.
   */
  indexChanges(cursor: number, limit: number): Array<IndexRow & { changed: number }> {
    return this.outbox.changedSince(cursor, limit);
  }

  /** Merges rows other servers shared into the index (rows move forward only), with the meta values (cursors), in one transaction. */
  mergeIndex(rows: readonly IndexRow[], meta: Record<string, string> = {}): number {
    const n = this.outbox.merge(rows, false, meta);
    if (rows.length && this.mergeListeners.length) this.tellMerged(rows);
    return n;
  }

  /**
   * Tells `listener`, after each mergeIndex, the latest rounds of the rows merged (other servers'
   * rounds; possibly older than what this index holds: the listener keeps the newer).
   */
  onIndexMerged(listener: (rounds: Round[]) => void): void {
    this.mergeListeners.push(listener);
  }

  private tellMerged(rows: readonly IndexRow[]): void {
    const rounds: Round[] = [];
    for (const r of rows) {
      try {
        rounds.push(JSON.parse(r.latest) as Round);
      } catch {
        // A row this index could not read either; its series simply has no latest round to tell.
      }
    }
    for (const l of this.mergeListeners) {
      try {
        l(rounds);
      } catch (e) {
        this.log.warn(`store: a listener of the shared series index failed: ${String((e as Error).message ?? e)}`);
      }
    }
  }

  /** A value kept with the index (a sync cursor). */
  indexMeta(k: string): string | undefined {
    return this.outbox.getMeta(k);
  }

  setIndexMeta(k: string, v: string | undefined): void {
    this.outbox.setMeta(k, v);
  }

  /** The shared round validation (Store.check) with this store's time window. */
  check(round: unknown, now = this.now()): RoundProblem | undefined {
    return checkRound(round, this.window(now));
  }

  private window(now: number): RoundWindow {
    return { oldest: now - this.rawKeepMs, newest: now + FUTURE_MS, retention: `store.raw_days = ${this.rawDays}` };
  }

  /**
   * Commits the valid rounds to the local outbox (one transaction, fsynced) or throws
   * SMOKEMESH_E_UNAVAILABLE (outbox full or not writable): nothing of the batch is then kept.
   * Duplicates are not recognised here (VictoriaMetrics' dedup keeps one sample per round).
   */
  write(rounds: readonly Round[]): WriteResult {
    if (this.closed) throw new SmokemeshError('SMOKEMESH_E_STORE', `${this.outbox.file}: the store is closed`);
    const window = this.window(this.now());
    const ok: Round[] = [];
    const refused: RoundRefusal[] = [];
    for (let i = 0; i < rounds.length; i++) {
      const problem = checkRound(rounds[i], window);
      if (!problem) { ok.push(rounds[i]!); continue; }
      refused.push({ index: i, ...problem });
      this.counters.refused++;
      if (this.counters.refused <= 10 || this.counters.refused % 10000 === 0) {
        this.log.warn(`SMOKEMESH_E_STORE: round refused (${this.counters.refused} so far): ${describe(rounds[i])}: ${problem.field}: ${problem.message}`);
      }
    }
    if (ok.length === 0) return { stored: 0, duplicates: [], refused };
    const pending = this.outbox.pending();
    if (pending + ok.length > this.maxPending) {
      this.counters.write_failures++;
      throw new UnavailableError(`SMOKEMESH_E_UNAVAILABLE: ${this.endpoints.write}: VictoriaMetrics has not taken the last ${pending} rounds (${this.lastError ?? 'sending'}); the outbox is full (store.max_pending ${this.maxPending})`, Math.max(1000, this.retryDelay));
    }
    try {
      this.outbox.add(ok);
    } catch (e) {
      this.counters.write_failures++;
      throw new UnavailableError(`SMOKEMESH_E_UNAVAILABLE: ${this.outbox.file}: ${String(e)}; nothing was acknowledged`, 1000, { cause: e });
    }
    if (this.timers && !this.sending) this.schedule(0);
    return { stored: ok.length, duplicates: [], refused };
  }

  /** Sends everything waiting in the outbox now; resolves when it is empty or a send failed. */
  flush(): Promise<void> {
    this.sending ??= this.sendAll().finally(() => { this.sending = undefined; });
    return this.sending;
  }

  private async sendAll(): Promise<void> {
    for (;;) {
      const { ids, rounds } = this.outbox.peek(this.batch);
      if (ids.length === 0) return;
      let problem: string | undefined;
      try {
        const res = await fetch(this.endpoints.write, { method: 'POST', body: importLines(rounds), signal: AbortSignal.timeout(this.timeoutMs) });
        if (!res.ok) problem = `HTTP ${res.status}: ${(await res.text()).slice(0, 300)}`;
        else await res.body?.cancel();
      } catch (e) {
        problem = String((e as { cause?: unknown }).cause ?? e);
      }
      if (this.closed) return;
      if (problem) {
        this.batch = Math.max(MIN_BATCH, ids.length >> 1);
        this.failed(problem);
        return;
      }
      this.batch = Math.min(BATCH, this.batch * 2);
      this.outbox.remove(ids);
      this.counters.rounds_written += ids.length;
      if (this.lastError) this.log.info(`store: VictoriaMetrics at ${this.endpoints.write} takes rounds again`);
      this.lastError = undefined;
      this.retryDelay = 0;
    }
  }

  private failed(problem: string): void {
    const msg = `SMOKEMESH_E_STORE: ${this.endpoints.write}: ${problem}; rounds stay in the outbox (${this.outbox.file}) and are retried`;
    if (msg !== this.lastError) this.log.error(msg);
    this.lastError = msg;
    this.retryDelay = Math.min(30_000, this.retryDelay ? this.retryDelay * 2 : 250);
  }

  private schedule(delay: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      void this.flush().then(() => {
        // Rounds written while sending go out at once; after a failure, after the backoff.
        if (!this.closed) this.schedule(this.lastError ? this.retryDelay : this.outbox.pending() > 0 ? 0 : 1000);
      });
    }, delay);
    this.timer.unref();
  }

  /** One read of VM (path under the read prefix, e.g. /api/v1/export), answered synchronously; throws SMOKEMESH_E_STORE naming the URL. */
  private get(path: ReadPath, params: Record<string, string | number>): { url: string; body: string } {
    return this.send('read', `${this.endpoints.read}${path}`, { ...params, ...this.endpoints.readParams });
  }

  /** One form-encoded POST, answered synchronously; throws SMOKEMESH_E_STORE naming the URL. */
  private send(what: 'read' | 'delete', url: string, params: Record<string, string | number>): { url: string; body: string } {
    const qs = new URLSearchParams(Object.entries(params).map(([k, v]) => [k, String(v)]));
    const a = this.http.request('POST', url, this.timeoutMs, qs.toString(), { 'content-type': 'application/x-www-form-urlencoded' });
    if (a.status < 200 || a.status > 299) {
      throw new SmokemeshError('SMOKEMESH_E_STORE', `${url}: ${what} failed: ${a.error ?? `HTTP ${a.status}: ${a.body.slice(0, 300)}`}`);
    }
    return { url, body: a.body };
  }

  private promQuery(path: '/api/v1/query' | '/api/v1/query_range', params: Record<string, string | number>): PromSeries[] {
    const a = this.get(path, { ...params, nocache: 1 });
    return promAnswer<{ result?: PromSeries[] }>(a.url, a.body)?.result ?? [];
  }

  series(q: SeriesQuery): SeriesResult {
    const step = this.outbox.stepOf(q.target, q.agent);
    const maxPoints = Math.max(1, Math.floor(q.points ?? DEFAULT_POINTS));
    const empty = { target: q.target, agent: q.agent, tier: 'raw', resolution: 0, points: [] };
    if (step === undefined || q.to < q.from) return empty;
    const span = q.to - q.from;
    let res = stepFor(this.tiers, span, maxPoints);
    if (span / (step * 1000) + 1 <= maxPoints || !res) {
      const text = this.get('/api/v1/export', { 'match[]': `{__name__=~"smokemesh_round_.+",target=${JSON.stringify(q.target)},agent=${JSON.stringify(q.agent)}}`, start: q.from / 1000, end: q.to / 1000 }).body;
      const points = pointsFromExport(text, q.from, q.to);
      return { ...empty, resolution: step, points: res ? points : points.slice(-maxPoints) };
    }
    let points = this.buckets(q, res.stepS);
    if (points.length > maxPoints) {
      // Merged buckets and the partial ones at the range's ends overflowed: one more neighbour each.
      res = stepFor(this.tiers, span, maxPoints, 1)!;
      points = this.buckets(q, res.stepS);
    }
    return { ...empty, tier: res.tier.name, resolution: res.stepS, points };
  }

  /** The points of buckets of `stepS` seconds (aligned to multiples of it) overlapping [from, to]. */
  private buckets(q: SeriesQuery, stepS: number): SeriesPoint[] {
    return this.bucketsOf(selector(q.target, q.agent), q.from, q.to, stepS).get(seriesKey(q.target, q.agent)) ?? [];
  }

  /**
   * Store.summaries: the resolution each series' range fits (as series()), then one export
   * (raw) or one query per bucket step for every series of the targets at once.
   */
  summaries(q: SummaryQuery): SeriesSummary[] {
    const maxPoints = Math.max(1, Math.floor(q.points));
    if (q.targets.length === 0 || q.to < q.from) return [];
    const span = q.to - q.from;
    const list = this.outbox.seriesOf(q.targets);
    const chosen = list.map((s) => {
      const res = stepFor(this.tiers, span, maxPoints);
      return span / (s.step * 1000) + 1 <= maxPoints || !res ? { s, raw: true as const, capped: !res } : { s, raw: false as const, res };
    });
    const points = new Map<string, { tier: string; resolution: number; points: SeriesPoint[] }>();
    const sel = targetsSelector(q.targets);
    if (chosen.some((c) => c.raw)) {
      const text = this.get('/api/v1/export', { 'match[]': `{__name__=~"smokemesh_round_.+",${sel.slice(1)}`, start: q.from / 1000, end: q.to / 1000 }).body;
      const all = pointsBySeries(text, q.from, q.to);
      for (const c of chosen) {
        if (!c.raw) continue;
        const pts = all.get(seriesKey(c.s.target, c.s.agent)) ?? [];
        points.set(seriesKey(c.s.target, c.s.agent), { tier: 'raw', resolution: c.s.step, points: c.capped ? pts.slice(-maxPoints) : pts });
      }
    }
    // Every bucketed series has the same step (it depends on the range alone); as in series(),
    // one more neighbour per bucket when the partial buckets at the ends overflow the budget.
    const bucketed = chosen.filter((c) => !c.raw).map((c) => seriesKey(c.s.target, c.s.agent));
    for (const extra of [0, 1]) {
      if (!bucketed.length) break;
      const res = stepFor(this.tiers, span, maxPoints, extra)!;
      const all = this.bucketsOf(sel, q.from, q.to, res.stepS);
      const over: string[] = [];
      for (const key of bucketed) {
        const pts = all.get(key) ?? [];
        if (pts.length > maxPoints && extra === 0) over.push(key);
        else points.set(key, { tier: res.tier.name, resolution: res.stepS, points: pts });
      }
      bucketed.splice(0, bucketed.length, ...over);
    }
    return list.map((s) => {
      const p = points.get(seriesKey(s.target, s.agent))!;
      return summaryOfPoints(s.target, s.agent, p.tier, p.resolution, p.points, q);
    });
  }

  /** Bucket points of every selected series at `stepS` (aligned to multiples of it) overlapping [from, to]. */
  private bucketsOf(sel: string, from: number, to: number, stepS: number): Map<string, SeriesPoint[]> {
    const stepMs = stepS * 1000;
    const result = this.promQuery('/api/v1/query_range', {
      query: bucketQuery(sel, stepS),
      start: (Math.floor(from / stepMs) + 1) * stepS,
      end: (Math.floor(to / stepMs) + 1) * stepS,
      step: stepS,
    });
    return bucketPointsBySeries(result, stepMs);
  }

  latest(prefix?: string): Round[] {
    const all = this.outbox.latest();
    if (!prefix || prefix === '/') return all;
    const p = trimTrailingSlashes(prefix);
    return all.filter((r) => r.target === p || r.target.startsWith(p + '/'));
  }

  top(metric: TopMetric, n: number, window?: { from: number; to: number }): TopRow[] {
    if (!window) return topOfRounds(this.outbox.latest(), metric, n);
    // Both ends included, as the SQLite store's raw windows.
    const rows = windowRows(this.promQuery('/api/v1/query', { query: windowQuery(window.to - window.from + 1), time: window.to / 1000 }));
    const ranked: TopRow[] = [];
    for (const r of rows) {
      const value = windowValue(r, metric);
      if (value === null) continue;
      ranked.push({ target: r.target, agent: r.agent, value, loss_pct: r.sent > 0 ? (100 * r.lost) / r.sent : null, median: r.median, time: r.time });
    }
    return rank(ranked, n);
  }

  /**
   * Store.rawRounds: one export per agent and up to RAW_READ_CHUNK targets whose ranges lie
   * close together (each export is a synchronous round trip, so a few hundred series' histories
   * cost one wait instead of one each, and a stale series' old range is not read for all).
   */
  rawRounds(reads: readonly RawRead[]): Map<string, SeriesPoint[]> {
    const out = new Map<string, SeriesPoint[]>();
    const known = reads.filter((r) => r.from <= r.to && this.outbox.stepOf(r.target, r.agent) !== undefined);
    for (const g of groupReads(known, RAW_READ_CHUNK, 3_600_000)) {
      const text = this.get('/api/v1/export', { 'match[]': groupSelector(g.reads.map((r) => r.target), g.agent), start: g.from / 1000, end: g.to / 1000 }).body;
      const all = pointsBySeries(text, g.from, g.to);
      for (const r of g.reads) {
        const points = (all.get(seriesKey(r.target, r.agent)) ?? []).filter((p) => p.time >= r.from && p.time <= r.to);
        if (points.length) out.set(seriesKey(r.target, r.agent), points);
      }
    }
    return out;
  }

  list(): SeriesInfo[] {
    return this.outbox.list();
  }

  /** Deletes the series under the paths in VictoriaMetrics (delete_series) and locally. */
  prune(paths: string[]): number {
    for (const p of paths) {
      if (!p.startsWith('/')) throw new SmokemeshError('SMOKEMESH_E_USAGE', `prune: "${p}" is not a target path (it must start with "/")`);
    }
    const clean = paths.map((p) => trimTrailingSlashes(p) || '/');
    for (const p of clean) {
      const re = p === '/' ? '/.*' : `${escapeRegex(p)}(/.*)?`;
      this.send('delete', this.endpoints.del, { 'match[]': `{__name__=~"smokemesh_round_.+",target=~${q(re)}}` });
    }
    return this.outbox.forget(clean.map((p) => (p === '/' ? '' : p)));
  }

  rename(): number {
    throw new SmokemeshError('SMOKEMESH_E_USAGE', `rename is not supported with store.backend: victoriametrics (VictoriaMetrics cannot relabel stored samples); not done yet`);
  }

  importHistory(_h: HistoryImport): HistoryImportResult {
    throw new SmokemeshError('SMOKEMESH_E_USAGE', 'importing foreign history into store.backend: victoriametrics is not done yet: import into SQLite, then `smokemesh data copy --to victoriametrics URL`');
  }

  stats(): StoreStats & { pending: number } {
    const s: StoreStats & { pending: number } = {
      rounds_written: this.counters.rounds_written,
      refused: this.counters.refused,
      duplicates: 0,
      write_failures: this.counters.write_failures,
      unavailable: this.outbox.pending() >= this.maxPending,
      pending: this.outbox.pending(),
      series: this.outbox.seriesCount(),
      file_bytes: this.outbox.bytes(),
    };
    if (this.lastError) s.last_error = this.lastError;
    return s;
  }

  /** Stops sending; rounds not yet sent stay in the outbox and go out at the next start. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.timer);
    clearTimeout(this.rebuildTimer);
    this.http.close();
    const left = this.outbox.pending();
    if (left) this.log.info(`store: ${left} rounds wait in ${this.outbox.file} for VictoriaMetrics at ${this.endpoints.label}; they are sent at the next start`);
    this.outbox.close();
  }
}

/** The reads under the endpoints' read prefix. */
type ReadPath = '/api/v1/export' | '/api/v1/query' | '/api/v1/query_range';

function describe(r: unknown): string {
  const x = r as Partial<Round> | null;
  return `target ${String(x?.target)} agent ${String(x?.agent)} time ${String(x?.time)}`;
}
