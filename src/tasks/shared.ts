/**
 * Tasks shared among the servers of a cluster (docs/scale.md, "Several servers"): the task and
 * each agent's part live in the shared database, not in one server's memory. A task made on
 * any server is queued for its agents wherever they are connected; the server an agent
 * long-polls claims that agent's queued parts (each part is handed out once), and a result is
 * written back by whichever server the agent reports to. Any server reads every task. Agents
 * are judged against what the cluster knows of them (`AgentViews`: seen by any server, and
 * whether they poll for tasks), and one server (`sweeper`) applies the deadlines and the
 * retention. The checks, limits and deadlines are the single server's (service.ts).
 * Without a cluster the server's own TaskService runs instead.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { TasksConfig } from '../config/tasks-schema.ts';
import type { ListQuery } from './db.ts';
import type { TaskPolicy } from './policy.ts';
import type { AgentResult, ResultStatus, TaskRecord, TaskSummary } from './record.ts';
import {
  admit, checkReports, checkTask, overdue, recordReport, TaskError, waitFinished,
  type AgentLiveness, type NewTask, type ReportOutcome, type TaskDispatch, type TraceHistory,
} from './service.ts';
import type { TaskAssignment, TaskKindName, TaskReport } from './task.ts';
import { Waiters } from './waiters.ts';

/** What the cluster knows of one agent, on the database's clock (ms). */
export interface AgentView extends AgentLiveness {
  /** In a task long-poll on some server now. */
  polling: boolean;
  /** When it last polled for tasks (0: never seen polling). */
  lastPoll: number;
}

/** An agent's part handed out: what the assignment is built from. */
export interface ClaimedPart {
  id: string;
  kind: TaskKindName;
  params: Record<string, unknown>;
  timeoutMs: number;
}

/** An unfinished part with its task's timeout (for the deadlines). */
export interface OpenPart {
  taskId: string;
  timeoutMs: number;
  result: AgentResult;
}

/** The shared task tables (src/cluster/tasks-pg.ts). Times are the database's (ms since the epoch). */
export interface SharedTaskDb {
  /**
   * Records a task in one transaction: `decide` gets the database's time, each agent's load
   * (parts given to it in the last minute, parts waiting for it) and, for a trace, when the
   * last task of its key was made (tasks of one key are made one at a time), and returns the
   * record, or undefined to record nothing.
   */
  create(home: string, agents: readonly string[], traceKey: string | null, timeoutMs: number,
    decide: (now: number, load: ReadonlyMap<string, { lastMinute: number; queued: number }>, lastTrace: number | undefined) => TaskRecord | undefined): Promise<TaskRecord | undefined>;
  get(id: string): Promise<TaskRecord | undefined>;
  version(id: string): Promise<number | undefined>;
  list(q: ListQuery): Promise<TaskSummary[]>;
  previousTrace(traceKey: string, before: number): Promise<TaskRecord | undefined>;
  lastTraceTime(traceKey: string): Promise<number | undefined>;
  /** The agents that have parts waiting (a short list: parts wait at most pickup_s). */
  queued(): Promise<string[]>;
  /** Marks up to (concurrency − parts it runs) of the agent's queued parts running on `server`, oldest first; each part is claimed once. */
  claim(agent: string, server: string, concurrency: number): Promise<ClaimedPart[]>;
  /** Applies an agent's report to its part with `apply` (at the database's time); why it was refused, if it was. */
  report(agent: string, rep: TaskReport, apply: (kind: TaskKindName, r: AgentResult, now: number) => string | undefined): Promise<string | undefined>;
  /** Every unfinished part, and the database's time. */
  open(): Promise<{ now: number; parts: OpenPart[] }>;
  /** Gives parts their final status, each only if it is still in the status it was read in; returns how many changed. */
  finalize(changes: readonly { taskId: string; from: ResultStatus; result: AgentResult }[]): Promise<number>;
  /** Deletes tasks created before `cutoff` (in bounded batches); returns how many. */
  prune(cutoff: number): Promise<number>;
}

/** What the cluster knows of agents (src/cluster/agents.ts). */
export interface AgentViews {
  /** The named agents any server saw (absent: none did). */
  read(names: readonly string[]): Promise<Map<string, AgentView>>;
}

export interface SharedTaskDeps {
  db: SharedTaskDb;
  views: AgentViews;
  /** This server's cluster.server_id (recorded as the task's home and the claimer of parts). */
  server: string;
  log: Logger;
  settings: () => TasksConfig;
  policy: () => TaskPolicy;
  /** Whether this server applies the deadlines and the retention now (one live server does). */
  sweeper: () => boolean;
  now?: () => number;
}

/** How often waiting polls look for parts queued by other servers, and followers for changes made elsewhere. */
const LOOK_MS = 500;
const SWEEP_MS = 1000;
const PRUNE_MS = 3600_000;

