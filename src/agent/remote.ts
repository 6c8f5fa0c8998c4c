import { networkInterfaces } from 'node:os';
import type { Logger } from 'pino';
import { PlanSchema, type Plan } from '../plan/assignment.ts';
import { validate } from '../config/validate.ts';
import { VERSION } from '../version.ts';
import { localAddresses } from './builtin.ts';
import { AgentClient, AgentRequestError, longPollTimeout } from './client.ts';
import { AGENT_API, type Heartbeat, type HeartbeatReply, type PlanReply, type RoundsReply } from './protocol.ts';
import { Outbox } from './outbox.ts';
import { Scheduler } from './scheduler.ts';
import { Spool } from './spool.ts';
import { apiTaskSource, TaskRunner } from './tasks.ts';
import { Upgrader, type UpgraderOptions } from './upgrade.ts';

export interface RemoteAgentOptions {
  /** One server URL, or several separated by commas (see AgentClient). */
  server: string;
  name: string;
  secret: string;
  caFile?: string;
  /** --region, else SMOKEMESH_REGION; undefined lets the server's config decide. */
  region?: string;
  labels: Record<string, string>;
  spoolDir: string;
  spoolQuotaBytes?: number;
  publicAddress?: string;
  /** Interface whose first address is reported as the intranet address. */
  interface?: string;
  log: Logger;
  /** Rounds per push; default 500. */
  batchSize?: number;
  /** Seconds the server may hold a plan request; default 25. */
  planWait?: number;
  /** How long new rounds wait for others before a push, in ms; default 1000 (≤ ~1 push/s). */
  pushDelay?: number;
  /** false: run no diagnostic tasks (--no-tasks); the agent then never asks the server for them. */
  tasks?: boolean;
  /** Tasks run at once at most (the server sends no more than its tasks.per_agent.concurrency); default 4. */
  taskConcurrency?: number;
  /** Self-upgrade (./upgrade.ts); absent: the agent reports it as disabled. */
  upgrade?: Omit<UpgraderOptions, 'client' | 'log'>;
}

const MIN_BACKOFF = 500;
const MAX_BACKOFF = 10_000;

/**
 * A remote agent: pulls its plan from the server (long-poll, ETag), runs it with the shared
 * scheduler, writes every round to the spool first and pushes the spool to the server in
 * signed gzip batches; heartbeats report its version, addresses and spool state.
 */
export class RemoteAgent {
  readonly scheduler: Scheduler;
  readonly spool: Spool;
  /** Diagnostic tasks (mtr, traceroute…) the server sends; undefined with --no-tasks. */
  readonly tasks: TaskRunner | undefined;
  /** The spool, and a bounded memory queue while the spool cannot be written. */
  readonly outbox: Outbox;
  readonly upgrader: Upgrader;
  private readonly client: AgentClient;
  private readonly log: Logger;
  private readonly abort = new AbortController();
  private readonly startedAt = Date.now();
  private running = false;
  private loops: Promise<void>[] = [];
  private planEtag: string | undefined;
  private planVersion: string | undefined;
  private heartbeatS = 10;
  private wakeSender: (() => void) | undefined;
  private lastErr = new Map<string, { key: string; at: number }>();
  /** Rounds per push: --batch-size, halved while the server answers 413 (a batch over its body limit). */
  private batchSize: number;
  /** Counters for tests and the CLI's final line. */
  readonly stats = { sent: 0, rejected: 0, batches: 0, dropped: 0 };

  constructor(private readonly opts: RemoteAgentOptions) {
    this.log = opts.log.child({ agent: opts.name });
    this.client = new AgentClient({
      server: opts.server, agent: opts.name, secret: opts.secret, caFile: opts.caFile,
      onSwitch: (from, to, why) => this.log.warn({ from, to, backlog: this.outbox.backlog }, `moved to server ${to}: ${from} failed (${why}); the spool is sent there`),
    });
    this.spool = new Spool(opts.spoolDir, opts.spoolQuotaBytes, (m) => this.log.warn(`spool: ${m}`));
    this.outbox = new Outbox({ open: () => this.spool, log: this.log });
    this.batchSize = opts.batchSize ?? 500;
    this.scheduler = new Scheduler({
      agent: opts.name,
      log: this.log,
      emit: (rounds) => this.onRounds(rounds),
    });
    this.tasks = opts.tasks === false ? undefined
      : new TaskRunner({ source: apiTaskSource(this.client, this.log, opts.planWait ?? 25), log: this.log, concurrency: opts.taskConcurrency ?? 4 });
    this.upgrader = new Upgrader({
      key: undefined, layout: undefined, onSwitched: () => {}, onTrialFailed: () => {},
      ...opts.upgrade, client: this.client, log: this.log,
    });
  }

