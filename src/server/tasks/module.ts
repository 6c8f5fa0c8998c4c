import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { join, resolve } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { TaskRunner } from '../../agent/tasks.ts';
import type { AlertRule } from '../../alerts/config.ts';
import type { AlertEvent } from '../../alerts/notifiers/notifier.ts';
import type { Config } from '../../config/loader.ts';
import type { TasksConfig } from '../../config/tasks-schema.ts';
import { probedTargets, type TargetNode } from '../../config/tree.ts';
import { selects, type AgentIdentity } from '../../plan/plan.ts';
import { openTaskDb } from '../../tasks/db.ts';
import { buildPolicy, hostOfTarget, tasksOf, type TaskPolicy } from '../../tasks/policy.ts';
import { ensurePrivateDir } from '../../private-files.ts';
import { chooseAgents } from '../../tasks/select.ts';
import { TaskError, TaskService, type TaskDispatch } from '../../tasks/service.ts';
import { SmokemeshError } from '../../errors.ts';
import { SharedTaskService } from '../../tasks/shared.ts';
import type { ClusterAgents, PollState } from '../../cluster/agents.ts';
import type { ClusterDb } from '../../cluster/postgres.ts';
import { pgTaskDb } from '../../cluster/tasks-pg.ts';
import { AutoTracer, type TraceRequest } from '../../tasks/traces.ts';
import { agentTaskRoutes } from '../agents/task-routes.ts';
import type { ServerContext, ServerModule } from '../context.ts';
import { taskRoutes } from './routes.ts';

export interface TasksModule extends ServerModule {
  service: TaskDispatch;
  tracer: AutoTracer;
  /** The agent API's task routes, for the agents module to register in its signed scope. */
  agentRoutes(api: FastifyInstance): void;
  /** The alert engine's event hook: runs the traces `trace: true` alerts ask for and attaches them. */
  onAlertEvent(event: AlertEvent, rule: AlertRule): Promise<void> | undefined;
  /** Traces for a localization cause (or anything else): mtr from the given agents to a target. */
  trace(req: TraceRequest): ReturnType<AutoTracer['trace']>;
  /** In a cluster: the agents' task polls on this server (written to the shared table of agents). */
  pollState?(): PollState;
}

/** Most name lookups of target hosts in flight at once while building the policy. */
const LOOKUPS = 16;

/**
 * Diagnostic tasks in the server: the task service and its database, the policy (rebuilt
 * when the config changes, with the targets' names resolved in the background), the routes,
 * the built-in agent's task runner (in-process, through the service's take/report, as
 * remote agents do over HTTP) and alert traces.
 */
export function createTasksModule(deps: {
  ctx: ServerContext;
  log: Logger;
  /** The current plan's targets of a remote agent, when it has one (the agents that probe X). */
  planOf: (agent: string) => ReadonlySet<string> | undefined;
  /** In a cluster: tasks are shared through its database (src/tasks/shared.ts) instead of this server's tasks.sqlite. */
  cluster?: SharedTasksSetup;
}): TasksModule {
  const { ctx } = deps;
  const log = deps.log.child({ module: 'tasks' });
  const settings = (): TasksConfig => tasksOf(ctx.config());
  const tree = (): TargetNode => ctx.targets();
  const dir = resolve(ctx.config().general.data_dir);
  const note = (m: string) => log.warn(`tasks: ${m}`);
  ensurePrivateDir(dir, note);

  // The policy: rebuilt when the config or the live tree (mesh members come and go) changes;
  // target names at once, the addresses they resolve to once looked up.
  let policy: TaskPolicy = buildPolicy(settings().allow, [], []);
  let builtFor: { config: Config; tree: TargetNode } | undefined;
  const currentPolicy = (): TaskPolicy => {
    const config = ctx.config();
    const live = tree();
    if (builtFor?.config === config && builtFor.tree === live) return policy;
    builtFor = { config, tree: live };
    const mine = builtFor;
    const hosts = probedTargets(live).map((t) => t.probe.host);
    policy = buildPolicy(tasksOf(config).allow, hosts, []);
    const names = tasksOf(config).allow.targets ? [...new Set(hosts.map(hostOfTarget).filter((h) => !isIP(h)))] : [];
    if (names.length) {
      void resolveAll(names).then((addresses) => {
        if (builtFor === mine) policy = buildPolicy(tasksOf(config).allow, hosts, addresses);
      });
    }
    return policy;
  };
  currentPolicy(); // start resolving the target names now

  const { service, tracer, agentsKnown, pollState, close: closeStore } = deps.cluster
    ? sharedTasks(deps.cluster, ctx, log, settings, currentPolicy)
    : localTasks(join(dir, 'tasks.sqlite'), ctx, log, settings, currentPolicy, note);

  // The built-in agent takes its tasks in-process through the same two calls.
  const builtin = ctx.builtinAgent;
  const runner = new TaskRunner({
    log: log.child({ agent: builtin }),
    source: {
      next: (signal) => service.take(builtin, 25_000, signal),
      report: async (r) => {
        const { rejected } = await service.report(builtin, [r]);
        for (const rej of rejected) log.warn({ task: r.id, error: rej.error }, 'built-in agent: task result refused');
      },
    },
  });
  runner.start();

  /** The agents that probe a target now (remote ones by their current plan). */
  const probersOf = (path: string, agents: readonly AgentIdentity[]): string[] | undefined => {
    const node = probedTargets(tree()).find((t) => t.path === path);
    if (!node) return undefined;
    return agents.filter((a) => (a.builtin ? node.server_probes : deps.planOf(a.name)?.has(path) ?? selects(node.agents, a))).map((a) => a.name);
  };

  const publicUrl = () => ctx.config().general.public_url?.replace(/\/$/, '');
  return {
    name: 'tasks',
    service,
    tracer,
    agentRoutes: (api) => agentTaskRoutes(api, { tasks: service, log }),
    trace: (req) => tracer.trace(req),
    ...(pollState ? { pollState } : {}),
    onAlertEvent(event, rule) {
      if (!rule.trace || !event.target.host) return undefined;
      // A quorum alert (agent "*") is traced from two of the agents that match it.
      const agents = event.quorum ? event.quorum.matching.slice(0, 2) : [event.agent];
      if (agents.length === 0) return undefined;
      return tracer.trace({
        key: `${event.target.path}\u0000${event.agent}`, target: event.target.path, host: event.target.host, agents,
        reason: `alert ${rule.name} ${event.state} on ${event.target.path} from ${event.agent}`,
      }).then((note) => {
        event.trace = { summary: note.summary, changes: note.changes };
        if (note.task) {
          event.trace.task = note.task;
          const base = publicUrl();
          if (base) event.trace.url = `${base}/#/tasks?id=${note.task}`;
        }
      });
    },
    routes: taskRoutes({
      service,
      choose: async (choice) => {
        const agents = await agentsKnown(choice.names?.length ? choice.names : undefined);
        return chooseAgents(choice, agents, (path) => probersOf(path, agents), deps.cluster ? 'any server of the cluster' : 'this server');
      },
      policy: () => ({ ...currentPolicy().allow }),
    }),
    close: async () => {
      await runner.stop();
      service.close();
      closeStore();
    },
  };
}

