/**
 * What the servers of a cluster know of the agents, together: each server writes, in one
 * statement per heartbeat, the agents alive on it (its remote agents heard from, its built-in
 * agent), whether they poll it for tasks now and when they last did, into
 * `smokemesh_agents_seen`; a row is rewritten when its poll state changed or it is half as old
 * as the freshness window, not per request. An agent is alive in the cluster while some server
 * wrote it within that window. The shared tasks (src/tasks/shared.ts) judge agents by this: a
 * task made on one server goes to an agent connected to another, and its pickup deadline is
 * judged from the polls seen by any server.
 */
import type { Logger } from 'pino';
import type { AgentFacts } from '../tasks/select.ts';
import type { AgentView, AgentViews } from '../tasks/shared.ts';
import type { ClusterDb } from './postgres.ts';
import { pruneSightings, readSightings, writeSightings, type SightingRead, type SightingRow } from './tasks-pg.ts';

/** An agent as this server knows it (the registry's and the built-in agent's view). */
export interface LocalAgent extends AgentFacts {
  alive: boolean;
  builtin: boolean;
  /** ms since the epoch (this server's clock); absent until heard from. */
  last_seen?: number;
}

/** Task polls on this server, by agent (this server's clock). */
export type PollState = ReadonlyMap<string, { polling: boolean; lastPoll: number }>;

/** Rows not written for this long are deleted (an agent removed from the config, a server gone for good). */
const FORGET_MS = 24 * 3600_000;

/**
 * The rows this server writes now: its alive agents whose row is new, whose poll state
 * changed, or whose last write is `refreshMs` old (`written`: when and with which poll state
 * each was last written).
 */
export function sightingsToWrite(local: readonly LocalAgent[], polls: PollState, now: number, written: ReadonlyMap<string, { at: number; polling: boolean }>, refreshMs: number): SightingRow[] {
  const out: SightingRow[] = [];
  for (const a of local) {
    if (!a.alive) continue;
    const p = polls.get(a.name);
    const polling = p?.polling ?? false;
    const w = written.get(a.name);
    if (w && w.polling === polling && now - w.at < refreshMs) continue;
    out.push({
      agent: a.name, seenAgoMs: a.builtin ? 0 : Math.max(0, now - (a.last_seen ?? now)), polling, polledAgoMs: p ? Math.max(0, now - p.lastPoll) : null,
      region: a.region, labels: a.labels, builtin: a.builtin,
    });
  }
  return out;
}

/** What the cluster knows of an agent: its liveness and task polls, and its region and labels. */
export type ClusterAgent = AgentView & AgentFacts & { builtin: boolean };

/**
 * Judges the servers' rows (times on the database's clock): alive while some server wrote it
 * within `freshMs`, polling if such a row says so, last poll the latest of any row. The region
 * and labels are those of the freshest row.
 */
export function judgeSightings(rows: readonly SightingRead[], freshMs: number): Map<string, ClusterAgent> {
  const out = new Map<string, ClusterAgent & { writtenAgo: number }>();
  for (const r of rows) {
    const fresh = r.written_ago <= freshMs;
    const prev = out.get(r.agent);
    const a: ClusterAgent & { writtenAgo: number } = prev ?? { name: r.agent, region: r.region, labels: r.labels, builtin: r.builtin, alive: false, polling: false, lastPoll: 0, writtenAgo: r.written_ago };
    if (r.written_ago < a.writtenAgo) Object.assign(a, { region: r.region, labels: r.labels, writtenAgo: r.written_ago });
    a.alive ||= fresh;
    a.polling ||= fresh && r.polling;
    a.lastPoll = Math.max(a.lastPoll, r.polled_at ?? 0);
    out.set(r.agent, a);
  }
  return new Map([...out].map(([k, { writtenAgo: _w, ...a }]) => [k, a]));
}

/**
 * This server's own knowledge over the cluster's: an agent alive here is alive (its row may
 * not be written yet); one polling here polls; an agent only in the config here (never heard
 * from anywhere) is known and down.
 */
