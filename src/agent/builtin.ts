import { networkInterfaces } from 'node:os';
import type { Logger } from 'pino';
import type { TargetNode } from '../config/tree.ts';
import { isUnavailable, UnavailableError } from '../errors.ts';
import { planFor, type AgentIdentity } from '../plan/plan.ts';
import type { Round } from '../probes/round.ts';
import type { AgentInfo } from '../plan/agent-info.ts';
import type { WriteResult } from '../store/types.ts';
import { VERSION } from '../version.ts';
import { Outbox } from './outbox.ts';
import type { SpoolStatus } from './protocol.ts';
import { Scheduler } from './scheduler.ts';
import { Spool } from './spool.ts';

export interface BuiltinAgentOptions {
  name: string;
  region: string;
  log: Logger;
  /** The server's ingest: resolves once the rounds are committed, throws SMOKEMESH_E_UNAVAILABLE when nothing could be. */
  ingest: { accept(r: readonly Round[]): WriteResult | Promise<WriteResult> };
  /** Directory of the durable outbox (in the data dir): rounds wait there while the store cannot commit. */
  outboxDir: string;
  /** Rounds held in memory when even the outbox cannot be written (default outbox.ts MEMORY_LIMIT). */
  memoryLimit?: number;
}

const BATCH = 2000;
const MIN_BACKOFF = 250;
const MAX_BACKOFF = 5000;

/**
 * The server's own agent: it gets its plan from the same planner and hands its rounds to the
 * same ingest as remote agents do, in-process (no HTTP hop). A round is handed to the ingest at
 * once while the store commits; when the store cannot (SMOKEMESH_E_UNAVAILABLE) the round goes
 * to the agent's own durable outbox (a spool in the data dir, memory while even that cannot be
 * written) and a sender loop delivers the backlog with backoff, so that rounds survive a
 * disk-full period and a restart.
 */
export class BuiltinAgent {
  readonly scheduler: Scheduler;
  readonly outbox: Outbox;
  private planVersion = '';
  private readonly log: Logger;
  private running = true;
  private failing: string | undefined;
  private wake: (() => void) | undefined;
  private readonly sender: Promise<void>;
  private readonly inFlight = new Set<Promise<unknown>>();

  constructor(private readonly opts: BuiltinAgentOptions) {
    this.log = opts.log.child({ agent: opts.name });
    this.outbox = new Outbox({
      open: () => new Spool(opts.outboxDir, undefined, (m) => this.log.warn(`outbox: ${m}`)),
      log: this.log,
      ...(opts.memoryLimit !== undefined ? { memoryLimit: opts.memoryLimit } : {}),
    });
    this.scheduler = new Scheduler({
      agent: opts.name,
      log: this.log,
      emit: (rounds) => this.onRounds(rounds),
    });
    const backlog = this.outbox.backlog;
    if (backlog) this.log.info({ backlog }, 'outbox has rounds from before; they will be stored');
    this.sender = this.sendLoop();
  }

  /** Rounds waiting in the outbox (disk and memory) and those dropped because even memory was full. */
  outboxStatus(): SpoolStatus {
    return this.outbox.status();
  }

  /**
   * Applies the plan of the given live tree, sharded among `peers` (the live agents); a no-op
   * when nothing changed for this agent.
   */
  async setPlan(tree: TargetNode, peers: AgentIdentity[] = []): Promise<void> {
    const plan = planFor(tree, { name: this.opts.name, region: this.opts.region, labels: {}, builtin: true }, peers);
    if (plan.version === this.planVersion) return;
    this.planVersion = plan.version;
    await this.scheduler.setPlan(plan.assignments);
    this.opts.log.info({ agent: this.opts.name, targets: plan.assignments.length, jobs: this.scheduler.stats.jobs }, 'plan applied');
  }

