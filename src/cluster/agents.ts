/**
 * What the servers of a cluster know of the agents, together: each server writes, in one
 * statement per heartbeat, the agents alive on it (its remote agents heard from, its built-in
 * agent), whether they poll it for tasks now and when they last did, their region, labels,
 * addresses and version, into `smokemesh_agents_seen`; a row is rewritten when its poll state
 * or facts changed or it is a quarter as old as the freshness window, not per request. An
 * agent is alive in the cluster while some server wrote it within that window.
 *
 * The shared tasks (src/tasks/shared.ts) judge agents by this: a task made on one server goes
 * to an agent connected to another, and its pickup deadline is judged from the polls seen by
 * any server. After each write the rows changed since the last read are read back (every row
 * at start and after any error: sightings.ts, agents-seen-pg.ts): every server then lists every agent of
 * the cluster (clusterAgentView, ctx.agents() in a cluster), so the live mesh and the planners'
 * peers are the same on every server; and agent-down / agent-up is judged over the cluster and
 * told once, by the agent's owner among the live servers, through a compare-and-set
 * (livenessChanges, agents-pg.ts).
 */
import type { Logger } from 'pino';
import type { AgentInfo } from '../plan/agent-info.ts';
import type { AgentFacts } from '../tasks/select.ts';
import type { AgentView, AgentViews } from '../tasks/shared.ts';
import { markAgent, pruneAgentEvents, readAgentEvents, readDownAgents, type SharedAgentEvent } from './agents-pg.ts';
import { pruneTombstones, readSightingChanges, TOMBSTONES_KEPT_MS } from './agents-seen-pg.ts';
import { agentOwner } from './hrw.ts';
import type { ClusterDb } from './postgres.ts';
import { applySightings, type SightingsState, type StoredSighting } from './sightings.ts';
import { pruneSightings, readSightings, writeSightings, type SightingRead, type SightingRow } from './tasks-pg.ts';

/** An agent as this server knows it (the registry's and the built-in agent's view). */
export interface LocalAgent extends AgentFacts {
  alive: boolean;
  builtin: boolean;
  /** ms since the epoch (this server's clock); absent until heard from. */
  last_seen?: number;
  intranet_address?: string;
  public_address?: string;
  version?: string;
}

/** What a row says of an agent besides its liveness: rewritten when it changes. */
function factsOf(a: LocalAgent): string {
  return JSON.stringify([a.region, a.labels, a.intranet_address ?? null, a.public_address ?? null, a.version ?? null]);
}

/** Task polls on this server, by agent (this server's clock). */
export type PollState = ReadonlyMap<string, { polling: boolean; lastPoll: number }>;

/** Rows not written for this long are deleted (an agent removed from the config, a server gone for good). */
const FORGET_MS = 24 * 3600_000;

/** When and with which poll state and facts each row was last written. */
export type Written = ReadonlyMap<string, { at: number; polling: boolean; facts?: string }>;

/**
 * The rows this server writes now: its alive agents whose row is new, whose poll state or
 * facts (region, labels, addresses, version) changed, or whose last write is `refreshMs` old.
 */
export function sightingsToWrite(local: readonly LocalAgent[], polls: PollState, now: number, written: Written, refreshMs: number): (SightingRow & { facts: string })[] {
  const out: (SightingRow & { facts: string })[] = [];
  for (const a of local) {
    if (!a.alive) continue;
    const p = polls.get(a.name);
    const polling = p?.polling ?? false;
    const facts = factsOf(a);
    const w = written.get(a.name);
    if (w && w.polling === polling && w.facts === facts && now - w.at < refreshMs) continue;
    out.push({
      agent: a.name, seenAgoMs: a.builtin ? 0 : Math.max(0, now - (a.last_seen ?? now)), polling, polledAgoMs: p ? Math.max(0, now - p.lastPoll) : null,
      region: a.region, labels: a.labels, builtin: a.builtin,
      intranet: a.intranet_address ?? null, public: a.public_address ?? null, version: a.version ?? null, facts,
    });
  }
  return out;
}

