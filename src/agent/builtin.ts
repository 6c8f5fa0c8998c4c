import { networkInterfaces } from 'node:os';
import type { Logger } from 'pino';
import type { TargetNode } from '../config/tree.ts';
import { planFor, type AgentIdentity } from '../plan/plan.ts';
import type { Round } from '../probes/round.ts';
import type { AgentInfo } from '../plan/agent-info.ts';
import { VERSION } from '../version.ts';
import { Scheduler } from './scheduler.ts';

/**
 * The server's own agent: it gets its plan from the same planner and hands its rounds to the
 * same ingest as remote agents do, in-process (no HTTP hop).
 */
export class BuiltinAgent {
  readonly scheduler: Scheduler;
  private planVersion = '';

  constructor(private readonly opts: { name: string; region: string; log: Logger; ingest: { accept(r: readonly Round[]): void } }) {
    this.scheduler = new Scheduler({
      agent: opts.name,
      log: opts.log.child({ agent: opts.name }),
      emit: (rounds) => opts.ingest.accept(rounds),
    });
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

  stop(): Promise<void> {
    return this.scheduler.stop();
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