  info(): AgentInfo {
    const addresses = localAddresses();
    const info: AgentInfo = {
      name: this.opts.name,
      region: this.opts.region,
      labels: {},
      addresses,
      version: VERSION,
      last_seen: Date.now(),
      alive: true,
      builtin: true,
    };
    if (addresses[0]) info.intranet_address = addresses[0];
    return info;
  }

  /** Stops probing and the sender; rounds not yet stored stay in the outbox for the next start. */
  async stop(): Promise<void> {
    await this.scheduler.stop();
    await Promise.allSettled([...this.inFlight]);
    this.running = false;
    this.wake?.();
    await this.sender;
    this.outbox.close();
  }

  /** Straight to the ingest while the store commits and nothing waits; else through the outbox. */
  private onRounds(rounds: Round[]): void {
    if (this.failing !== undefined || this.outbox.backlog > 0) {
      this.outbox.add(rounds);
      this.wake?.();
      return;
    }
    const p = this.deliver(rounds).catch((e: unknown) => {
      this.outbox.add(rounds);
      this.fail(e);
      this.wake?.();
    });
    this.inFlight.add(p);
    void p.finally(() => this.inFlight.delete(p));
  }

  private async deliver(rounds: Round[]): Promise<void> {
    const res = await this.opts.ingest.accept(rounds);
    for (const x of res.refused.slice(0, 5)) {
      const r = rounds[x.index];
      this.log.error({ target: r?.target, time: r?.time, field: x.field, error: x.message }, 'the store refused a round; it is dropped');
    }
  }

  /** Delivers the outbox backlog, oldest and newest first, with backoff while the store cannot commit. */
  private async sendLoop(): Promise<void> {
    let backoff = MIN_BACKOFF;
    while (this.running) {
      const batch = this.outbox.take(BATCH);
      if (batch.rounds.length === 0) {
        // Woken by new rounds in the outbox; a timeout also lets rounds held in memory settle on disk.
        await this.sleep(this.outbox.backlog ? backoff : 5000, true);
        continue;
      }
      try {
        await this.deliver(batch.rounds);
      } catch (e) {
        this.fail(e);
        await this.sleep(Math.max(backoff, e instanceof UnavailableError ? e.retryAfterMs : 0));
        backoff = Math.min(backoff * 2, MAX_BACKOFF);
        continue;
      }
      backoff = MIN_BACKOFF;
      try {
        this.outbox.done(batch);
      } catch (e) {
        // Stored but still in the outbox: sent again later, a harmless duplicate.
        this.log.warn({ err: e }, 'outbox: cannot delete delivered rounds; they will be sent again (harmless)');
        await this.sleep(backoff);
      }
      if (this.failing !== undefined && this.outbox.backlog === 0) {
        this.failing = undefined;
        this.log.info('the store takes rounds again; the outbox is empty');
      }
    }
  }

  /** Logged once per kind of failure, not per batch. */
  private fail(e: unknown): void {
    const msg = (e as Error)?.message ?? String(e);
    if (this.failing === msg) return;
    const first = this.failing === undefined;
    this.failing = msg;
    const what = isUnavailable(e) ? 'the store cannot commit' : 'storing rounds failed';
    this.log.warn({ err: e, backlog: this.outbox.backlog }, `${what}: ${msg}; rounds wait in the outbox (${this.opts.outboxDir}) and are retried${first ? '' : ' (the failure changed)'}`);
  }

  private sleep(ms: number, wakeable = false): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(t);
        if (this.wake === done) this.wake = undefined;
        resolve();
      };
      // The sender never keeps the process alive by itself: what it has not delivered waits in the outbox.
      const t = setTimeout(done, ms).unref();
      // While backing off, new rounds must not shorten the wait; a stop always does.
      this.wake = wakeable ? done : () => { if (!this.running) done(); };
    });
  }
}

/** Non-loopback addresses of this host, IPv4 first. */
export function localAddresses(): string[] {
  const out: string[] = [];
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (!a.internal) out.push(a.address);
  }
  return out.sort((a, b) => Number(a.includes(':')) - Number(b.includes(':')));
}