/**
 * What the cluster knows of an agent: its liveness and task polls, its region and labels; and,
 * from the rows, its addresses and version, how long ago some server last heard from it and
 * which server that was (the one it talks to).
 */
export type ClusterAgent = AgentView & AgentFacts & {
  builtin: boolean;
  intranet?: string;
  public?: string;
  version?: string;
  /** ms before the read (database clock). */
  seenAgo?: number;
  server?: string;
};

/**
 * Judges the servers' rows (times on the database's clock): alive while some server wrote it
 * within `freshMs`, polling if such a row says so, last poll the latest of any row. The region,
 * labels, addresses and version are those of the freshest row; the server is the one that
 * heard from it last.
 */
export function judgeSightings(rows: readonly SightingRead[], freshMs: number): Map<string, ClusterAgent> {
  // As stored rows at the database time 0: an age is then minus its time.
  return judgeStored(rows.map((r) => ({ ...r, written_at: -r.written_ago, seen_at: -r.seen_ago })), 0, freshMs);
}

/** What judging takes of a row: its facts and absolute times (ms, the database's clock). */
type JudgedRow = Omit<StoredSighting, 'change'>;

/**
 * An agent's rows summed up for judging (judgeSummary): the freshest row (its facts; the first
 * of equals), the newest write, the newest write of a row that says polling (-Infinity: none),
 * the newest sighting and which server made it (the first of equals), the latest poll, and
 * builtin as the first row says.
 */
export interface AgentSummary {
  facts: JudgedRow;
  builtin: boolean;
  writtenAt: number;
  pollingAt: number;
  seenAt: number;
  server: string;
  lastPoll: number;
  /** The agent as judgeSummaries last judged it (its times updated in place at the next). */
  judged?: ClusterAgent;
}

/** The summary of one agent's rows (undefined: none). */
export function summarize(rows: Iterable<JudgedRow>): AgentSummary | undefined {
  let s: AgentSummary | undefined;
  for (const r of rows) {
    if (!s) {
      s = { facts: r, builtin: r.builtin, writtenAt: r.written_at, pollingAt: r.polling ? r.written_at : -Infinity, seenAt: r.seen_at, server: r.server, lastPoll: Math.max(0, r.polled_at ?? 0) };
      continue;
    }
    if (r.written_at > s.writtenAt) {
      s.facts = r;
      s.writtenAt = r.written_at;
    }
    if (r.polling && r.written_at > s.pollingAt) s.pollingAt = r.written_at;
    if (r.seen_at > s.seenAt) {
      s.seenAt = r.seen_at;
      s.server = r.server;
    }
    s.lastPoll = Math.max(s.lastPoll, r.polled_at ?? 0);
  }
  return s;
}

/** An agent as judged at `now` (the database's clock) from its summary: see judgeSightings. */
export function judgeSummary(name: string, s: AgentSummary, now: number, freshMs: number): ClusterAgent {
  const f = s.facts;
  const a: ClusterAgent = {
    name, region: f.region, labels: f.labels, builtin: s.builtin, alive: now - s.writtenAt <= freshMs, polling: now - s.pollingAt <= freshMs,
    lastPoll: s.lastPoll, seenAgo: now - s.seenAt, server: s.server,
  };
  if (f.intranet !== null && f.intranet !== undefined) a.intranet = f.intranet;
  if (f.public !== null && f.public !== undefined) a.public = f.public;
  if (f.version !== null && f.version !== undefined) a.version = f.version;
  return a;
}

/** judgeSightings over rows with absolute times, their ages taken at `now` (the database's clock). */
export function judgeStored(rows: Iterable<JudgedRow>, now: number, freshMs: number): Map<string, ClusterAgent> {
  const byAgent = new Map<string, JudgedRow[]>();
  for (const r of rows) {
    const list = byAgent.get(r.agent);
    if (list) list.push(r);
    else byAgent.set(r.agent, [r]);
  }
  const out = new Map<string, ClusterAgent>();
  for (const [name, list] of byAgent) out.set(name, judgeSummary(name, summarize(list)!, now, freshMs));
  return out;
}