/** What shared tasks need of the cluster (src/server/modules.ts hands it in). */
export interface SharedTasksSetup {
  db: ClusterDb;
  server: string;
  /** What every server saw of the agents (started and closed by the caller; told of this server's polls through pollState). */
  agents: ClusterAgents;
  /** Whether this server applies the shared deadlines and retention now (the first of the live set). */
  sweeper: () => boolean;
}

interface TaskStore {
  service: TaskDispatch;
  tracer: AutoTracer;
  /** The agents tasks may be given to, as the choice of agents sees them: those named, or every one. */
  agentsKnown: (names?: readonly string[]) => Promise<AgentIdentity[]>;
  pollState?: () => PollState;
  close: () => void;
}

/** One server's tasks: its own task database and dispatch (no cluster). */
function localTasks(file: string, ctx: ServerContext, log: Logger, settings: () => TasksConfig, policy: () => TaskPolicy, note: (m: string) => void): TaskStore {
  const db = openTaskDb(file, note);
  const alive = (name: string) => ctx.agents().find((a) => a.name === name);
  const service = new TaskService({ db, log, settings, policy, agent: alive });
  return { service, tracer: new AutoTracer({ service, history: db, settings, log }), agentsKnown: async () => ctx.agents(), close: () => db.close() };
}

/** The cluster's tasks: in its database, handed to agents by whichever server they poll (src/tasks/shared.ts). */
function sharedTasks(c: SharedTasksSetup, ctx: ServerContext, log: Logger, settings: () => TasksConfig, policy: () => TaskPolicy): TaskStore {
  const agents = c.agents;
  const service: SharedTaskService = new SharedTaskService({
    db: pgTaskDb((what, fn) => c.db.transaction(what, fn).catch((e: unknown) => { throw unavailable(e); })),
    views: { read: (names) => agents.read(names).catch((e: unknown) => { throw unavailable(e); }) }, server: c.server, log, settings, policy, sweeper: c.sweeper,
  });
  return {
    service, tracer: new AutoTracer({ service, history: service, settings, log }),
    // The config's agents and this server's built-in one, with what other servers saw of them, and the other servers' built-in agents.
    agentsKnown: (names) => (names ? agents.read(names).then((m) => [...m.values()]) : agents.all()).catch((e: unknown) => { throw unavailable(e); }),
    pollState: () => service.pollState(),
    close: () => {},
  };
}

/** Every address the names resolve to (/etc/hosts, then DNS), looked up a few at a time; failures are skipped. */
async function resolveAll(names: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  let next = 0;
  const worker = async () => {
    while (next < names.length) {
      const name = names[next++]!;
      try {
        for (const a of await lookup(name, { all: true })) out.push(a.address);
      } catch {
        // A name that does not resolve adds no address; tasks to the name itself stay allowed.
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(LOOKUPS, names.length) }, worker));
  return out;
}

/** The cluster's database not answering, as the API says it: 503 SMOKEMESH_E_CLUSTER (agents retry their reports). */
function unavailable(e: unknown): unknown {
  return e instanceof SmokemeshError && e.code === 'SMOKEMESH_E_CLUSTER' ? new TaskError(503, 'SMOKEMESH_E_CLUSTER', e.message) : e;
}
