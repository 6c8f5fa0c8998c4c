/**
 * One server's part in a cluster: heartbeats into the shared database (written by a thread of
 * their own, heartbeat-thread.ts), the live set read back from them, and the routing of rounds
 * to their one evaluator. A round whose series this server owns (rendezvous hashing over the
 * live set, by agent: serverFor tells each agent where to push) goes to its alert engine; any
 * other is relayed through the shared database to its owner, which takes it at its next poll.
 * When the live set changes, series another server owns now are forgotten and the state of
 * series this server owns now is read from the shared database before their rounds are
 * evaluated here. Every change of a series' alert state passes the per-series fence (fence.ts)
 * before its notifications are recorded and sent: while two servers' views disagree, one of
 * them wins.
 */
import type { Logger } from 'pino';
import type { ActiveRow, Silence } from '../alerts/db.ts';
import type { Prepared } from '../alerts/outbox.ts';
import type { RoundSink } from '../pipeline.ts';
import type { Round } from '../probes/round.ts';
import type { ClusterConfig } from './config.ts';
import { lastPerKey, stateKey, type FenceWrite, type SharedAlertState } from './fence.ts';
import { handover } from './handover.ts';
import { outOfTouch } from './heartbeat.ts';
import { HeartbeatThread, type Beat } from './heartbeat-thread.ts';
import { agentOwner, seriesKey, seriesOwner } from './hrw.ts';
import { liveSet, membershipChange } from './membership.ts';
import type { LocalHistory, SharedHistory } from './history.ts';
import type { IndexSync, IndexSyncStats } from './index-sync.ts';
import { clusterError, type ClusterDb, type RelayedRound } from './postgres.ts';
import { reconcileSilences } from './silences.ts';

/** This server's own copy of the silences (its alert database) and its engine's cache of them. */
export interface LocalSilences {
  list(): Silence[];
  save(s: Silence): void;
  remove(id: string): void;
  /** Tells the engine to read them again. */
  changed(): void;
}

/** What the cluster needs of the alert engine (src/alerts/engine.ts). */
export interface Evaluator {
  /** Undefined: the round's target has nothing to evaluate (no alert): it is not routed. */
  ownershipKey(target: string, agent: string): string | undefined;
  write(rounds: readonly Round[]): void;
  heldKeys(): string[];
  forget(keys: Iterable<string>): void;
  adopt(rows: readonly ActiveRow[]): void;
}

/** Rounds waiting to be relayed while the shared database cannot take them; beyond, the oldest are not evaluated (counted as unevaluated). */
const RELAY_LIMIT = 100_000;
const POLL_MS = 250;
/** Relayed rounds routed at once before the event loop is let go (heartbeats, agents' requests). */
const ROUTE_SLICE = 500;
/** How often this server's new alert events and deliveries are copied to the shared database. */
const HISTORY_MS = 1000;

export interface ClusterStatus {
  server_id: string;
  /** Live servers (ids, sorted) as this server sees them; empty until the first heartbeat succeeded. */
  live: string[];
  /** Rounds evaluated here, relayed to their owner (or parked while this server has no live set), taken from the relay, not evaluated anywhere (past the relay bound while the database was away). */
  rounds: { evaluated: number; relayed: number; taken: number; unevaluated: number };
  /** Alert state changes written through the fence, and those refused (another server changed the series first, or this one was not live): their notifications were dropped and the state read again. */
  fence: { written: number; refused: number };
  /** Series (ownership keys) whose state this server holds. */
  held: number;
  /** Those keys (target and agent, or agent "*" for a target evaluated whole), when asked for; at most `limit`. */
  held_keys?: { target: string; agent: string }[];
  /** The shared series index (index-sync.ts), when this server's store has one. */
  index?: IndexSyncStats;
  last_error?: string;
}