export class SharedTaskService implements TaskDispatch, TraceHistory {
  private readonly polls = new Waiters();
  private readonly watchers = new Waiters();
  /** Task long-polls in progress here, by agent, and when each agent last polled here (local clock). */
  private readonly polling = new Map<string, number>();
  private readonly lastPoll = new Map<string, number>();
  /** Agents with parts waiting, as last looked up (or queued here since): only their polls ask the database. */
  private queued = new Set<string>();
  private readonly timers: NodeJS.Timeout[] = [];
  private busy = { look: false, sweep: false };
  private lastPrune = 0;
  private lastError: string | undefined;
  private closed = false;
  private readonly now: () => number;

  constructor(private readonly deps: SharedTaskDeps) {
    this.now = deps.now ?? Date.now;
    this.timers.push(setInterval(() => void this.look(), LOOK_MS), setInterval(() => void this.sweep(), SWEEP_MS));
    for (const t of this.timers) t.unref();
  }

  async create(t: NewTask): Promise<TaskRecord> {
    const settings = this.deps.settings();
    const { params, host, timeoutMs } = checkTask(t, settings, this.deps.policy());
    const names = [...new Set(t.agents)];
    const views = await this.deps.views.read(names);
    let tooSoon: number | undefined;
    const rec = await this.deps.db.create(this.deps.server, names, t.traceKey ?? null, timeoutMs, (now, load, lastTrace) => {
      // A trace (an alert's) runs once per key and interval, whichever server's alert engine asks (another may have asked a moment before).
      const minMs = settings.auto_trace.min_interval_s * 1000;
      if (t.traceKey !== undefined && lastTrace !== undefined && now - lastTrace < minMs) {
        tooSoon = now - lastTrace;
        return undefined;
      }
      const r: TaskRecord = {
        id: randomUUID(), kind: t.kind as TaskKindName, params, host, origin: t.origin, created: now, created_by: t.createdBy,
        choice: t.choice, state: 'running', version: 1, results: [],
      };
      if (t.target !== undefined) r.target = t.target;
      for (const name of names) {
        const part: AgentResult = { agent: name, status: 'queued', queued: now };
        const no = admit(name, views.get(name), load.get(name) ?? { lastMinute: 0, queued: 0 }, settings.per_agent, 'any server of the cluster');
        if (no) Object.assign(part, { status: no.status, error: no.error, finished: now });
        r.results.push(part);
      }
      if (r.results.every((x) => x.status !== 'queued')) r.state = 'finished';
      return r;
    });
    if (!rec) {
      throw new TaskError(409, 'SMOKEMESH_E_POLICY', `the last trace for this series ran ${Math.round((tooSoon ?? 0) / 1000)} s ago (tasks.auto_trace.min_interval_s: ${settings.auto_trace.min_interval_s})`);
    }
    this.deps.log.info({ task: rec.id, kind: rec.kind, host, agents: t.agents, by: t.createdBy }, `task ${rec.kind} ${host} created (shared)`);
    for (const r of rec.results) {
      if (r.status !== 'queued') continue;
      this.queued.add(r.agent);
      this.polls.wake(r.agent);
    }
    return rec;
  }

  /** An agent's long-poll on this server: claims its queued parts (wherever they were made), waiting up to `waitMs` for one. */
  async take(agent: string, waitMs: number, signal?: AbortSignal): Promise<TaskAssignment[]> {
    const deadline = this.now() + waitMs;
    this.polling.set(agent, (this.polling.get(agent) ?? 0) + 1);
    try {
      for (;;) {
        this.lastPoll.set(agent, this.now());
        const settings = this.deps.settings();
        let claimed: ClaimedPart[] = [];
        if (this.queued.has(agent)) {
          try {
            claimed = await this.deps.db.claim(agent, this.deps.server, settings.per_agent.concurrency);
            // None left to hand out now (or its slots are full): asked again once look() finds some.
            if (!claimed.length) this.queued.delete(agent);
          } catch (e) {
            this.failed(e);
          }
        }
        const left = deadline - this.now();
        if (claimed.length || left <= 0 || signal?.aborted || this.closed) {
          for (const c of claimed) this.watchers.wake(c.id);
          if (claimed.length) this.deps.log.info({ agent, tasks: claimed.map((c) => c.id) }, `agent ${agent} took ${claimed.length} shared tasks`);
          return claimed.map((c) => ({ id: c.id, kind: c.kind, params: c.params, timeout_ms: c.timeoutMs, max_output_bytes: settings.max_output_bytes }));
        }
        // Woken by a task made here, or by look() when another server queued one; else asked again after a while.
        await this.polls.wait(agent, Math.min(left, this.lastError ? 5000 : 30_000), signal);
      }
    } finally {
      const n = (this.polling.get(agent) ?? 1) - 1;
      if (n > 0) this.polling.set(agent, n);
      else this.polling.delete(agent);
      this.lastPoll.set(agent, this.now());
    }
  }