/**
 * The summaries of the agents of `state` after a read: those of the agents it changed made
 * again, all when it was a full read. `summaries` is consumed (updated in place and returned:
 * an idle heartbeat then touches no row).
 */
export function summarizeChanges(summaries: Map<string, AgentSummary> | undefined, state: SightingsState): Map<string, AgentSummary> {
  const out = state.changed && summaries ? summaries : new Map<string, AgentSummary>();
  const agents = state.changed && summaries ? state.changed : state.rows.keys();
  for (const name of agents) {
    const s = summarize(state.rows.get(name)?.values() ?? []);
    if (s) out.set(name, s);
    else out.delete(name);
  }
  return out;
}

/**
 * Every summed-up agent judged at `now` (the database's clock): what judgeSightings says of
 * their rows. An agent whose summary is unchanged since the last call is the same object,
 * its liveness, polling and age updated in place (no allocation per agent and heartbeat): the
 * map of the last call then says the same as this one.
 */
export function judgeSummaries(summaries: ReadonlyMap<string, AgentSummary>, now: number, freshMs: number): Map<string, ClusterAgent> {
  const out = new Map<string, ClusterAgent>();
  for (const [name, s] of summaries) {
    let a = s.judged;
    if (!a) a = s.judged = judgeSummary(name, s, now, freshMs);
    else {
      a.alive = now - s.writtenAt <= freshMs;
      a.polling = now - s.pollingAt <= freshMs;
      a.seenAgo = now - s.seenAt;
    }
    out.set(name, a);
  }
  return out;
}

/**
 * The agents of the cluster as this server lists them (ctx.agents() in a cluster): its own list
 * (built-in agent first, then the configured agents) with what the other servers saw merged
 * in, then the agents only other servers know (their built-in agents). An agent alive here is
 * alive, talking to this server (`me`); one alive elsewhere is alive with that server's facts
 * (region, labels, addresses, version) and last_seen; one alive nowhere keeps this server's
 * view, last seen when any server last heard from it. `readAt`: this server's clock at the
 * read (the rows' ages are on the database's). Without `shared` (no fresh read): the own list.
 */
export function clusterAgentView(local: readonly AgentInfo[], shared: ReadonlyMap<string, ClusterAgent> | undefined, me: string, readAt: number): AgentInfo[] {
  if (!shared) return [...local];
  const seenAt = (s: ClusterAgent) => (s.seenAgo === undefined ? undefined : Math.round(readAt - s.seenAgo));
  const out: AgentInfo[] = [];
  const listed = new Set<string>();
  for (const a of local) {
    listed.add(a.name);
    const s = shared.get(a.name);
    if (a.alive) out.push({ ...a, server: me });
    else if (!s) out.push({ ...a });
    else if (s.alive) out.push(fromShared(s, seenAt(s), a));
    else {
      const last = Math.max(a.last_seen ?? 0, seenAt(s) ?? 0);
      const down: AgentInfo = { ...a };
      if (last > 0) down.last_seen = last;
      if (s.server !== undefined) down.server = s.server;
      out.push(down);
    }
  }
  for (const s of shared.values()) if (!listed.has(s.name)) out.push(fromShared(s, seenAt(s)));
  return out;
}

/** An agent as another server saw it, over this server's entry (display name, color, location from the config). */
function fromShared(s: ClusterAgent, lastSeen: number | undefined, own?: AgentInfo): AgentInfo {
  const a: AgentInfo = { name: s.name, region: s.region, labels: s.labels, addresses: [], alive: s.alive, builtin: s.builtin };
  if (own?.display_name !== undefined) a.display_name = own.display_name;
  if (own?.color !== undefined) a.color = own.color;
  if (own?.location !== undefined) a.location = own.location;
  if (s.intranet) a.addresses.push(s.intranet);
  if (s.public) a.addresses.push(s.public);
  if (s.intranet) a.intranet_address = s.intranet;
  if (s.public) a.public_address = s.public;
  if (s.version) a.version = s.version;
  if (lastSeen !== undefined) a.last_seen = lastSeen;
  if (s.server !== undefined) a.server = s.server;
  return a;
}