export class ClusterService implements RoundSink {
  readonly name = 'cluster';
  private live: string[] = [];
  /** Each server's advertised URL, from the last heartbeat read. */
  private urls = new Map<string, string>();
  /** Writes our heartbeat while the main thread is busy; started by start(). */
  private heart: HeartbeatThread | undefined;
  /** The latest beat's rows not applied yet, and the application in progress. */
  private pendingBeat: Beat | undefined;
  private applying: Promise<void> | undefined;
  /** When the beat this server joined the live set on was started (a gap in the beats after it means the others may have taken our series). */
  private joinedOn = 0;
  private outgoing: RelayedRound[] = [];
  /** Writes to the shared database in the order made: fenced alert state, silences. */
  private chain: Promise<void> = Promise.resolve();
  /** The version of each series × alert's shared state this server read or wrote last (absent: 0, no row known). */
  private versions = new Map<string, number>();
  /** Bumped per ownership key when its state here is forgotten or read again: fenced writes computed before are dropped. */
  private generations = new Map<string, number>();
  private timers: NodeJS.Timeout[] = [];
  private busy = { init: false, history: false };
  /** The relay poll in progress: a stop waits for the rounds it took to be routed. */
  private polling: Promise<void> | undefined;
  private closed = false;
  private lastError: string | undefined;
  /** Failures logged since the last heartbeat applied. */
  private readonly logged = new Set<string>();
  /** The tables are (re)created before the next heartbeat: at start, and after a failure (the database may have been recreated). */
  private needInit = true;
  /** Set by a reload: ownership is checked again at the next heartbeat even if the live set did not change. */
  private recheck = false;
  /** Set while this server has just joined the live set and does not evaluate yet (see setLive). */
  private joining: { until: number } | undefined;
  private readonly stats = { evaluated: 0, relayed: 0, taken: 0, unevaluated: 0 };
  private readonly fenceStats = { written: 0, refused: 0 };

  /** `history`: this server's alert database, copied to the shared one (history.ts). */
  /** `index`: the series index sync, started once the tables exist and stopped before the pool closes. */
  constructor(private readonly opts: { cfg: ClusterConfig; url: string; db: ClusterDb; engine: Evaluator; log: Logger; silences?: LocalSilences; history?: LocalHistory; index?: IndexSync }) {}

  private get me(): string {
    return this.opts.cfg.server_id;
  }

  /**
   * Creates the tables, registers this run, forgets local alert state, and starts heartbeats
   * (on their thread: resolves once the first one was written or failed, and applied) and
   * polling. Retries in the background when the database is away.
   */
  async start(): Promise<void> {
    // The shared database is the truth: counters in the local file may be stale (another server continued them).
    this.forgetAll();
    try {
      await this.opts.db.init();
      this.needInit = false;
      await this.opts.db.started(this.me, this.opts.url);
    } catch (e) {
      this.failed(e);
    }
    const cfg = this.opts.cfg;
    this.heart = new HeartbeatThread({
      coordination: cfg.coordination, server: this.me, url: this.opts.url,
      heartbeatMs: cfg.heartbeat_s * 1000, deadAfterMs: cfg.dead_after_s * 1000, stallMs: cfg.stall_s * 1000, ...this.opts.db.timeouts,
    }, {
      beat: (r) => this.beaten(r),
      failed: (msg) => this.failed(clusterError('heartbeat', new Error(msg))),
      held: (ms) => this.opts.log.error({ stalled_ms: ms, stall_s: cfg.stall_s },
        'cluster: this server\'s event loop did not run for longer than stall_s; its heartbeats were held (the others count it dead after dead_after_s)'),
    });
    await this.heart.start();
    await this.applying;
    // The tables are created again after a failure (the database may have been recreated); the heartbeat thread's next beat finds them.
    this.timers.push(setInterval(() => void this.init().catch((e) => this.failed(e)), cfg.heartbeat_s * 1000));
    this.timers.push(setInterval(() => {
      if (this.polling) return; // the previous poll is still routing what it took
      this.polling = this.poll().catch((e) => this.failed(e)).finally(() => { this.polling = undefined; });
    }, POLL_MS));
    if (this.opts.history) this.timers.push(setInterval(() => void this.shareHistory().catch((e) => this.failed(e)), HISTORY_MS));
    for (const t of this.timers) t.unref();
    this.opts.index?.start();
  }

