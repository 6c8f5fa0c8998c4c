import type { Logger } from 'pino';
import type { Config } from '../../config/loader.ts';
import type { AgentEntry } from '../../config/agents-schema.ts';
import { readSecretFile } from '../../auth/secret.ts';
import { NonceCache } from '../../auth/nonce-cache.ts';
import { formatIssue, SmokemeshError } from '../../errors.ts';
import { hostname } from 'node:os';
import { AgentsSectionSchema } from '../../config/agents-schema.ts';
import { collectIssues, type ConfigSection, type IssueAt } from '../../config/section.ts';
import { planFor, type AgentIdentity } from '../../plan/plan.ts';
import type { Plan } from '../../plan/assignment.ts';
import type { TargetNode } from '../../config/tree.ts';
import type { Heartbeat, SpoolStatus } from '../../agent/protocol.ts';
import type { AgentInfo } from '../context.ts';

/** The live target tree and the live agents among which sharded targets are split. */
export interface TreeView {
  targets(): TargetNode;
  peers(): AgentIdentity[];
}

/** What the alert engine is told when an agent stops or starts being heard from. */
export type AgentEventHook = (agent: AgentInfo, event: 'down' | 'up') => void;

/** Everything the server knows about one remote agent. */
export interface AgentState {
  entry: AgentEntry;
  secret: string;
  /** Effective identity: the agent's own region/labels over the config's. Set by the first heartbeat. */
  region: string;
  labels: Record<string, string>;
  hello?: Heartbeat;
  plan?: Plan;
  targets: Set<string>;
  last_seen?: number;
  alive: boolean;
  /** Whether a 'down' event was sent and no 'up' since. */
  down: boolean;
  rounds_accepted: number;
  rounds_rejected: number;
  auth_failures: number;
  remote_ip?: string;
}

/** Reads the agents section with its secrets; `issues` names each problem (file:line: …). */
export function loadAgentEntries(config: Config, builtinName: string): { states: Map<string, { entry: AgentEntry; secret: string }>; issues: string[] } {
  const { issue, issues } = collectIssues(config);
  const states = readAgentEntries(config, builtinName, issue);
  return { states, issues: issues.map(formatIssue) };
}

/** The `agents:` entry of the list of sections: names unique, not the built-in agent's, secrets readable and private. */
export const agentsSection: ConfigSection = {
  key: 'agents',
  schema: AgentsSectionSchema,
  check: (c) => void readAgentEntries(c.config, c.config.general.agent_name ?? hostname(), c.error),
};

function readAgentEntries(config: Config, builtinName: string, issue: IssueAt): Map<string, { entry: AgentEntry; secret: string }> {
  const entries = Array.isArray(config.raw.agents) ? (config.raw.agents as AgentEntry[]) : [];
  const states = new Map<string, { entry: AgentEntry; secret: string }>();
  entries.forEach((entry, i) => {
    if (typeof entry?.name !== 'string' || typeof entry.secret_file !== 'string') return; // the schema said why
    if (states.has(entry.name)) return issue(['agents', i, 'name'], `agent "${entry.name}" is listed twice`);
    if (entry.name === builtinName) return issue(['agents', i, 'name'], `"${entry.name}" is the name of the server's built-in agent (general.agent_name or the host name); choose another`);
    try {
      states.set(entry.name, { entry, secret: readSecretFile(entry.secret_file) });
    } catch (e) {
      issue(['agents', i, 'secret_file'], (e as Error).message);
    }
    return undefined;
  });
  return states;
}

/**
 * The remote agents: who may connect (config + secrets), who they say they are (heartbeats),
 * their plans (recomputed on reload, pushed to long-polls) and whether they are alive.
 */
