import type { Logger } from 'pino';
import type { Round } from '../probes/round.ts';
import type { AgentMetricInfo, RolloutMetricInfo } from '../export/metrics.ts';
import { ExportSinks } from '../export/sinks.ts';
import { ExportState } from '../export/state.ts';
import { LatestRounds } from '../plan/latest-rounds.ts';
import type { LiveMesh } from '../plan/live.ts';
import { RegionView } from '../plan/region-view.ts';
import { targetIndex } from '../plan/target-index.ts';
import type { ServerContext } from './context.ts';
import type { IngestStats } from './ingest.ts';
import type { ServerModule } from './context.ts';
import { exportRoute } from './routes/export.ts';
import { metricsRoute } from './routes/metrics.ts';
import { regionRoutes } from './routes/regions.ts';

/** How often the live membership is compared: the mesh follows joins and leaves within this plus one plan long-poll. */
const SYNC_MS = 1000;

export interface MeshDeps {
  ctx: ServerContext;
  live: LiveMesh;
  ingest: { stats: IngestStats };
  log: Logger;
  /** Spool figures an agent last reported (remote agents). */
  spoolOf(agent: string): { backlog: number; dropped: number } | undefined;
  /** Rounds the built-in agent skipped because the previous one still ran. */
  builtinOverruns(): number;
  notifierFailures(): Record<string, number>;
  /** Whether diagnostic tasks are accepted (prober_server_task_enabled). */
  tasksEnabled(): boolean;
  /** The active rollout or the last one (src/server/fleet/). */
  rollouts?(): RolloutMetricInfo[];
  /** Further families rendered by other concerns (fault localization). */
  extraMetrics?: () => string;
  /**
   * In a cluster: registers a listener told the latest rounds the other servers received (the
   * shared series index), so that the region view shows every series of the cluster.
   */
  clusterRounds?(listener: (rounds: readonly Round[]) => void): void;
}

/**
 * Regions, the mesh and the exporters, wired into the server: follows the live membership
 * (the planners are told by the LiveMesh's listeners), feeds the export state and the
 * remote-write queues from ingest, keeps the region view, serves /metrics and the region API.
 */
export function createMeshModule(deps: MeshDeps): ServerModule {
  const { ctx, live } = deps;
  const log = deps.log.child({ module: 'mesh' });
  live.meshOf(ctx.config()); // a broken mesh section stops the start with its file:line errors
  // Read per round by the export state: refreshed at each membership check, not per round.
  const liveRegions = () => new Map(ctx.agents().filter((a) => a.alive).map((a) => [a.name, a.region]));
  let agentRegions = liveRegions();
  const exports = new ExportSinks(ctx.config(), log, {
    regionOf: (agent) => agentRegions.get(agent),
    labelsOf: (target) => targetIndex(ctx.targets()).labels.get(target),
  });
  ctx.onReload((c) => exports.apply(c));
  const state = new ExportState(
    (agent) => agentRegions.get(agent),
    (target) => targetIndex(ctx.targets()).region.get(target),
  );
  // What the region view reads: alone, the latest rounds the export state holds; in a cluster,
  // the latest round of every series of the cluster (this server's and, through the shared
  // series index, the others').
  const cluster = deps.clusterRounds ? new LatestRounds() : undefined;
  try {
    const stored = ctx.store.latest();
    state.write(stored);
    cluster?.add(stored, Date.now());
  } catch (e) {
    log.warn({ err: e }, 'could not read the latest rounds from the store; /metrics starts empty');
  }
  for (const k of Object.keys(state.receivePoints)) delete state.receivePoints[k];
  if (cluster && deps.clusterRounds) deps.clusterRounds((rounds) => cluster.add(rounds, Date.now()));

  const regions = new RegionView({
    latest: () => {
      const now = Date.now();
      state.prune(now);
      if (!cluster) return state.latest();
      cluster.prune(now);
      return cluster.values();
    },
    agentRegions: () => (agentRegions = liveRegions()),
    targetRegion: (t) => targetIndex(ctx.targets()).region.get(t),
    intervalMs: () => {
      let step = ctx.config().general.step;
      for (const g of live.meshOf(ctx.config()).groups) if (g.step) step = Math.min(step, g.step);
      return Math.min(15, Math.max(1, step)) * 1000;
    },
  });
  live.onChange(() => regions.invalidate());

  const sync = () => {
    try {
      agentRegions = liveRegions();
      live.sync(ctx.config());
    } catch (e) {
      log.error({ err: e }, 'mesh sync failed; keeping the previous targets');
    }
  };
  const timer = setInterval(sync, SYNC_MS);
  timer.unref();

  const agentMetrics = (): AgentMetricInfo[] => ctx.agents().map((a) => {
    const info: AgentMetricInfo = { name: a.name, region: a.region, alive: a.alive, builtin: a.builtin };
    const ip = a.intranet_address ?? a.addresses[0];
    if (ip) info.ip = ip;
    if (a.version) info.version = a.version;
    const spool = deps.spoolOf(a.name);
    if (spool) {
      info.spool_backlog = spool.backlog;
      info.spool_dropped = spool.dropped;
    }
    if (a.builtin) info.overruns = deps.builtinOverruns();
    if (a.upgrade) info.upgrade = { state: a.upgrade.state, error: a.upgrade.error !== undefined };
    return info;
  });

  return {
    name: 'mesh',
    sink: {
      name: 'export',
      write(rounds) {
        state.write(rounds);
        cluster?.add(rounds, Date.now());
        exports.write(rounds);
      },
    },
    routes: (app) => {
      regionRoutes(app, () => regions.snapshot(), (probe, source, target) => regions.pairDetail(probe, source, target));
      exportRoute(app, () => exports);
      metricsRoute(app, () => {
        const snapshot = regions.snapshot();
        const hosts = targetIndex(ctx.targets()).host;
        return {
          state, snapshot, agents: agentMetrics(),
          hostOf: (t) => hosts.get(t),
          probeSelf: live.meshOf(ctx.config()).groups.some((g) => g.self_region),
          tasksEnabled: deps.tasksEnabled(),
          health: {
            rounds_by_agent: deps.ingest.stats.by_agent,
            sink_errors: deps.ingest.stats.sink_errors,
            store: ctx.store.stats(),
            notifier_failures: deps.notifierFailures(),
            remote_write: exports.remoteWrites().map((r) => ({ url: r.name.replace(/^remote-write /, ''), ...r.stats })),
            cloudwatch: exports.cloudWatches().map((c) => ({ region: c.target.region, namespace: c.target.namespace, ...c.stats })),
            ...(regions.lastSeconds !== undefined ? { aggregation_seconds: regions.lastSeconds } : {}),
            ...(deps.rollouts ? { rollouts: deps.rollouts() } : {}),
          },
          ...(deps.extraMetrics ? { extra: deps.extraMetrics() } : {}),
        };
      });
    },
    close: async () => {
      clearInterval(timer);
      await exports.close();
    },
  };
}