  status(keysLimit = 0): ClusterStatus {
    const held = this.opts.engine.heldKeys();
    const s: ClusterStatus = { server_id: this.me, live: [...this.live], rounds: { ...this.stats }, fence: { ...this.fenceStats }, held: held.length };
    if (keysLimit > 0) {
      s.held_keys = held.slice(0, keysLimit).map((k) => {
        const [target, agent] = k.split('\u0000') as [string, string];
        return { target, agent };
      });
    }
    if (this.opts.index) s.index = { ...this.opts.index.stats };
    if (this.lastError) s.last_error = this.lastError;
    return s;
  }

  /**
   * After a config reload: the cluster section itself is read at start only (a change is logged
   * and waits for a restart); the alerts may have changed which series are evaluated and how
   * they are keyed (a quorum alert makes a target one key), so ownership is checked again
   * against the live set at the next heartbeat: series not owned here are dropped, series owned
   * here that have shared state are read.
   */
  reloaded(next: ClusterConfig | undefined): void {
    const running = this.opts.cfg;
    if (!next || JSON.stringify(next) !== JSON.stringify(running)) {
      this.opts.log.error({ running, in_file: next ?? null }, 'cluster: the cluster section of the reloaded file differs from the running one; it takes effect at the next restart (this server keeps its id, database and timings until then)');
    }
    this.recheck = true;
  }

  /** The alert history and deliveries of every server of the cluster (read from the shared database). */
  sharedHistory(): SharedHistory {
    return { events: (q) => this.opts.db.events(q), deliveries: (q) => this.opts.db.deliveries(q) };
  }

  /** The shared database (the localization's digests and causes are kept there too: src/cluster/localize-pg.ts). */
  get database(): ClusterDb {
    return this.opts.db;
  }

  /** The live set now (what rounds are routed by). */
  liveServers(): readonly string[] {
    return this.live;
  }

  /**
   * The URL (general.public_url) of the live server that evaluates `agent`'s series: the agent
   * is told to push there, so that its rounds need no relay. Undefined while this server has
   * no live set.
   */
  serverFor(agent: string): string | undefined {
    if (!this.live.length) return undefined;
    const owner = agentOwner(agent, this.live);
    return owner === undefined ? undefined : this.urls.get(owner);
  }

  /** Routes rounds: owned ones to the engine, the others to their owner through the database. */
  write(rounds: readonly Round[]): void {
    this.route(rounds, false);
  }

  /**
   * The engine's fence (EngineOptions.fence): writes the batch's counter changes to the shared
   * database as compare-and-sets on the versions this server holds, then lets stand the
   * notifications of the series × alerts whose write was accepted (and those without a change).
   * A refused write drops its series' notifications and reads its state again. Writes are made
   * in order; a database failure is retried until it answers or the series is forgotten here.
   */
  fence(changes: readonly ActiveRow[], fired: readonly Prepared[], accept: (standing: Prepared[]) => void): void {
    const writes = lastPerKey(changes.map((c) => ({ ...c })));
    const batch = [...fired];
    // The ownership key and its generation now, per write: checked again when the write is made.
    const stamp = new Map<string, { k: string; gen: number }>();
    for (const w of writes) {
      const k = this.ownership(w.target, w.agent);
      stamp.set(stateKey(w.target, w.agent, w.alert), { k, gen: this.generation(k) });
    }
    this.chain = this.chain
      .then(() => this.commit(writes, batch, stamp, accept))
      .catch((e) => this.failed(e));
  }