export class AgentRegistry {
  readonly nonces = new NonceCache();
  private agents = new Map<string, AgentState>();
  private waiters = new Map<string, Set<() => void>>();
  private timer: NodeJS.Timeout;
  private readonly startedAt = Date.now();
  private closed = false;
  /** Called on agent-down / agent-up; the alert engine connects its agentEvent here. */
  onAgentEvent: AgentEventHook | undefined;
  /**
   * In a cluster an agent talks to one server: agent-down / agent-up are judged over the
   * cluster and told by one server (src/cluster/agents.ts). The registry then keeps its own
   * state (heard from here or not) without telling it or logging it as the agent's.
   */
  clustered = false;
  /**
   * `view` answers with the live target tree and the live agents that share sharded targets
   * (the mesh, src/plan/live.ts); both are asked for at every replan.
   */
  constructor(config: Config, private readonly builtinName: string, private readonly log: Logger, private readonly view: TreeView) {
    const { states, issues } = loadAgentEntries(config, builtinName);
    if (issues.length) throw new SmokemeshError('SMOKEMESH_E_CONFIG', issues.join('\n'));
    for (const [name, s] of states) this.agents.set(name, this.fresh(s.entry, s.secret));
    this.timer = setInterval(() => this.checkLiveness(), 1000);
    this.timer.unref();
  }

  /** Applies a reloaded config: new agents and secrets, dropped agents, recomputed plans. */
  apply(config: Config): void {
    const { states, issues } = loadAgentEntries(config, this.builtinName);
    if (issues.length) {
      this.log.error({ issues }, 'agents section refused; keeping the previous agents');
      return;
    }
    const next = new Map<string, AgentState>();
    for (const [name, s] of states) {
      const old = this.agents.get(name);
      const st = old ?? this.fresh(s.entry, s.secret);
      st.entry = s.entry;
      st.secret = s.secret;
      next.set(name, st);
      if (st.hello) this.identify(st, st.hello);
    }
    for (const name of this.agents.keys()) if (!next.has(name)) this.log.info({ agent: name }, 'agent removed from the config; it can no longer connect');
    this.agents = next;
    for (const name of this.waiters.keys()) this.wake(name);
  }

  secretOf(name: string): string | undefined {
    return this.agents.get(name)?.secret;
  }

  get(name: string): AgentState | undefined {
    return this.agents.get(name);
  }

  /** Marks an authenticated request: the agent is alive. */
  seen(name: string, ip?: string, now = Date.now()): void {
    const st = this.agents.get(name);
    if (!st) return;
    st.last_seen = now;
    if (ip) st.remote_ip = ip;
    if (!st.alive) {
      st.alive = true;
      if (this.clustered) this.log.info({ agent: name, ip }, `agent ${name} talks to this server`);
      else this.log.info({ agent: name, ip }, `agent ${name} is up`);
      if (st.down) {
        st.down = false;
        this.emit(st, 'up');
      }
    }
  }

  /** Records a heartbeat; recomputes the plan when the agent's identity changed. */
  heartbeat(name: string, hb: Heartbeat): AgentState {
    const st = this.agents.get(name)!;
    const prevDropped = st.hello?.spool.dropped ?? 0;
    if (hb.spool.dropped > prevDropped && st.hello) {
      this.log.warn({ agent: name, dropped: hb.spool.dropped - prevDropped, total: hb.spool.dropped }, `agent ${name} dropped rounds: its spool reached its disk quota while the server was unreachable`);
    } else if (!st.hello && hb.spool.dropped > 0) {
      this.log.warn({ agent: name, total: hb.spool.dropped }, `agent ${name} reports ${hb.spool.dropped} rounds dropped by its spool quota so far`);
    }
    if (!st.hello) this.log.info({ agent: name, version: hb.version, region: hb.region, addresses: hb.addresses, backlog: hb.spool.backlog }, `agent ${name} connected`);
    this.identify(st, hb);
    return st;
  }

  /** Spool figures last reported by the agent. */
  spoolOf(name: string): SpoolStatus | undefined {
    return this.agents.get(name)?.hello?.spool;
  }

  /** The plan's ETag: changes with the assignments and with the heartbeat period. */
  etag(st: AgentState): string {
    return `"${st.plan!.version}.${st.entry.heartbeat}"`;
  }

