import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { TasksConfig } from '../config/tasks-schema.ts';
import { validate } from '../config/validate.ts';
import { SmokemeshError, type ErrorCode } from '../errors.ts';
import type { ListQuery, TaskDb } from './db.ts';
import { taskKind } from './index.ts';
import { hopsOfOutput, summarizePath } from './path.ts';
import type { TaskPolicy } from './policy.ts';
import { FINAL_STATUSES, type AgentChoice, type AgentResult, type TaskRecord, type TaskSummary } from './record.ts';
import { TaskReportSchema, type TaskAssignment, type TaskKindName, type TaskReport } from './task.ts';
import { Waiters } from './waiters.ts';

/** A refused task request: the HTTP status and a coded message saying what to change. */
export class TaskError extends SmokemeshError {
  constructor(readonly statusCode: number, code: ErrorCode, message: string) {
    super(code, message);
    this.name = 'TaskError';
  }
}

/** What the service needs to know about an agent. */
export interface AgentLiveness {
  alive: boolean;
}

export interface TaskServiceDeps {
  db: TaskDb;
  log: Logger;
  settings: () => TasksConfig;
  policy: () => TaskPolicy;
  /** The agent's liveness, or undefined when the server does not know it. */
  agent: (name: string) => AgentLiveness | undefined;
  now?: () => number;
}

export interface NewTask {
  kind: string;
  params: Record<string, unknown>;
  /** The agents chosen (names), and the choice as asked (recorded). */
  agents: readonly string[];
  choice: AgentChoice;
  createdBy: string;
  origin: TaskRecord['origin'];
  /** Target path the task is about (alert traces). */
  target?: string;
  /** Alert traces: the series (or cause) the trace belongs to, to find the one before. */
  traceKey?: string;
}

/** Seconds a running task may overrun its own timeout before the server gives up on its result. */
const GRACE_MS = 15_000;

interface Mailbox {
  queue: string[];
  running: Set<string>;
  /** When tasks were queued for it in the last minute (the rate limit). */
  starts: number[];
  lastPoll?: number;
  /** Long-polls waiting now. */
  polling: number;
}

interface OpenTask {
  rec: TaskRecord;
  timeoutMs: number;
}

/**
 * Dispatch of tasks to agents: each agent's queue (per-agent concurrency, rate and queue
 * limits), long-polls that hand tasks out the moment they are queued, results as they come,
 * deadlines so that no part of a task waits forever (agent down, not fetched, no result), and
 * the record of it all in the task database. The built-in agent and remote agents take tasks
 * through the same two calls, `take` and `report`.
 */
export class TaskService implements TaskDispatch {
  private open = new Map<string, OpenTask>();
  private boxes = new Map<string, Mailbox>();
  /** Agents' task long-polls, by agent name. */
  private polls = new Waiters();
  /** Callers following a task, by task id. */
  private watchers = new Waiters();
  private timer: NodeJS.Timeout;
  private pruneTimer: NodeJS.Timeout;
  private closed = false;
  private readonly now: () => number;

  constructor(private readonly deps: TaskServiceDeps) {
    this.now = deps.now ?? Date.now;
    const abandoned = deps.db.abandonUnfinished(this.now());
    if (abandoned) deps.log.warn({ tasks: abandoned }, 'tasks left unfinished by the last stop are marked timed out');
    this.prune();
    this.timer = setInterval(() => this.tick(), 1000);
    this.timer.unref();
    this.pruneTimer = setInterval(() => this.prune(), 3600_000);
    this.pruneTimer.unref();
  }

  /**
   * Checks and records a task and queues it for its agents; returns the record at once (results
   * arrive later). Throws TaskError: disabled (403), unknown kind or parameters out of range
   * (400), host outside the policy (403).
   */
  create(t: NewTask): TaskRecord {
    const settings = this.deps.settings();
    const { params, host, timeoutMs } = checkTask(t, settings, this.deps.policy());
    const now = this.now();
    const rec: TaskRecord = {
      id: randomUUID(), kind: t.kind as TaskKindName, params, host, origin: t.origin, created: now, created_by: t.createdBy,
      choice: t.choice, state: 'running', version: 1, results: [],
    };
    if (t.target !== undefined) rec.target = t.target;
    const limits = settings.per_agent;
    for (const name of new Set(t.agents)) {
      const r: AgentResult = { agent: name, status: 'queued', queued: now };
      const box = this.box(name);
      box.starts = box.starts.filter((s) => now - s < 60_000);
      const no = admit(name, this.deps.agent(name), { lastMinute: box.starts.length, queued: box.queue.length }, limits, 'this server');
      if (no) this.finalize(r, no.status, no.error);
      else {
        box.starts.push(now);
        box.queue.push(rec.id);
      }
      rec.results.push(r);
    }
    this.open.set(rec.id, { rec, timeoutMs });
    this.deps.db.insert(rec, t.traceKey ?? null);
    this.deps.log.info({ task: rec.id, kind: rec.kind, host, agents: t.agents, by: t.createdBy }, `task ${rec.kind} ${host} created`);
    this.settle(rec, []);
    for (const r of rec.results) if (r.status === 'queued') this.wake(r.agent);
    return structuredClone(rec);
  }