  private async commit(writes: readonly ActiveRow[], fired: Prepared[], stamp: Map<string, { k: string; gen: number }>, accept: (standing: Prepared[]) => void): Promise<void> {
    const keyOf = (w: ActiveRow) => stateKey(w.target, w.agent, w.alert);
    const written = new Set(writes.map(keyOf));
    const unchanged = (w: ActiveRow) => {
      const st = stamp.get(keyOf(w))!;
      return this.generation(st.k) === st.gen;
    };
    for (let wait = 250; ; wait = Math.min(wait * 2, 5000)) {
      // Series forgotten here since the batch was evaluated (moved, or this server left the live set): the new owner decides.
      const todo = writes.filter(unchanged);
      const asked: FenceWrite[] = todo.map((w) => ({ ...w, expected: this.versions.get(keyOf(w)) ?? 0 }));
      let r: Awaited<ReturnType<ClusterDb['fencedWrite']>>;
      try {
        r = await this.opts.db.fencedWrite(this.me, this.opts.cfg.dead_after_s * 1000, asked);
      } catch (e) {
        this.failed(e);
        if (this.closed) return;
        await new Promise((res) => setTimeout(res, wait));
        continue;
      }
      // An accepted write is notified even if the series moved meanwhile: the shared state says it happened.
      const accepted = new Set(r.accepted.map(keyOf));
      for (const n of r.accepted) if (unchanged(n)) this.versions.set(keyOf(n), n.version);
      this.fenceStats.written += r.accepted.length;
      this.fenceStats.refused += r.refused.length;
      if (r.refused.length) {
        this.opts.log.warn({ refused: r.refused.map((x) => ({ target: x.write.target, agent: x.write.agent, alert: x.write.alert, why: x.why, owner: x.current?.owner })) },
          'cluster fence: another server changed these series first (or this one is not live): their notifications are dropped and their state read again');
        await this.reread(r.refused.map((x) => x.write));
      }
      accept(fired.filter((p) => !written.has(p.key) || accepted.has(p.key)));
      return;
    }
  }

  /** Reads again the shared state of series whose fenced write was refused, and hands it to the engine in place of what it held. */
  private async reread(refused: readonly ActiveRow[]): Promise<void> {
    const keys = new Set(refused.map((w) => this.ownership(w.target, w.agent)));
    const rows = (await this.opts.db.loadState()).filter((x) => keys.has(this.ownership(x.target, x.agent)));
    this.forgetKeys(keys);
    if (!this.live.length) return;
    const mine = rows.filter((x) => seriesOwner(this.ownership(x.target, x.agent), this.live) === this.me);
    this.remember(mine);
  }

  /** The key a series is owned by (the engine's; a target without alerts falls back to the series). */
  private ownership(target: string, agent: string): string {
    return this.opts.engine.ownershipKey(target, agent) ?? seriesKey(target, agent);
  }

  private generation(k: string): number {
    return this.generations.get(k) ?? 0;
  }

  /** Forgets these ownership keys here: the engine's state, the versions, and the fenced writes computed from them. */
  private forgetKeys(keys: Iterable<string>): void {
    const gone = new Set(keys);
    if (!gone.size) return;
    this.opts.engine.forget(gone);
    for (const k of gone) this.generations.set(k, this.generation(k) + 1);
    for (const vk of [...this.versions.keys()]) {
      const [target, agent] = splitKey(vk);
      if (gone.has(this.ownership(target, agent))) this.versions.delete(vk);
    }
  }

  private forgetAll(): void {
    this.forgetKeys(new Set([...this.opts.engine.heldKeys(), ...[...this.versions.keys()].map((vk) => this.ownership(...splitKey(vk)))]));
    this.versions.clear();
  }

  /** Takes shared rows as this server's state: their versions, and the counters of those matching to the engine. */
  private remember(rows: readonly SharedAlertState[]): void {
    for (const x of rows) this.versions.set(stateKey(x.target, x.agent, x.alert), x.version);
    this.opts.engine.adopt(rows.filter((x) => x.prevmatch !== 0).map((x) => ({ target: x.target, agent: x.agent, alert: x.alert, prevmatch: x.prevmatch, since: x.since })));
  }

  /** Shares a silence made, changed or deleted on this server (in order with the counters). */
  shareSilence(change: { saved: Silence } | { deleted: string }): void {
    this.chain = this.chain
      .then(() => ('saved' in change ? this.opts.db.saveSilence(change.saved) : this.opts.db.deleteSilence(change.deleted)))
      .catch((e) => this.failed(e));
  }

  /** Brings the local silences in line with the shared ones. */
  private async syncSilences(): Promise<void> {
    const local = this.opts.silences;
    if (!local) return;
    const shared = await this.opts.db.loadSilences();
    const r = reconcileSilences(local.list(), shared.silences, shared.deleted);
    if (!r.save.length && !r.remove.length) return;
    for (const x of r.save) local.save(x);
    for (const id of r.remove) local.remove(id);
    local.changed();
  }

  /** Whether our last heartbeat (written by the heartbeat thread, even while this thread was busy) is too old, or came after a gap: the others may have counted us dead and own our series. */
  private outOfTouch(): boolean {
    return outOfTouch(Date.now(), this.heart?.beats() ?? { lastBeat: 0, gapEnd: 0 }, this.joinedOn, this.opts.cfg.dead_after_s * 1000);
  }