  /** Resolves when this agent's plan ETag differs from `etag`, or after `ms`, or on shutdown. */
  waitForChange(name: string, etag: string, ms: number): Promise<void> {
    const st = this.agents.get(name);
    if (!st?.plan || this.etag(st) !== etag || this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      let set = this.waiters.get(name);
      if (!set) this.waiters.set(name, (set = new Set()));
      const done = () => {
        clearTimeout(t);
        set!.delete(done);
        resolve();
      };
      const t = setTimeout(done, ms);
      set.add(done);
    });
  }

  /** Recomputes the plan of every agent that said hello (the target tree or the live agents changed). */
  replan(): void {
    for (const st of this.agents.values()) if (st.hello) this.identify(st, st.hello);
  }

  /** Every remote agent in config order, as the API shows them. */
  list(): AgentInfo[] {
    return [...this.agents.values()].map((st) => this.info(st));
  }

  info(st: AgentState): AgentInfo {
    const a: AgentInfo = {
      name: st.entry.name,
      region: st.region,
      labels: st.labels,
      addresses: [st.hello?.addresses.intranet, st.hello?.addresses.public].filter((x): x is string => !!x),
      alive: st.alive,
      builtin: false,
    };
    if (st.entry.display_name) a.display_name = st.entry.display_name;
    if (st.entry.color) a.color = st.entry.color;
    if (st.entry.location) a.location = st.entry.location;
    if (st.hello) a.version = st.hello.version;
    if (st.hello?.upgrade) a.upgrade = st.hello.upgrade;
    if (st.hello?.addresses.intranet) a.intranet_address = st.hello.addresses.intranet;
    if (st.hello?.addresses.public) a.public_address = st.hello.addresses.public;
    if (st.last_seen) a.last_seen = st.last_seen;
    return a;
  }

  /** Wakes every long-poll (so the HTTP server can close) and stops the liveness timer. */
  close(): void {
    this.closed = true;
    clearInterval(this.timer);
    for (const name of [...this.waiters.keys()]) this.wake(name);
  }

  /** Marks agents down after 3 missed heartbeats (also those never heard from since start). */
  checkLiveness(now = Date.now()): void {
    for (const st of this.agents.values()) {
      const limit = 3 * st.entry.heartbeat * 1000;
      const since = st.last_seen ?? this.startedAt;
      if (now - since <= limit || st.down) continue;
      if (st.alive) st.alive = false;
      st.down = true;
      const ago = st.last_seen ? `last seen ${Math.round((now - st.last_seen) / 1000)} s ago` : 'not heard from since the server started';
      if (this.clustered) {
        // Not news unless it talked to this server: it may talk to another one.
        if (st.last_seen) this.log.info({ agent: st.entry.name, last_seen: st.last_seen }, `agent ${st.entry.name} no longer talks to this server: ${ago}`);
        continue;
      }
      this.log.warn({ agent: st.entry.name, last_seen: st.last_seen }, `agent ${st.entry.name} is down: ${ago}`);
      this.emit(st, 'down');
    }
  }

  private emit(st: AgentState, event: 'down' | 'up'): void {
    if (this.clustered) return;
    try {
      this.onAgentEvent?.(this.info(st), event);
    } catch (e) {
      this.log.error({ err: e, agent: st.entry.name, event }, 'agent event hook failed');
    }
  }

  private fresh(entry: AgentEntry, secret: string): AgentState {
    return {
      entry, secret, region: entry.region ?? 'default', labels: { ...entry.labels }, targets: new Set(),
      alive: false, down: false, rounds_accepted: 0, rounds_rejected: 0, auth_failures: 0,
    };
  }

  private identify(st: AgentState, hb: Heartbeat): void {
    st.hello = hb;
    st.region = hb.region ?? st.entry.region ?? 'default';
    st.labels = { ...st.entry.labels, ...hb.labels };
    const before = st.plan ? this.etag(st) : undefined;
    st.plan = planFor(this.view.targets(), { name: st.entry.name, region: st.region, labels: st.labels, builtin: false }, this.view.peers());
    st.targets = new Set(st.plan.assignments.map((a) => a.target));
    if (before !== this.etag(st)) {
      if (before) this.log.info({ agent: st.entry.name, version: st.plan.version, targets: st.targets.size }, `new plan for agent ${st.entry.name}`);
      this.wake(st.entry.name);
    }
  }

  private wake(name: string): void {
    for (const w of [...(this.waiters.get(name) ?? [])]) w();
  }
}