  /**
   * An agent's long-poll: the tasks it may start now (within its concurrency), waiting up to
   * `waitMs` for one to be queued. Marks them running.
   */
  async take(agent: string, waitMs: number, signal?: AbortSignal): Promise<TaskAssignment[]> {
    const box = this.box(agent);
    const deadline = this.now() + waitMs;
    box.polling++;
    try {
      for (;;) {
        box.lastPoll = this.now();
        const out = this.hand(agent, box);
        const left = deadline - this.now();
        if (out.length || left <= 0 || signal?.aborted || this.closed) return out;
        await this.polls.wait(agent, left, signal);
      }
    } finally {
      box.polling--;
      box.lastPoll = this.now();
    }
  }

  /** Results from an agent: each stored, or refused with the reason (unknown task, not this agent's, bad shape). */
  report(agent: string, reports: readonly unknown[]): ReportOutcome {
    const out: ReportOutcome = { accepted: 0, rejected: [] };
    for (const c of checkReports(reports)) {
      const why = c.error ?? this.take1(agent, c.report!);
      if (why) out.rejected.push({ index: c.index, error: c.report ? `results[${c.index}]: ${why}` : why });
      else out.accepted++;
    }
    return out;
  }

  /** A task with every result so far, or undefined. */
  get(id: string): TaskRecord | undefined {
    const o = this.open.get(id);
    return o ? structuredClone(o.rec) : this.deps.db.get(id);
  }

  /** Resolves once the task's version differs from `version`, after `ms`, or on shutdown. */
  async waitForChange(id: string, version: number, ms: number): Promise<void> {
    const o = this.open.get(id);
    if (!o || o.rec.version !== version || this.closed) return;
    await this.watchers.wait(id, ms);
  }

  /** The task once every agent's part is final, or as it stands after `ms`. */
  async finished(id: string, ms: number): Promise<TaskRecord | undefined> {
    return waitFinished(this, id, ms, this.now, () => this.closed);
  }

  /** Tasks newest first, without outputs (the database's list). */
  list(q: ListQuery): TaskSummary[] {
    return this.deps.db.list(q);
  }

  /** Whether tasks are accepted (the /metrics flag). */
  enabled(): boolean {
    return this.deps.settings().enabled;
  }

  /** Wakes every long-poll and watcher and stops the timers. */
  close(): void {
    this.closed = true;
    clearInterval(this.timer);
    clearInterval(this.pruneTimer);
    this.polls.wakeAll();
    this.watchers.wakeAll();
  }

  /** Deadlines: parts of tasks whose agent went down, was never there to fetch them, or sent no result in time. */
  tick(now = this.now()): void {
    const pickupMs = this.deps.settings().pickup_s * 1000;
    for (const { rec, timeoutMs } of [...this.open.values()]) {
      const changed: AgentResult[] = [];
      for (const r of rec.results) {
        if (FINAL_STATUSES.has(r.status)) continue;
        const box = this.box(r.agent);
        const late = overdue(r, { alive: this.deps.agent(r.agent)?.alive ?? false, polling: box.polling > 0, lastPoll: box.lastPoll ?? 0 }, now, pickupMs, timeoutMs);
        if (!late) continue;
        this.finalize(r, late.status, late.error, now);
        box.queue = box.queue.filter((id) => id !== rec.id);
        box.running.delete(rec.id);
        changed.push(r);
      }
      if (changed.length) {
        for (const r of changed) this.deps.log.warn({ task: rec.id, agent: r.agent, status: r.status }, r.error ?? r.status);
        this.settle(rec, changed);
      }
    }
  }

  private take1(agent: string, rep: TaskReport): string | undefined {
    const o = this.open.get(rep.id);
    const rec = o?.rec ?? this.deps.db.get(rep.id);
    const r = rec?.results.find((x) => x.agent === agent);
    if (!rec || !r) return `no task ${rep.id} for agent "${agent}"`;
    const why = recordReport(rec.kind, r, rep, this.now());
    if (why) return why;
    const box = this.box(agent);
    box.running.delete(rec.id);
    if (o) this.settle(rec, [r]);
    else {
      rec.version++;
      this.deps.db.update(rec, [r]);
    }
    this.deps.log.info({ task: rec.id, agent, ok: rep.ok, error: rep.error }, `task ${rec.kind} ${rec.host}: result from ${agent}`);
    this.wake(agent);
    return undefined;
  }

