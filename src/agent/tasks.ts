import type { Logger } from 'pino';
import { validate } from '../config/validate.ts';
import { longPollTimeout, type AgentClient } from './client.ts';
import { AGENT_API, type RoundsReply, type TasksReply } from './protocol.ts';
import { taskKind } from '../tasks/index.ts';
import type { TaskAssignment, TaskReport } from '../tasks/task.ts';

/**
 * Where an agent's tasks come from and where their results go: the agent API for a remote
 * agent (long-poll GET, signed POST), the server's task service itself for the built-in one.
 */
export interface TaskSource {
  /** Waits for tasks (up to the source's long-poll time); resolves with none on timeout or abort. */
  next(signal: AbortSignal): Promise<TaskAssignment[]>;
  /** Hands one result back; throws when it could not be delivered (the runner retries). */
  report(result: TaskReport): Promise<void>;
}

/** The agent API as a task source: a signed long-poll GET for tasks, one signed POST per result. */
export function apiTaskSource(client: AgentClient, log: Logger, waitS = 25): TaskSource {
  return {
    async next(signal) {
      const r = await client.call<TasksReply>('GET', `${AGENT_API.tasks}?wait=${waitS}`, { signal, timeoutMs: longPollTimeout(waitS) });
      return r.body?.tasks ?? [];
    },
    async report(result) {
      const r = await client.call<RoundsReply>('POST', AGENT_API.taskResults, { json: { results: [result] } });
      // A refusal is final (the task is unknown or already answered): nothing to retry.
      for (const rej of r.body?.rejected ?? []) log.warn({ task: result.id, error: rej.error }, 'server refused a task result');
    },
  };
}

/** Attempts to deliver one result before it is given up (the server then times the task out). */
const REPORT_TRIES = 5;

/** Runs an agent's tasks: each as it arrives, at most `concurrency` at once, each within its timeout. */
export class TaskRunner {
  private readonly stopping = new AbortController();
  private readonly running = new Set<Promise<void>>();
  private loop: Promise<void> | undefined;
  private wakeSlot: (() => void) | undefined;
  /** Counters for tests and logs. */
  readonly stats = { ran: 0, failed: 0, lost_reports: 0 };

  constructor(private readonly opts: { source: TaskSource; log: Logger; concurrency?: number; retryMs?: number }) {}

  /** Starts fetching and running tasks. */
  start(): void {
    this.loop ??= this.fetchLoop();
  }

  /** Aborts the tasks in flight (they report "stopped") and stops fetching. */
  async stop(): Promise<void> {
    this.stopping.abort();
    this.wakeSlot?.();
    await this.loop;
    await Promise.allSettled([...this.running]);
  }

  private async fetchLoop(): Promise<void> {
    const limit = this.opts.concurrency ?? 2;
    let backoff = 500;
    while (!this.stopping.signal.aborted) {
      // The server sends no more than the agent's concurrency; this is the agent's own guard.
      while (this.running.size >= limit && !this.stopping.signal.aborted) await new Promise<void>((r) => (this.wakeSlot = r));
      if (this.stopping.signal.aborted) break;
      let batch: TaskAssignment[];
      const asked = Date.now();
      try {
        batch = await this.opts.source.next(this.stopping.signal);
        backoff = 500;
        // A source that answers "nothing" at once (a server shutting down) must not spin this loop.
        if (!batch.length && Date.now() - asked < 100) await sleep(1000, this.stopping.signal);
      } catch (e) {
        if (this.stopping.signal.aborted) break;
        this.opts.log.debug({ err: e }, 'task fetch failed; retrying');
        await sleep(backoff, this.stopping.signal);
        backoff = Math.min(backoff * 2, this.opts.retryMs ?? 10_000);
        continue;
      }
      for (const a of batch) {
        const job = this.runOne(a).finally(() => {
          this.running.delete(job);
          this.wakeSlot?.();
        });
        this.running.add(job);
      }
    }
  }

  private async runOne(a: TaskAssignment): Promise<void> {
    const started = Date.now();
    const report = (r: Omit<TaskReport, 'id' | 'started' | 'finished'>) => this.deliver({ id: a.id, started, finished: Date.now(), ...r });
    const kind = taskKind(a.kind);
    if (!kind) return report({ ok: false, error: `this agent does not know task kind "${a.kind}" (older version?)` });
    const params = structuredClone(a.params);
    const issues = validate(kind.paramsSchema, params);
    if (issues.length) return report({ ok: false, error: `params.${issues[0]!.path.join('.')}: ${issues[0]!.message}` });
    const signal = AbortSignal.any([this.stopping.signal, AbortSignal.timeout(a.timeout_ms)]);
    this.opts.log.info({ task: a.id, kind: a.kind, target: kind.target(params as never) }, `task ${a.kind} started`);
    let outcome;
    try {
      outcome = await kind.run(params as never, signal, { maxOutputBytes: a.max_output_bytes });
    } catch (e) {
      outcome = { ok: false as const, error: `task failed: ${(e as Error).message}` };
    }
    if (!outcome.ok && signal.aborted && !this.stopping.signal.aborted) outcome.error = `timed out after ${a.timeout_ms} ms: ${outcome.error}`;
    const size = outcome.output === undefined ? 0 : Buffer.byteLength(JSON.stringify(outcome.output));
    if (size > a.max_output_bytes) outcome = { ok: false, error: `output of ${size} bytes is over the limit of ${a.max_output_bytes} (tasks.max_output_bytes)` };
    this.stats.ran++;
    if (!outcome.ok) this.stats.failed++;
    this.opts.log.info({ task: a.id, kind: a.kind, ok: outcome.ok, error: outcome.ok ? undefined : outcome.error, ms: Date.now() - started }, `task ${a.kind} finished`);
    await report(outcome.ok ? { ok: true, output: outcome.output } : { ok: false, error: outcome.error.slice(0, 4000), ...(outcome.output !== undefined ? { output: outcome.output } : {}) });
  }

  /** Sends a result, retrying a few times (the server may be restarting). */
  private async deliver(r: TaskReport): Promise<void> {
    for (let i = 1; ; i++) {
      try {
        await this.opts.source.report(r);
        return;
      } catch (e) {
        if (i >= REPORT_TRIES) {
          this.stats.lost_reports++;
          this.opts.log.warn({ task: r.id, err: e }, 'could not hand a task result to the server; it is dropped (the server reports the task as timed out)');
          return;
        }
        await sleep(Math.min(500 * 2 ** i, 8000), this.stopping.signal);
      }
    }
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