  async report(agent: string, reports: readonly unknown[]): Promise<ReportOutcome> {
    const out: ReportOutcome = { accepted: 0, rejected: [] };
    for (const c of checkReports(reports)) {
      const why = c.error ?? await this.deps.db.report(agent, c.report!, (kind, r, now) => recordReport(kind, r, c.report!, now));
      if (why) {
        out.rejected.push({ index: c.index, error: c.report ? `results[${c.index}]: ${why}` : why });
        continue;
      }
      out.accepted++;
      this.watchers.wake(c.report!.id);
      this.deps.log.info({ task: c.report!.id, agent, ok: c.report!.ok, error: c.report!.error }, `task result from ${agent} (shared)`);
    }
    return out;
  }

  get(id: string): Promise<TaskRecord | undefined> {
    return this.deps.db.get(id);
  }

  /** Resolves once the task's version differs from `version` (read from the shared database), after `ms`, or on shutdown. */
  async waitForChange(id: string, version: number, ms: number): Promise<void> {
    const until = this.now() + ms;
    for (;;) {
      const v = await this.deps.db.version(id);
      const left = until - this.now();
      if (v === undefined || v !== version || left <= 0 || this.closed) return;
      await this.watchers.wait(id, Math.min(left, LOOK_MS));
    }
  }

  finished(id: string, ms: number): Promise<TaskRecord | undefined> {
    return waitFinished(this, id, ms, this.now, () => this.closed);
  }

  list(q: ListQuery): Promise<TaskSummary[]> {
    return this.deps.db.list(q);
  }

  lastTraceTime(traceKey: string): Promise<number | undefined> {
    return this.deps.db.lastTraceTime(traceKey);
  }

  previousTrace(traceKey: string, before: number): Promise<TaskRecord | undefined> {
    return this.deps.db.previousTrace(traceKey, before);
  }

  enabled(): boolean {
    return this.deps.settings().enabled;
  }

  /** Agents polling for tasks here now, and when each last polled (for what the cluster knows of agents). */
  pollState(): Map<string, { polling: boolean; lastPoll: number }> {
    const out = new Map<string, { polling: boolean; lastPoll: number }>();
    for (const [agent, at] of this.lastPoll) out.set(agent, { polling: this.polling.has(agent), lastPoll: at });
    return out;
  }

  close(): void {
    this.closed = true;
    for (const t of this.timers) clearInterval(t);
    this.polls.wakeAll();
    this.watchers.wakeAll();
  }

  /** Wakes the polls waiting here for agents that have parts queued (by any server): one query per period, not one per poll. */
  private async look(): Promise<void> {
    if (this.busy.look || this.closed || !this.polling.size) return;
    this.busy.look = true;
    try {
      this.queued = new Set(await this.deps.db.queued());
      for (const agent of this.queued) if (this.polling.has(agent)) this.polls.wake(agent);
      this.recovered();
    } catch (e) {
      this.failed(e);
    } finally {
      this.busy.look = false;
    }
  }

  /** On the sweeping server: the deadlines of every unfinished part (judged on the database's clock), and the retention. */
  async sweep(): Promise<void> {
    if (this.busy.sweep || this.closed || !this.deps.sweeper()) return;
    this.busy.sweep = true;
    try {
      const { now, parts } = await this.deps.db.open();
      if (parts.length) {
        const views = await this.deps.views.read([...new Set(parts.map((p) => p.result.agent))]);
        const pickupMs = this.deps.settings().pickup_s * 1000;
        const changes: { taskId: string; from: ResultStatus; result: AgentResult }[] = [];
        for (const p of parts) {
          const v = views.get(p.result.agent) ?? { alive: false, polling: false, lastPoll: 0 };
          const late = overdue(p.result, v, now, pickupMs, p.timeoutMs);
          if (!late) continue;
          changes.push({ taskId: p.taskId, from: p.result.status, result: { ...p.result, status: late.status, error: late.error, finished: now } });
          this.deps.log.warn({ task: p.taskId, agent: p.result.agent, status: late.status }, late.error);
        }
        if (changes.length) await this.deps.db.finalize(changes);
        for (const c of changes) this.watchers.wake(c.taskId);
      }
      if (this.now() - this.lastPrune >= PRUNE_MS) {
        this.lastPrune = this.now();
        const n = await this.deps.db.prune(this.now() - this.deps.settings().retention_days * 86_400_000);
        if (n) this.deps.log.info({ tasks: n }, 'old shared tasks pruned (tasks.retention_days)');
      }
      this.recovered();
    } catch (e) {
      this.failed(e);
    } finally {
      this.busy.sweep = false;
    }
  }

  private failed(e: unknown): void {
    const msg = (e as Error).message;
    if (msg !== this.lastError) this.deps.log.error({ err: e }, `shared tasks: ${msg}; retrying`);
    this.lastError = msg;
  }

  private recovered(): void {
    if (this.lastError === undefined) return;
    this.lastError = undefined;
    this.deps.log.info('shared tasks: the cluster database answers again');
  }
}