  /** Hands out queued tasks within the agent's concurrency and marks them running. */
  private hand(agent: string, box: Mailbox): TaskAssignment[] {
    const settings = this.deps.settings();
    const out: TaskAssignment[] = [];
    while (box.queue.length && box.running.size < settings.per_agent.concurrency) {
      const id = box.queue.shift()!;
      const o = this.open.get(id);
      const r = o?.rec.results.find((x) => x.agent === agent);
      if (!o || !r || r.status !== 'queued') continue;
      r.status = 'running';
      r.started = this.now();
      box.running.add(id);
      this.settle(o.rec, [r]);
      out.push({ id, kind: o.rec.kind, params: o.rec.params, timeout_ms: o.timeoutMs, max_output_bytes: settings.max_output_bytes });
    }
    return out;
  }

  /** Records a change: new version, finished once every part is final, stored, watchers woken. */
  private settle(rec: TaskRecord, changed: readonly AgentResult[]): void {
    if (changed.length) rec.version++;
    const done = rec.results.every((r) => FINAL_STATUSES.has(r.status));
    if (done && rec.state !== 'finished') {
      rec.state = 'finished';
      if (!changed.length) rec.version++;
      this.open.delete(rec.id);
    }
    if (changed.length || done) this.deps.db.update(rec, changed);
    this.watchers.wake(rec.id);
  }

  private finalize(r: AgentResult, status: AgentResult['status'], error: string, now = this.now()): void {
    r.status = status;
    r.error = error;
    r.finished = now;
  }

  private box(agent: string): Mailbox {
    let b = this.boxes.get(agent);
    if (!b) this.boxes.set(agent, (b = { queue: [], running: new Set(), starts: [], polling: 0 }));
    return b;
  }

  private wake(agent: string): void {
    this.polls.wake(agent);
  }

  private prune(): void {
    try {
      const n = this.deps.db.prune(this.now() - this.deps.settings().retention_days * 86_400_000);
      if (n) this.deps.log.info({ tasks: n }, 'old tasks pruned (tasks.retention_days)');
    } catch (e) {
      this.deps.log.error({ err: e }, 'could not prune old tasks');
    }
  }
}

/** What an agent's report of results got: how many were taken, and why the others were not. */
export interface ReportOutcome {
  accepted: number;
  rejected: { index: number; error: string }[];
}

/** A task request checked (enabled, kind, parameters with defaults, host within the policy); throws TaskError saying what to change. */
export function checkTask(t: Pick<NewTask, 'kind' | 'params'>, settings: TasksConfig, policy: TaskPolicy): { params: Record<string, unknown>; host: string; timeoutMs: number } {
  if (!settings.enabled) throw new TaskError(403, 'SMOKEMESH_E_POLICY', 'tasks are disabled on this server (tasks.enabled: false in the config)');
  const kind = taskKind(t.kind);
  if (!kind) throw new TaskError(400, 'SMOKEMESH_E_PARAM', `kind: unknown task kind "${t.kind}"`);
  const params = structuredClone(t.params);
  const issues = validate(kind.paramsSchema, params);
  if (issues.length) throw new TaskError(400, 'SMOKEMESH_E_PARAM', issues.map((i) => `params.${i.path.join('.')}: ${i.message}`).join('; '));
  let host: string;
  try {
    host = kind.target(params as never);
  } catch (e) {
    throw new TaskError(400, 'SMOKEMESH_E_PARAM', `params: ${(e as Error).message}`);
  }
  const refused = policy.refuse(host);
  if (refused) throw new TaskError(403, 'SMOKEMESH_E_POLICY', refused);
  return { params, host, timeoutMs: kind.timeoutMs(params as never) };
}

/**
 * Whether an agent's part of a new task is queued (undefined) or gets a final status at once:
 * the agent unknown (to `knower`: this server, or the cluster) or down, or past its limits
 * (`load`: tasks it was given in the last minute, tasks waiting for it).
 */
export function admit(name: string, agent: AgentLiveness | undefined, load: { lastMinute: number; queued: number }, limits: TasksConfig['per_agent'], knower: string): { status: AgentResult['status']; error: string } | undefined {
  if (!agent) return { status: 'refused', error: `agent "${name}" is not known to ${knower}` };
  if (!agent.alive) return { status: 'agent_down', error: `agent "${name}" is down: the task was not sent` };
  if (load.lastMinute >= limits.per_minute) return { status: 'refused', error: `agent "${name}" was given ${load.lastMinute} tasks in the last minute (tasks.per_agent.per_minute: ${limits.per_minute}); try again later` };
  if (load.queued >= limits.queue) return { status: 'refused', error: `agent "${name}" has ${load.queued} tasks waiting (tasks.per_agent.queue: ${limits.queue}); try again later` };
  return undefined;
}