/**
 * The agent-down and agent-up changes this server tells now: remote agents it owns among the
 * live servers (agentOwner), down in the cluster's view (alive on no server; one never heard
 * from anywhere only once `judgeNeverSeen`, after a grace from this server's start) and not
 * yet recorded down, or alive and recorded down. `down`: the agents the shared table says are down.
 */
export function livenessChanges(view: readonly AgentInfo[], down: ReadonlySet<string>, live: readonly string[], me: string, judgeNeverSeen: boolean): { agent: AgentInfo; down: boolean }[] {
  const out: { agent: AgentInfo; down: boolean }[] = [];
  for (const a of view) {
    if (a.builtin || agentOwner(a.name, live) !== me) continue;
    if (a.alive ? down.has(a.name) : !down.has(a.name) && (a.last_seen !== undefined || judgeNeverSeen)) out.push({ agent: a, down: !a.alive });
  }
  return out;
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

/** Agent-down and agent-up over the cluster (ClusterAgents.judge). */
export interface LivenessOptions {
  /** The live servers now (the owner of each agent among them tells its changes). */
  live: () => readonly string[];
  /** The cluster's agents as this server lists them (ctx.agents(): view() over its own list). */
  agents: () => AgentInfo[];
  /** Told of each change this server won (once in the cluster). */
  emit: (agent: AgentInfo, event: 'down' | 'up') => void;
  /** Agents never heard from by any server are judged down only this long after this server started. */
  graceMs: number;
}

export interface ClusterAgentsOptions {
  db: ClusterDb;
  server: string;
  /** This server's agents: its registry's (every configured agent) and its built-in one. */
  local: () => LocalAgent[];
  /** Task polls on this server (none until set). */
  polls?: () => PollState;
  /** Judge and tell agent-down / agent-up over the cluster after each read (off: each server's registry does it alone). */
  liveness?: LivenessOptions;
  /** How often the rows are written (cluster.heartbeat_s). */
  periodMs: number;
  /** An agent is alive in the cluster while some server wrote it within this (2 × cluster.dead_after_s). */
  freshMs: number;
  log: Logger;
  now?: () => number;
}

const NO_POLLS: PollState = new Map();

/** Writes this server's rows every period, reads every server's back, and answers what the cluster knows of agents. */
export class ClusterAgents implements AgentViews {
  private readonly written = new Map<string, { at: number; polling: boolean; facts?: string }>();
  private timer: NodeJS.Timeout | undefined;
  private busy = false;
  private lastError: string | undefined;
  private lastForget = 0;
  private readonly now: () => number;
  private readonly startedAt: number;
  /** The last read of every server's rows (this server's clock at the read) and the agents recorded down. */
  private shared: { at: number; agents: Map<string, ClusterAgent>; down: Set<string> } | undefined;
  /** Every server's rows as last read, kept by reading their changes; undefined after any error (the next read is a full one). */
  private seen: SightingsState | undefined;
  /** Each agent's rows of `seen` summed up (summarizeChanges): what each heartbeat judges. */
  private summaries: Map<string, AgentSummary> | undefined;

  constructor(private readonly opts: ClusterAgentsOptions) {
    this.now = opts.now ?? Date.now;
    this.startedAt = this.now();
  }

  private polls(): PollState {
    return this.opts.polls?.() ?? NO_POLLS;
  }

  /**
   * Every agent of the cluster (clusterAgentView over the last read), from this server's own
   * list; only that list while the last read is older than the freshness window (database away).
   */
  view(local: readonly AgentInfo[]): AgentInfo[] {
    const s = this.shared && this.now() - this.shared.at <= this.opts.freshMs ? this.shared : undefined;
    return clusterAgentView(local, s?.agents, this.opts.server, s?.at ?? 0);
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
      const rows = sightingsToWrite(this.opts.local(), this.polls(), now, this.written, this.opts.freshMs / 4);
      const forget = now - this.lastForget > 3600_000;
      await this.opts.db.transaction('recording agents seen', async (c) => {
        await writeSightings(c, this.opts.server, rows.map(({ facts: _f, ...r }) => r));
        if (forget) {
          await pruneSightings(c, FORGET_MS);
          await pruneTombstones(c, TOMBSTONES_KEPT_MS);
          await pruneAgentEvents(c);
        }
      });
      if (forget) this.lastForget = now;
      for (const r of rows) this.written.set(r.agent, { at: now, polling: r.polling, facts: r.facts });
      await this.refresh();
      await this.judge();
      if (this.lastError) this.opts.log.info('cluster agents: the database answers again');
      this.lastError = undefined;
    } catch (e) {
      this.seen = undefined;
      this.summaries = undefined;
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

  /** The agent-down / agent-up events every server told, newest first (each change once). */
  async events(): Promise<SharedAgentEvent[]> {
    return this.opts.db.transaction('reading agent events', (c) => readAgentEvents(c));
  }

  close(): void {
    clearInterval(this.timer);
  }

  /**
   * Reads every server's rows changed since the last read (all of them when the last read
   * failed or the table says so: sightings.ts) and the agents recorded down (what view() and
   * judge() use).
   */
  private async refresh(): Promise<void> {
    const at = this.now();
    const { page, down } = await this.opts.db.transaction('reading agents seen', async (c) => ({
      page: await readSightingChanges(c, this.seen),
      down: this.opts.liveness ? await readDownAgents(c) : new Set<string>(),
    }));
    if (page.reason === 'epoch' || page.reason === 'pruned') {
      this.opts.log.info({ reason: page.reason }, `cluster agents: every row read again (${page.reason === 'epoch' ? 'the table was recreated or its schema changed' : 'deletions not yet read were pruned'})`);
    }
    this.seen = applySightings(this.seen, page);
    this.summaries = summarizeChanges(this.summaries, this.seen);
    this.shared = { at, agents: judgeSummaries(this.summaries, page.meta.now, this.opts.freshMs), down };
  }

  /**
   * Tells agent-down / agent-up of the agents this server owns, each once in the cluster: the
   * change is recorded by a compare-and-set and told only by the server whose statement made it.
   */
  private async judge(): Promise<void> {
    const l = this.opts.liveness;
    if (!l || !this.shared) return;
    const changes = livenessChanges(l.agents(), this.shared.down, l.live(), this.opts.server, this.now() - this.startedAt >= l.graceMs);
    for (const ch of changes) {
      const won = await this.opts.db.transaction('recording agent liveness', (c) => markAgent(c, this.opts.server, ch.agent.name, ch.down));
      if (ch.down) this.shared.down.add(ch.agent.name);
      else this.shared.down.delete(ch.agent.name);
      if (!won) continue;
      const a = ch.agent;
      if (ch.down) {
        const ago = a.last_seen ? `last seen ${Math.round((this.now() - a.last_seen) / 1000)} s ago${a.server ? ` by server ${a.server}` : ''}` : 'not heard from by any server of the cluster';
        this.opts.log.warn({ agent: a.name, last_seen: a.last_seen, server: a.server }, `agent ${a.name} is down: ${ago}`);
      } else this.opts.log.info({ agent: a.name, server: a.server }, `agent ${a.name} is up (talks to server ${a.server ?? '?'})`);
      try {
        l.emit(a, ch.down ? 'down' : 'up');
      } catch (e) {
        this.opts.log.error({ err: e, agent: a.name }, 'agent event hook failed');
      }
    }
  }

  private merged(rows: readonly SightingRead[], local: readonly LocalAgent[]): Map<string, ClusterAgent> {
    const dbNow = rows[0]?.now ?? this.now();
    return mergeAgents(local, this.polls(), judgeSightings(rows, this.opts.freshMs), this.now(), dbNow);
  }
}