  private route(rounds: readonly Round[], fromRelay: boolean): void {
    if (this.live.length && this.outOfTouch()) this.leaveLiveSet();
    const mine: Round[] = [];
    for (const r of rounds) {
      const key = this.opts.engine.ownershipKey(r.target, r.agent);
      if (key === undefined) continue;
      const owner = seriesOwner(key, this.live);
      if (owner === this.me && !this.joining) mine.push(r);
      // No live set (before the first heartbeat, or out of touch): parked in the relay under our
      // own id, taken back when we are live again, or by the others if they count us dead.
      else this.outgoing.push({ owner: owner ?? this.me, round: r });
    }
    if (this.outgoing.length > RELAY_LIMIT) {
      const excess = this.outgoing.length - RELAY_LIMIT;
      this.outgoing.splice(0, excess);
      this.stats.unevaluated += excess;
    }
    if (mine.length) {
      mine.sort((a, b) => a.time - b.time);
      this.opts.engine.write(mine);
      this.stats.evaluated += mine.length;
    }
  }

  /** (Re)creates the tables when a failure asked for it. */
  private async init(): Promise<void> {
    if (!this.needInit || this.busy.init || this.closed) return;
    this.busy.init = true;
    try {
      await this.opts.db.init();
      this.needInit = false;
    } finally {
      this.busy.init = false;
    }
  }

  /** A heartbeat was written by the heartbeat thread: its rows are applied when this thread gets to them (only the latest, if several waited). */
  private beaten(r: Beat): void {
    this.pendingBeat = r;
    if (this.applying) return;
    this.applying = (async () => {
      for (let next = this.pendingBeat; next && !this.closed; next = this.pendingBeat) {
        this.pendingBeat = undefined;
        await this.applyBeat(next);
      }
    })().catch((e) => this.failed(e)).finally(() => {
      this.applying = undefined;
      if (this.pendingBeat && !this.closed) this.beaten(this.pendingBeat);
    });
  }

  /** After a heartbeat: the live set read, series handed over when it changed, silences brought in line. */
  private async applyBeat({ rows, now, at }: Beat): Promise<void> {
    // Written before a gap that came since, or so long ago that the others may have counted us
    // dead since (this thread was busy): what they did meanwhile is in a later beat.
    if (at < (this.heart?.beats().gapEnd ?? 0) || Date.now() - at > this.opts.cfg.dead_after_s * 1000) return;
    const next = liveSet(rows, now, this.opts.cfg.dead_after_s * 1000);
    this.urls = new Map(rows.map((r) => [r.server_id, r.url]));
    if (!next.includes(this.me)) next.push(this.me), next.sort();
    if (!this.live.length) this.joinedOn = at;
    await this.setLive(next);
    await this.syncSilences();
    if (this.lastError) {
      this.opts.log.info('cluster database answers again');
      this.lastError = undefined;
    }
    this.logged.clear();
  }

  private async setLive(next: string[]): Promise<void> {
    const change = membershipChange(this.live, next);
    if (this.joining && Date.now() >= this.joining.until) {
      // The others have seen us join and stopped evaluating our series: take them over now.
      this.joining = undefined;
      await this.takeOver(next, 'joined');
      return;
    }
    if (!change.joined.length && !change.left.length) {
      if (this.recheck && this.live.length && !this.joining) {
        this.recheck = false;
        await this.takeOver(next, 'checked after a reload');
      }
      return;
    }
    this.recheck = false;
    if (change.joined.includes(this.me)) {
      // Joining (start, or back after being out of touch): the others still evaluate our series
      // until their next heartbeat sees us, and their last counters may be on their way. Our
      // rounds are parked meanwhile; the state is read after that grace.
      this.joining = { until: Date.now() + 2 * this.opts.cfg.heartbeat_s * 1000 };
      this.live = next;
      this.opts.log.info({ live: next }, 'cluster: joined; taking over our series after one more heartbeat');
      return;
    }
    await this.takeOver(next, 'changed', change);
  }