/**
 * The deadline an unfinished part has passed at `now`, if any: its agent went down, it was not
 * fetched within pickup_s while the agent was not polling (`lastPoll`: when it last did), or no
 * result came within the task's timeout and a grace.
 */
export function overdue(r: AgentResult, agent: { alive: boolean; polling: boolean; lastPoll: number }, now: number, pickupMs: number, timeoutMs: number): { status: 'agent_down' | 'timeout'; error: string } | undefined {
  if (!agent.alive) return { status: 'agent_down', error: `agent "${r.agent}" went down ${r.status === 'queued' ? 'before fetching the task' : 'while running the task'}` };
  if (r.status === 'queued' && !agent.polling && now - Math.max(r.queued, agent.lastPoll) > pickupMs) {
    return { status: 'timeout', error: `agent "${r.agent}" did not fetch the task within ${pickupMs / 1000} s (tasks.pickup_s): it runs with --no-tasks, is older than tasks, or cannot reach the server` };
  }
  if (r.status === 'running' && now > (r.started ?? r.queued) + timeoutMs + GRACE_MS) {
    return { status: 'timeout', error: `no result from agent "${r.agent}" within ${Math.round((timeoutMs + GRACE_MS) / 1000)} s` };
  }
  return undefined;
}

/** Reports validated one by one: each with its report, or the error naming its place. */
export function checkReports(reports: readonly unknown[]): { index: number; report?: TaskReport; error?: string }[] {
  return reports.map((raw, index) => {
    const issues = validate(TaskReportSchema, raw);
    if (issues.length) return { index, error: issues.map((i) => `results[${index}]${i.path.map((p) => `.${p}`).join('')}: ${i.message}`).join('; ') };
    return { index, report: raw as TaskReport };
  });
}

/**
 * Takes an agent's report into its part `r` (at `now`), with the path summary of traces; a
 * result after a deadline is still the truth and replaces the timeout. Returns why it is
 * refused when the part already has a result.
 */
export function recordReport(kind: TaskKindName, r: AgentResult, rep: TaskReport, now: number): string | undefined {
  if (r.status === 'done' || r.status === 'failed' || r.status === 'refused') return `task ${rep.id} already has a result from agent "${r.agent}"`;
  r.status = rep.ok ? 'done' : 'failed';
  r.finished = now;
  r.started ??= rep.started;
  if (rep.output !== undefined) r.output = rep.output;
  if (rep.error !== undefined) r.error = rep.error;
  else delete r.error;
  const trace = hopsOfOutput(kind, rep.output);
  if (trace) r.summary = summarizePath(trace.hops, trace.destination);
  return undefined;
}

/** The task once every agent's part is final, or as it stands after `ms` (or at shutdown). */
export async function waitFinished(svc: Pick<TaskDispatch, 'get' | 'waitForChange'>, id: string, ms: number, now: () => number, closed: () => boolean): Promise<TaskRecord | undefined> {
  const until = now() + ms;
  for (;;) {
    const rec = await svc.get(id);
    if (!rec || rec.state === 'finished' || closed() || now() >= until) return rec;
    await svc.waitForChange(id, rec.version, until - now());
  }
}

/**
 * What the routes, the agent routes and alert traces use of a task service: this server's own
 * (TaskService) or, in a cluster, the shared one (src/tasks/shared.ts). Calls may answer at
 * once or through a promise; callers await them.
 */
export interface TaskDispatch {
  create(t: NewTask): TaskRecord | Promise<TaskRecord>;
  take(agent: string, waitMs: number, signal?: AbortSignal): Promise<TaskAssignment[]>;
  report(agent: string, reports: readonly unknown[]): ReportOutcome | Promise<ReportOutcome>;
  get(id: string): TaskRecord | undefined | Promise<TaskRecord | undefined>;
  waitForChange(id: string, version: number, ms: number): Promise<void>;
  finished(id: string, ms: number): Promise<TaskRecord | undefined>;
  list(q: ListQuery): TaskSummary[] | Promise<TaskSummary[]>;
  enabled(): boolean;
  close(): void;
}

/** Where alert traces find the last trace of a key and the one to compare with. */
export interface TraceHistory {
  lastTraceTime(traceKey: string): number | undefined | Promise<number | undefined>;
  previousTrace(traceKey: string, before: number): TaskRecord | undefined | Promise<TaskRecord | undefined>;
}
