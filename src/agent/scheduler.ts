import type { Logger } from 'pino';
import type { Assignment } from '../plan/assignment.ts';
import { probeFor } from '../probes/index.ts';
import type { Probe } from '../probes/probe.ts';
import { makeRound, type ProbeType, type Round } from '../probes/round.ts';
import { buildJobs, nextStart, type Job } from './jobs.ts';

/** How often a probe that could not run is asked again (at its next round after this). */
const RECHECK_MS = 60_000;

export interface SchedulerStats {
  rounds: number;
  overruns: number;
  errors: number;
  jobs: number;
  running: number;
}

export interface SchedulerOptions {
  agent: string;
  log: Logger;
  /** Receives every finished round (in batches, one per job run). */
  emit: (rounds: Round[]) => void;
  /** Probe lookup; tests may substitute. */
  probeFor?: (type: ProbeType) => Probe;
  now?: () => number;
}

/**
 * Runs an agent's plan: every job once per step at its offset, never two runs of the same job at
 * once (a run still going when the next is due is an overrun: logged, counted, skipped).
 */
export class Scheduler {
  private jobs: Job[] = [];
  private next = new Map<string, number>();
  private running = new Map<string, Promise<void>>();
  private timer: NodeJS.Timeout | undefined;
  private abort = new AbortController();
  private stopped = false;
  /** Why each probe type cannot run (undefined: it can), and when that was last checked. */
  private unavailable = new Map<ProbeType, { why: string | undefined; at: number }>();
  readonly stats: SchedulerStats = { rounds: 0, overruns: 0, errors: 0, jobs: 0, running: 0 };
  private readonly lookup: (type: ProbeType) => Probe;
  private readonly now: () => number;

  constructor(private readonly opts: SchedulerOptions) {
    this.lookup = opts.probeFor ?? probeFor;
    this.now = opts.now ?? Date.now;
  }

  /** Replaces the plan; jobs that keep their key keep their schedule. Reports probes that cannot run. */
  async setPlan(assignments: Assignment[]): Promise<void> {
    for (const type of new Set(assignments.map((a) => a.probe))) {
      // A probe that could not run is checked again with each new plan (fping installed since).
      const known = this.unavailable.get(type);
      if (!known || known.why !== undefined) {
        await this.checkProbe(type, assignments.filter((a) => a.probe === type).length);
      }
    }
    this.jobs = buildJobs(assignments, (t) => this.lookup(t).batch, this.opts.agent);
    const now = this.now();
    const next = new Map<string, number>();
    for (const j of this.jobs) next.set(j.key, this.next.get(j.key) ?? nextStart(j, now));
    this.next = next;
    this.stats.jobs = this.jobs.length;
    this.arm();
  }

  /** Stops scheduling, aborts running rounds and waits for them to return. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.abort.abort();
    await Promise.allSettled(this.running.values());
  }

  /** Runs every job once now (used by tests and `--once`), resolving when all are done. */
  async runOnce(): Promise<void> {
    await Promise.all(this.jobs.map((j) => this.start(j, this.now())));
  }

  private arm(): void {
    clearTimeout(this.timer);
    if (this.stopped || this.jobs.length === 0) return;
    let soonest = Infinity;
    for (const t of this.next.values()) soonest = Math.min(soonest, t);
    const delay = Math.max(0, Math.min(soonest - this.now(), 2 ** 31 - 1));
    this.timer = setTimeout(() => this.tick(), delay);
    this.timer.unref?.();
  }

  private tick(): void {
    const now = this.now();
    for (const job of this.jobs) {
      const due = this.next.get(job.key)!;
      if (due > now) continue;
      this.next.set(job.key, nextStart(job, now + 1));
      if (this.running.has(job.key)) {
        this.stats.overruns++;
        this.opts.log.warn({ job: job.key, targets: job.assignments.length, step: job.step }, 'round overran its step; skipping this run');
        continue;
      }
      void this.start(job, now);
    }
    this.arm();
  }

  private start(job: Job, time: number): Promise<void> {
    const run = this.runJob(job, time).finally(() => {
      this.running.delete(job.key);
      this.stats.running = this.running.size;
    });
    this.running.set(job.key, run);
    this.stats.running = this.running.size;
    return run;
  }

  /** Asks the probe whether it can run; logs a change of the answer. */
  private async checkProbe(type: ProbeType, targets: number): Promise<void> {
    const before = this.unavailable.get(type);
    const why = await this.lookup(type).unavailable?.();
    this.unavailable.set(type, { why, at: this.now() });
    if (why && why !== before?.why) {
      this.opts.log.error({ probe: type, targets }, `${type} probe cannot run: ${why} (${targets} targets will report it as their error; other probes keep working; checked again every ${RECHECK_MS / 1000} s)`);
    } else if (!why && before?.why) {
      this.opts.log.info({ probe: type, targets }, `${type} probe can run again`);
    }
  }

  private async runJob(job: Job, time: number): Promise<void> {
    const probe = this.lookup(job.probe);
    const targets = job.assignments.map((a) => ({ path: a.target, host: a.host, params: a.params as never }));
    let measurements;
    const last = this.unavailable.get(job.probe);
    // A probe found unable to run is asked again now and then: what stopped it may be gone.
    if (last?.why !== undefined && this.now() - last.at >= RECHECK_MS) await this.checkProbe(job.probe, targets.length);
    const why = this.unavailable.get(job.probe)?.why;
    try {
      measurements = why
        ? targets.map((t) => ({ sent: Number((t.params as { pings: number }).pings), rtts: [], error: why }))
        : await probe.measure(targets, this.abort.signal);
    } catch (e) {
      this.stats.errors++;
      this.opts.log.error({ job: job.key, err: e }, 'probe failed for the whole batch');
      return;
    }
    if (this.abort.signal.aborted) return;
    const rounds = job.assignments.map((a, i) => makeRound(
      { target: a.target, agent: this.opts.agent, probe: a.probe, time, step: job.step },
      measurements[i] ?? { sent: Number(a.params.pings), rtts: [], error: 'probe returned no result' },
    ));
    this.stats.rounds += rounds.length;
    this.opts.emit(rounds);
  }
}