  private async takeOver(next: string[], why: string, change = membershipChange(this.live, next)): Promise<void> {
    if (why === 'joined') this.forgetAll();
    const state = await this.opts.db.loadState();
    const byKey = new Map<string, SharedAlertState[]>();
    for (const row of state) {
      const k = this.ownership(row.target, row.agent);
      if (!byKey.has(k)) byKey.set(k, []);
      byKey.get(k)!.push(row);
    }
    const h = handover(this.opts.engine.heldKeys(), byKey.keys(), next, this.me);
    this.forgetKeys(h.drop);
    this.remember(h.adopt.flatMap((k) => byKey.get(k) ?? []));
    this.opts.log.info({ live: next, joined: change.joined, left: change.left, dropped: h.drop.length, adopted: h.adopt.length }, `cluster membership ${why}`);
    this.live = next;
  }

  /** Relays what waits for other owners, then takes what was relayed to this server (or to dead ones). One at a time (see start). */
  private async poll(): Promise<void> {
    if (this.closed) return;
    // Out of touch with the others for longer than they wait: they have taken our series.
    if (this.live.length && this.outOfTouch()) this.leaveLiveSet();
    await this.flush();
    if (!this.live.length || this.joining) return;
    const taken = await this.opts.db.claim(this.me, this.live);
    if (!taken.length) return;
    this.stats.taken += taken.length;
    // In slices, yielding between them: rounds of series new here make the engine read their
    // histories synchronously (on the VM backend, one export per agent and 200 targets), and
    // thousands at once would hold the event loop past the next heartbeats.
    for (let i = 0; i < taken.length; i += ROUTE_SLICE) {
      this.route(taken.slice(i, i + ROUTE_SLICE).map((t) => t.round), true);
      await new Promise((r) => setImmediate(r));
    }
    await this.flush();
  }

  /** Copies what this server's alert database recorded since the last copy (all of it, a page at a time). */
  async shareHistory(final = false): Promise<void> {
    const history = this.opts.history;
    if (!history || this.busy.history || (this.closed && !final)) return;
    this.busy.history = true;
    try {
      for (let more = true; more;) {
        const page = history.changes();
        await this.opts.db.copyHistory(this.me, page.changes);
        page.advance();
        more = page.more;
      }
    } finally {
      this.busy.history = false;
    }
  }

  /** Stops evaluating: the others may have taken our series; their state is read again when we are back. */
  private leaveLiveSet(): void {
    this.opts.log.error('cluster: no heartbeat written for longer than dead_after_s (or beats resumed after such a gap): the others may have taken our series; evaluating nothing until this server joins again');
    this.live = [];
    this.joining = undefined;
    this.forgetAll();
  }

  private async flush(): Promise<void> {
    if (!this.outgoing.length) return;
    const batch = this.outgoing;
    this.outgoing = [];
    try {
      await this.opts.db.relay(batch);
      this.stats.relayed += batch.length;
    } catch (e) {
      this.outgoing = batch.concat(this.outgoing);
      throw e;
    }
  }

  private failed(e: unknown): void {
    this.needInit = true;
    const msg = (e as Error).message;
    // Once each until the next heartbeat is applied: the heartbeat thread and the table check may fail in turn.
    if (!this.logged.has(msg)) this.opts.log.error({ err: e }, `cluster: ${msg}; retrying`);
    this.logged.add(msg);
    this.lastError = msg;
  }

  /** Stops: ends the heartbeats, relays what waits, writes the last counters, leaves the live set (the others take over at once) and closes the pool. */
  async close(): Promise<void> {
    this.closed = true;
    for (const t of this.timers) clearInterval(t);
    // Before our row is deleted: no beat may write it back.
    await this.heart?.stop();
    await this.applying;
    await this.opts.index?.close();
    await this.polling;
    await this.chain;
    try {
      await this.flush();
      await this.shareHistory(true);
      await this.opts.db.leave(this.me);
    } catch (e) {
      this.failed(e);
    }
    await this.opts.db.close();
    this.opts.history?.close();
  }
}

/** target and agent of a state key or ownership key (target \0 agent [\0 alert]). */
function splitKey(k: string): [string, string] {
  const [target, agent] = k.split('\u0000') as [string, string];
  return [target, agent];
}