  /** Starts measuring the cached plan (if any) and the plan, heartbeat and push loops. */
  async start(): Promise<void> {
    this.running = true;
    const cached = this.spool.getMeta('plan');
    if (cached) {
      const plan = JSON.parse(cached) as Plan;
      if (validate(PlanSchema, plan).length === 0 && plan.agent === this.opts.name) {
        this.log.info({ targets: plan.assignments.length, version: plan.version }, 'measuring the cached plan until the server answers');
        await this.applyPlan(plan);
      }
    }
    const s = this.outbox.status();
    if (s.backlog) this.log.info({ backlog: s.backlog, oldest: s.oldest }, 'spool has rounds from before; they will be sent');
    this.loops = [this.heartbeatLoop(), this.planLoop(), this.sendLoop()];
    this.tasks?.start();
    this.upgrader.start();
  }

  /** Stops probing, tries briefly to push what is left, and closes the spool (rounds not sent stay in it). */
  async stop(flushMs = 3000): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.upgrader.stop();
    await Promise.all([this.scheduler.stop(), this.tasks?.stop()]);
    this.abort.abort();
    this.wakeSender?.();
    await Promise.allSettled(this.loops);
    const deadline = Date.now() + flushMs;
    try {
      while (this.outbox.backlog > 0 && Date.now() < deadline) await this.pushOnce();
    } catch {
      // The server is away: the rounds wait in the spool for the next start.
    }
    this.outbox.close();
    await this.client.close();
  }

  heartbeatPayload(): Heartbeat {
    const hb: Heartbeat = {
      version: VERSION,
      labels: this.opts.labels,
      addresses: {},
      spool: this.outbox.status(),
      started_at: this.startedAt,
      upgrade: this.upgrader.status(),
    };
    if (this.opts.region) hb.region = this.opts.region;
    const intranet = intranetAddress(this.opts.interface);
    if (intranet) hb.addresses.intranet = intranet;
    if (this.opts.publicAddress) hb.addresses.public = this.opts.publicAddress;
    if (this.planVersion) hb.plan_version = this.planVersion;
    return hb;
  }

  private onRounds(rounds: Parameters<Spool['append']>[0]): void {
    const before = this.outbox.status().dropped;
    this.outbox.add(rounds);
    this.stats.dropped += this.outbox.status().dropped - before;
    this.wakeSender?.();
  }

  private async sendHeartbeat(): Promise<void> {
    const r = await this.client.call<HeartbeatReply>('POST', AGENT_API.heartbeat, { json: this.heartbeatPayload(), signal: this.abort.signal });
    const reply = r.body!;
    if (reply.heartbeat !== this.heartbeatS) this.heartbeatS = reply.heartbeat;
    const from = this.client.server;
    if (reply.server && this.client.prefer(reply.server)) {
      this.log.info({ from, to: this.client.server }, `moved to server ${this.client.server}: it evaluates this agent's series (said ${from})`);
    }
    this.clearError('heartbeat');
  }

  private async heartbeatLoop(): Promise<void> {
    while (this.running) {
      try {
        await this.sendHeartbeat();
      } catch (e) {
        this.reportError('heartbeat', e);
      }
      await this.sleep(this.heartbeatS * 1000);
    }
  }

  private async planLoop(): Promise<void> {
    let backoff = MIN_BACKOFF;
    while (this.running) {
      try {
        const wait = this.opts.planWait ?? 25;
        const headers: Record<string, string> = this.planEtag ? { 'if-none-match': this.planEtag } : {};
        const r = await this.client.call<PlanReply>('GET', `${AGENT_API.plan}?wait=${wait}`, { headers, signal: this.abort.signal, timeoutMs: longPollTimeout(wait) });
        this.clearError('plan');
        backoff = MIN_BACKOFF;
        if (r.status === 304) continue;
        const reply = r.body!;
        this.planEtag = r.etag;
        this.heartbeatS = reply.heartbeat;
        if (reply.plan.version !== this.planVersion) {
          await this.applyPlan(reply.plan);
          this.spool.setMeta('plan', JSON.stringify(reply.plan));
          void this.sendHeartbeat().catch((e) => this.reportError('heartbeat', e));
        }
      } catch (e) {
        if (!this.running) return;
        if (e instanceof AgentRequestError && e.status === 428) {
          await this.sendHeartbeat().catch((err) => this.reportError('heartbeat', err));
          continue;
        }
        this.reportError('plan', e);
        await this.sleep(backoff);
        backoff = Math.min(backoff * 2, MAX_BACKOFF);
      }
    }
  }

  private async applyPlan(plan: Plan): Promise<void> {
    this.planVersion = plan.version;
    await this.scheduler.setPlan(plan.assignments);
    this.log.info({ version: plan.version, targets: plan.assignments.length, jobs: this.scheduler.stats.jobs }, 'plan applied');
    // Nothing to measure: a version on trial has nothing more to prove than talking to the server.
    if (plan.assignments.length === 0 && this.planEtag !== undefined) this.upgrader.healthy();
  }

  private async sendLoop(): Promise<void> {
    let backoff = MIN_BACKOFF;
    while (this.running) {
      if (this.outbox.backlog === 0) {
        await new Promise<void>((resolve) => {
          this.wakeSender = resolve;
        });
        this.wakeSender = undefined;
        // Let the rounds of the next moments land in the spool too: one push carries them all,
        // which bounds an agent to about one request per second however its jobs are spread.
        await this.sleep(this.opts.pushDelay ?? 1000);
        continue;
      }
      try {
        await this.pushOnce();
        backoff = MIN_BACKOFF;
        this.clearError('push');
      } catch (e) {
        if (!this.running) return;
        if (e instanceof AgentRequestError && e.status === 428) {
          await this.sendHeartbeat().catch((err) => this.reportError('heartbeat', err));
          continue;
        }
        if (e instanceof AgentRequestError && e.status === 413 && this.batchSize > 1) {
          this.batchSize = Math.max(1, Math.floor(this.batchSize / 2));
          this.log.warn({ batch_size: this.batchSize }, `push: the server refused a batch as too large; sending ${this.batchSize} rounds per push`);
          continue;
        }
        this.reportError('push', e);
        // 503: the server could not commit; it says when to try again.
        const wait = e instanceof AgentRequestError && e.retryAfterMs !== undefined ? Math.max(backoff, e.retryAfterMs) : backoff;
        await this.sleep(wait);
        backoff = Math.min(backoff * 2, MAX_BACKOFF);
      }
    }
  }

  /**
   * Sends one batch and removes what the server answered for: committed or refused for good.
   * A failed push (network, 503 while the server cannot commit) leaves it in the spool.
   */
  private async pushOnce(): Promise<void> {
    const batch = this.outbox.take(this.batchSize);
    if (batch.rounds.length === 0) return;
    const r = await this.client.call<RoundsReply>('POST', AGENT_API.rounds, { json: { rounds: batch.rounds } });
    const reply = r.body!;
    for (const rej of reply.rejected.slice(0, 5)) {
      const round = batch.rounds[rej.index];
      this.log.error({ target: round?.target, time: round?.time, error: rej.error }, 'server refused a round; it is dropped');
    }
    this.outbox.done(batch);
    this.stats.batches++;
    this.stats.sent += reply.accepted;
    this.stats.rejected += reply.rejected.length;
    if (reply.accepted > 0) this.upgrader.healthy();
    this.log.debug({ accepted: reply.accepted, rejected: reply.rejected.length, backlog: this.outbox.backlog }, 'batch sent');
  }

  /**
   * Logs a failure when it changes, then once a minute while it lasts; a server that cannot
   * commit (503) is logged once per outage, with the next success ("answers again").
   */
  private reportError(what: string, e: unknown): void {
    const err = e as AgentRequestError;
    const unavailable = err instanceof AgentRequestError && err.isUnavailable;
    const key = unavailable ? 'unavailable' : `${err.code}|${err.reason ?? ''}|${err.message}`;
    const prev = this.lastErr.get(what);
    const now = Date.now();
    if (prev && prev.key === key && (unavailable || now - prev.at < 60_000)) return;
    this.lastErr.set(what, { key, at: now });
    const fields = { op: what, status: err.status, code: err.code, reason: err.reason, backlog: this.outbox.backlog };
    if (err instanceof AgentRequestError && err.isAuth) {
      this.log.error(fields, `${err.code} (${err.reason}): the server refused agent "${this.opts.name}": ${err.message}`);
    } else if (unavailable) {
      this.log.warn(fields, `${what}: the server cannot store rounds right now (${err.code}): ${err.message}; rounds wait in the spool and are sent again with backoff`);
    } else {
      this.log.warn(fields, `${what} failed: ${err.message}; retrying (rounds wait in the spool)`);
    }
  }

  private clearError(what: string): void {
    if (this.lastErr.delete(what)) this.log.info({ op: what }, `${what}: the server answers again`);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      if (this.abort.signal.aborted) return resolve();
      const signal = this.abort.signal;
      const done = () => {
        clearTimeout(t);
        signal.removeEventListener('abort', done);
        resolve();
      };
      const t = setTimeout(done, ms);
      signal.addEventListener('abort', done, { once: true });
    });
  }
}

/** The address of the named interface, or the first non-loopback address of the host. */
export function intranetAddress(iface?: string): string | undefined {
  if (iface) {
    const list = networkInterfaces()[iface] ?? [];
    const v4 = list.find((a) => a.family === 'IPv4') ?? list[0];
    return v4?.address;
  }
  return localAddresses()[0];
}
