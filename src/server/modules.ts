import type { Logger } from 'pino';
import type { BuiltinAgent } from '../agent/builtin.ts';
import type { LiveMesh } from '../plan/live.ts';
import { createAgentsModule } from './agents/module.ts';
import type { ServerContext, ServerModule } from './context.ts';
import type { Ingest } from './ingest.ts';
import { apiRoutes } from './api/index.ts';
import { createFleetModule, type FleetModule } from './fleet/module.ts';
import { createMeshModule } from './mesh.ts';
import { alertRoutes } from './routes/alerts.ts';
import { createAlerts } from '../alerts/index.ts';
import { createTasksModule, type TasksModule } from './tasks/module.ts';
import { createLocalizeModule } from './localize-module.ts';
import { scopeOwner } from '../localize/owner.ts';
import { parseCluster } from '../cluster/config.ts';
import type { ClusterService } from '../cluster/service.ts';
import { ClusterDb } from '../cluster/postgres.ts';
import { HistoryRetention } from '../cluster/retention.ts';
import { alertHistoryDays } from '../alerts/config.ts';
import { clusterRoutes, localizeShared, startCluster } from './cluster-module.ts';
import { ClusterAgents } from '../cluster/agents.ts';
import type { AgentEntry } from '../config/agents-schema.ts';
import type { Config } from '../config/loader.ts';
import type { AgentInfo } from '../plan/agent-info.ts';
import { VmStore } from '../store/index.ts';

/**
 * Builds the modules of the other concerns (agents, alerts, mesh and exporters, UI API) and
 * connects them: each is told of reloads and of live-tree changes; none reaches into another.
 */
