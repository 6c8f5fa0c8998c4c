import type { Logger } from 'pino';
import type { TasksConfig } from '../config/tasks-schema.ts';
import { comparePaths, hopsOfOutput } from './path.ts';
import { hostOfTarget } from './policy.ts';
import type { AgentResult, TaskRecord } from './record.ts';
import { TaskError, type TaskDispatch, type TraceHistory } from './service.ts';

/** A trace asked for by an alert (or a localization cause): who traces what, and why. */
export interface TraceRequest {
  /** What the trace belongs to (a series: target × agent; a cause): at most one trace per key per interval. */
  key: string;
  /** Target path. */
  target: string;
  /** The target's host as configured (a URL for http targets: its host is traced). */
  host: string;
  /** The agents that see the problem: each runs mtr to the host. */
  agents: readonly string[];
  /** Recorded as the task's creator, e.g. `alert someloss raised on /Net/r from tokyo-1`. */
  reason: string;
}

/** What a trace found, short enough for a notification. */
export interface TraceNote {
  /** Task id, when a trace ran. */
  task?: string;
  /** Where loss starts or that the path is clean, per agent; or why there is no trace. */
  summary: string;
  /** What changed since the previous trace of the same key ("path changed at hop 3"). */
  changes: string[];
}

/**
 * Runs the traces alerts ask for: mtr from the agents that see the problem to the target,
 * at most one per key per `tasks.auto_trace.min_interval_s`, waited for at most
 * `max_wait_s`, summarized and compared with the previous trace of the same key.
 */
export class AutoTracer {
  private last = new Map<string, number>();

  /** `history`: where the last trace of a key is found (this server's task database, or the cluster's). */
  constructor(private readonly deps: { service: TaskDispatch; history: TraceHistory; settings: () => TasksConfig; log: Logger; now?: () => number }) {}

  /** Runs one trace and resolves with its note; never rejects. */
  async trace(req: TraceRequest): Promise<TraceNote> {
    const now = (this.deps.now ?? Date.now)();
    const s = this.deps.settings();
    if (!s.enabled) return { summary: 'no trace: tasks are disabled (tasks.enabled: false)', changes: [] };
    const minMs = s.auto_trace.min_interval_s * 1000;
    const tooSoon = (previous: number | undefined): TraceNote | undefined => (previous !== undefined && now - previous < minMs
      ? { summary: `no trace: the last one for this series ran ${Math.round((now - previous) / 1000)} s ago (tasks.auto_trace.min_interval_s: ${s.auto_trace.min_interval_s})`, changes: [] }
      : undefined);
    const known = this.last.get(req.key);
    const soon = tooSoon(known);
    if (soon) return soon;
    // Claimed now (before the database is asked), so that a second request for the key meanwhile waits its turn.
    this.last.set(req.key, now);
    if (known === undefined) {
      try {
        const previous = await this.deps.history.lastTraceTime(req.key);
        const early = tooSoon(previous);
        if (early) {
          this.last.set(req.key, previous!);
          return early;
        }
      } catch (e) {
        this.last.delete(req.key);
        this.deps.log.warn({ key: req.key, err: e }, `alert trace not run: ${(e as Error).message}`);
        return { summary: `no trace: ${(e as Error).message}`, changes: [] };
      }
    }
    for (const [k, t] of this.last) if (now - t >= minMs) this.last.delete(k);
    let rec: TaskRecord | undefined;
    try {
      rec = await this.deps.service.create({
        kind: 'mtr', params: { host: hostOfTarget(req.host), count: s.auto_trace.count, interval: s.auto_trace.interval, grace: s.auto_trace.grace },
        agents: req.agents, choice: { names: [...req.agents] }, createdBy: req.reason, origin: 'alert', target: req.target, traceKey: req.key,
      });
      rec = await this.deps.service.finished(rec.id, s.auto_trace.max_wait_s * 1000);
    } catch (e) {
      const why = e instanceof TaskError ? e.message : `failed: ${(e as Error).message}`;
      this.deps.log.warn({ key: req.key, err: e }, `alert trace not run: ${why}`);
      return { summary: `no trace: ${why}`, changes: [] };
    }
    if (!rec) return { summary: 'no trace: the task vanished (pruned?)', changes: [] };
    const before = await Promise.resolve(this.deps.history.previousTrace(req.key, rec.created)).catch(() => undefined);
    const multi = rec.results.length > 1;
    const summary = rec.results.map((r) => (multi ? `${r.agent}: ` : '') + resultLine(r)).join('; ');
    const changes: string[] = [];
    for (const r of rec.results) {
      const was = before?.results.find((x) => x.agent === r.agent);
      const a = was && hopsOfOutput(before!.kind, was.output);
      const b = hopsOfOutput(rec.kind, r.output);
      if (!a || !b) continue;
      const diff = comparePaths(a.hops, b.hops, b.destination);
      changes.push(...diff.map((d) => (multi ? `${r.agent}: ${d}` : d)));
    }
    return { task: rec.id, summary, changes };
  }
}

/** One agent's part in a line: the path verdict, or what became of it. */
function resultLine(r: AgentResult): string {
  if (r.summary) return r.summary;
  if (r.status === 'running' || r.status === 'queued') return `trace still ${r.status}`;
  return `trace ${r.status}${r.error ? `: ${r.error}` : ''}`;
}