export function mergeAgents(local: readonly LocalAgent[], polls: PollState, shared: ReadonlyMap<string, ClusterAgent>, now: number, dbNow: number): Map<string, ClusterAgent> {
  const out = new Map(shared);
  for (const a of local) {
    const s = out.get(a.name);
    const p = polls.get(a.name);
    const lastPoll = p ? dbNow - (now - p.lastPoll) : 0;
    if (!s) out.set(a.name, { name: a.name, region: a.region, labels: a.labels, builtin: a.builtin, alive: a.alive, polling: p?.polling ?? false, lastPoll });
    else if (a.alive) out.set(a.name, { ...s, region: a.region, labels: a.labels, alive: true, polling: s.polling || (p?.polling ?? false), lastPoll: Math.max(s.lastPoll, lastPoll) });
  }
  return out;
}

export interface ClusterAgentsOptions {
  db: ClusterDb;
  server: string;
  /** This server's agents: its registry's (every configured agent) and its built-in one. */
  local: () => LocalAgent[];
  /** Task polls on this server. */
  polls: () => PollState;
  /** How often the rows are written (cluster.heartbeat_s). */
  periodMs: number;
  /** An agent is alive in the cluster while some server wrote it within this (2 × cluster.dead_after_s). */
  freshMs: number;
  log: Logger;
  now?: () => number;
}

/** Writes this server's rows every period and answers what the cluster knows of agents. */
export class ClusterAgents implements AgentViews {
  private readonly written = new Map<string, { at: number; polling: boolean }>();
  private timer: NodeJS.Timeout | undefined;
  private busy = false;
  private lastError: string | undefined;
  private lastForget = 0;
  private readonly now: () => number;

  constructor(private readonly opts: ClusterAgentsOptions) {
    this.now = opts.now ?? Date.now;
  }

  start(): void {
    this.timer = setInterval(() => void this.write(), this.opts.periodMs);
    this.timer.unref();
    void this.write();
  }

  /** Writes the rows due now (see sightingsToWrite); a failure is logged once and retried at the next period. */
  async write(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      const now = this.now();
      const rows = sightingsToWrite(this.opts.local(), this.opts.polls(), now, this.written, this.opts.freshMs / 4);
      const forget = now - this.lastForget > 3600_000;
      await this.opts.db.transaction('recording agents seen', async (c) => {
        await writeSightings(c, this.opts.server, rows);
        if (forget) await pruneSightings(c, FORGET_MS);
      });
      if (forget) this.lastForget = now;
      for (const r of rows) this.written.set(r.agent, { at: now, polling: r.polling });
      if (this.lastError) this.opts.log.info('cluster agents: the database answers again');
      this.lastError = undefined;
    } catch (e) {
      const msg = (e as Error).message;
      if (msg !== this.lastError) this.opts.log.error({ err: e }, `cluster agents: ${msg}; retrying`);
      this.lastError = msg;
    } finally {
      this.busy = false;
    }
  }

  /** The named agents as the cluster knows them (with this server's own knowledge over it); absent: unknown everywhere. */
  async read(names: readonly string[]): Promise<Map<string, ClusterAgent>> {
    const rows = await this.opts.db.transaction('reading agents seen', (c) => readSightings(c, names));
    const want = new Set(names);
    return this.merged(rows, this.opts.local().filter((a) => want.has(a.name)));
  }

  /** Every agent the cluster knows (to choose agents by region, labels or all). */
  async all(): Promise<ClusterAgent[]> {
    const rows = await this.opts.db.transaction('reading agents seen', (c) => readSightings(c));
    return [...this.merged(rows, this.opts.local()).values()];
  }

  close(): void {
    clearInterval(this.timer);
  }

  private merged(rows: readonly SightingRead[], local: readonly LocalAgent[]): Map<string, ClusterAgent> {
    const dbNow = rows[0]?.now ?? this.now();
    return mergeAgents(local, this.opts.polls(), judgeSightings(rows, this.opts.freshMs), this.now(), dbNow);
  }
}