export async function extraModules(deps: { ctx: ServerContext; ingest: Ingest; log: Logger; live: LiveMesh; builtin: BuiltinAgent }): Promise<ServerModule[]> {
  const { ctx, live, builtin } = deps;
  // The alert engine sees each round right after the store took it (ingest order).
  // Alerts with `trace: true` get a path trace from the tasks module (created below, once the agents exist).
  let tasks: TasksModule | undefined;
  let cluster: ClusterService | undefined;
  // Several servers (docs/scale.md): rounds reach the engine through the cluster's router. Read at start only.
  const clusterCfg = parseCluster(ctx.config()).cluster;
  const alerts = createAlerts({
    config: ctx.config(), targets: ctx.targets(), store: ctx.store, log: deps.log.child({ module: 'alerts' }), builtinAgent: ctx.builtinAgent,
    onEvent: (event, rule) => tasks?.onAlertEvent(event, rule),
    ...(ctx.now ? { now: ctx.now } : {}), regionOf: agentRegions(ctx),
    warm: clusterCfg === undefined,
    // In a cluster a notification stands only once its series' shared state was written (src/cluster/fence.ts).
    ...(clusterCfg ? { fence: (changes, fired, accept) => (cluster ? cluster.fence(changes, fired, accept) : accept([...fired])) } : {}),
  });
  // One pool to the cluster's database, for the alert state and history and for the shared tasks.
  const clusterDb = clusterCfg ? new ClusterDb(clusterCfg.coordination) : undefined;
  if (clusterCfg) {
    const general = ctx.config().general;
    cluster = await startCluster(clusterCfg, general.public_url ?? `http://${general.listen}`, alerts, deps.log, ctx.store, clusterDb);
  }
  // The shared alert history's retention (alerts.history_days), applied by the first live server.
  const retention = clusterCfg && clusterDb
    ? new HistoryRetention({ db: clusterDb, days: () => alertHistoryDays(ctx.config()), sweeper: () => cluster?.liveServers()[0] === clusterCfg.server_id, log: deps.log.child({ module: 'cluster' }) })
    : undefined;
  retention?.start();
  // What every server saw of the agents, written and read back each heartbeat: the shared tasks
  // judge agents by it, every server lists every agent of the cluster (ctx.agents(), so the live
  // mesh and the planners' peers are the cluster's), and agent-down / agent-up is told once, by
  // the agent's owner among the live servers.
  const clusterAgents = clusterCfg && clusterDb ? new ClusterAgents({
    db: clusterDb, server: clusterCfg.server_id, local: () => ctx.localAgents(), polls: () => tasks?.pollState?.() ?? new Map(),
    periodMs: clusterCfg.heartbeat_s * 1000, freshMs: 2 * clusterCfg.dead_after_s * 1000, log: deps.log.child({ module: 'cluster', cluster: 'agents' }),
    liveness: {
      live: () => cluster?.liveServers() ?? [], agents: () => ctx.agents(), emit: (agent, state) => alerts.agentEvent(agent.name, state),
      // An agent no server heard from is down once it could have been heard (3 heartbeats, the registry's rule) and written.
      graceMs: 2 * clusterCfg.dead_after_s * 1000 + 3 * 1000 * maxAgentHeartbeat(ctx.config()),
    },
  }) : undefined;
  ctx.onReload((c) => alerts.reload(c, ctx.targets()));
  // After the alerts took the new rules: ownership is checked again (the cluster section itself waits for a restart).
  ctx.onReload((c) => cluster?.reloaded(parseCluster(c).cluster));
  let fleet: FleetModule | undefined;
  const agents = createAgentsModule({
    ctx, ingest: deps.ingest, log: deps.log,
    view: { targets: () => ctx.targets(), peers: () => live.peers() },
    onAgentEvent: (agent, state) => alerts.agentEvent(agent.name, state),
    clustered: clusterAgents !== undefined,
    // In a cluster each agent is told which server evaluates its series (docs/scale.md).
    ...(cluster ? { serverFor: (agent: string) => cluster?.serverFor(agent) } : {}),
    // Registered when the routes are, by which time the tasks and fleet modules exist.
    agentRoutes: (api) => {
      tasks?.agentRoutes(api);
      fleet?.agentRoutes(api);
    },
  });
  tasks = createTasksModule({
    ctx, log: deps.log, planOf: (name) => agents.registry.get(name)?.targets,
    // In a cluster tasks are shared through its database; the first live server applies their deadlines and retention.
    ...(clusterCfg && clusterDb && clusterAgents ? {
      cluster: {
        db: clusterDb, server: clusterCfg.server_id, sweeper: () => cluster?.liveServers()[0] === clusterCfg.server_id, agents: clusterAgents,
      },
    } : {}),
  });
  // Releases and rollouts: it reads what the registry observes of each agent.
  fleet = createFleetModule({ ctx, log: deps.log, registry: agents.registry });
  // Mesh targets come and go with agents: every planner re-reads the live tree then.
  live.onChange((tree, peers) => {
    deps.log.info({ peers: peers.length }, 'mesh membership changed; replanning');
    void builtin.setPlan(tree, peers).catch((e: unknown) => deps.log.error({ err: e }, 'built-in agent replan failed'));
    agents.registry.replan();
    try {
      alerts.setTargets(tree);
    } catch (e) {
      deps.log.error({ err: e }, 'alert engine could not take the new mesh targets');
    }
  });
  // Fault localization: judges the series of its scopes each step, holds and suppresses their target alerts.
  // Raised causes get an evidence trace from the tasks module (bounded by its policy and limits).
  // With several servers each scope is stepped by one live server (its rendezvous owner) over what every server received.
  const localize = createLocalizeModule({
    ctx, alerts, log: deps.log, trace: (req) => tasks!.trace(req),
    ...(cluster && clusterCfg ? {
      owns: (scope: string) => scopeOwner(scope, cluster!.liveServers()) === clusterCfg.server_id,
      // The owner judges the whole scope (every server's digest) and carries its causes over in the shared database.
      shared: localizeShared(cluster, clusterCfg),
    } : {}),
  });
  const mesh = createMeshModule({
    ctx, live, ingest: deps.ingest, log: deps.log,
    spoolOf: (name) => (name === ctx.builtinAgent ? builtin.outboxStatus() : agents.registry.spoolOf(name)),
    builtinOverruns: () => builtin.scheduler.stats.overruns,
    notifierFailures: () => alerts.db.failuresByChannel(),
    tasksEnabled: () => tasks!.service.enabled(),
    rollouts: () => fleet!.rolloutMetrics(),
    extraMetrics: localize.metrics,
    // In a cluster the region view shows every server's series: the rounds come with the shared series index (docs/scale.md).
    ...(clusterCfg && ctx.store instanceof VmStore ? { clusterRounds: ctx.store.onIndexMerged.bind(ctx.store) } : {}),
  });
  clusterAgents?.start();
  return [
    agents,
    fleet!,
    mesh,
    tasks,
    // Before the alerts: it closes first, while the alert database (where it saves its memory) is open.
    localize,
    {
      name: 'alerts',
      routes: alertRoutes({
        engine: () => alerts.engine, db: alerts.db, dispatcher: alerts.dispatcher, agentEvents: () => (clusterAgents
          // Every server's events; this server's own while the database does not answer.
          ? clusterAgents.events().catch(() => alerts.agentEvents())
          : alerts.agentEvents()),
        onSilence: (change) => cluster?.shareSilence(change),
        history: () => cluster?.sharedHistory(),
      }),
      sink: cluster ?? alerts.sink,
      close: async () => {
        retention?.stop();
        clusterAgents?.close();
        await cluster?.close();
        await alerts.close();
      },
    },
    { name: 'cluster', routes: clusterRoutes(() => cluster), ...(clusterAgents ? { agentView: (local: AgentInfo[]) => clusterAgents.view(local) } : {}) },
    { name: 'ui-api', routes: apiRoutes },
  ];
}

/** An agent's region, looked up in a list refreshed at most once a second (quorum alerts ask per target). */
function agentRegions(ctx: ServerContext): (agent: string) => string | undefined {
  let at = 0;
  let map = new Map<string, string>();
  return (agent) => {
    const now = Date.now();
    if (now - at > 1000) {
      map = new Map(ctx.agents().map((a) => [a.name, a.region]));
      at = now;
    }
    return map.get(agent);
  };
}

/** The longest heartbeat period (s) of the configured agents; 10 (the default) when there is none. */
function maxAgentHeartbeat(config: Config): number {
  const entries = Array.isArray(config.raw.agents) ? (config.raw.agents as Partial<AgentEntry>[]) : [];
  return entries.length ? Math.max(...entries.map((a) => a.heartbeat ?? 10)) : 10;
}
