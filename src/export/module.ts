import type { Logger } from 'pino';
import Type from 'typebox';
import type { Config } from '../config/loader.ts';
import { walk, type TargetNode } from '../config/tree.ts';
import { ConfigError, formatIssue } from '../errors.ts';
import { LiveMesh } from '../plan/live.ts';
import type { MeshMember } from '../plan/mesh.ts';
import type { AgentIdentity } from '../plan/plan.ts';
import { aggregateRegions, type RegionSnapshot } from '../plan/region.ts';
import type { ServerContext } from '../server/context.ts';
import type { IngestStats } from '../server/ingest.ts';
import type { ServerModule } from '../server/modules.ts';
import { renderMetrics, type AgentMetricInfo } from './metrics.ts';
import { regionRoutes } from './regions-routes.ts';
import { ExportState } from './state.ts';
import { parseExport, RemoteWriteSink } from './remote-write.ts';
import type { Round } from '../probes/round.ts';

/** What the mesh needs from the agent registry (src/server/agents/registry.ts). */
export interface RegistryHooks {
  get(name: string): { hello?: { addresses: { intranet?: string; public?: string }; spool: { backlog: number; dropped: number } } } | undefined;
  /** Live peers the registry's planner shares sharded targets among. */
  peers: () => AgentIdentity[];
  /** Recomputes every connected agent's plan. */
  replan(): void;
}

/** What the mesh needs from the built-in agent (src/agent/builtin.ts). */
export interface BuiltinHooks {
  peers: AgentIdentity[];
  setPlan(tree: TargetNode): Promise<void>;
  scheduler: { stats: { overruns: number } };
}

export interface MeshModule extends ServerModule {
  live: LiveMesh;
  state: ExportState;
  /** The region aggregates, recomputed when older than one aggregation interval. */
  snapshot(now?: number): RegionSnapshot;
  /** One region pair with its per-target cells (the pair API). */
  pairDetail(probe: string, source: string, target: string, now?: number): RegionSnapshot;
  /** The remote-write sinks now in use. */
  remotes(): RemoteWriteSink[];
  /** Connects the planners; call once both exist. */
  attach(hooks: { registry?: RegistryHooks; builtin?: BuiltinHooks; notifierFailures?: () => Record<string, number> }): void;
}

/** Seconds between membership checks: the mesh follows joins and leaves within this plus one plan long-poll. */
const SYNC_MS = 1000;
/** Past this many series, per-series histograms (17 lines each) are left out unless asked for. */
export const AUTO_HISTOGRAM_SERIES = 10_000;

/**
 * Mesh, regions and metrics in the server: keeps the live tree (LiveMesh), feeds the export
 * state from ingest, computes region aggregates at most once per interval (the smallest step
 * of the config, capped at 15 s as ProberMesh's aggregation interval), serves /metrics and
 * the region API. Must be created before the agents module so that its reload listener runs
 * first (the registry then replans against the new tree once, not twice).
 */
export function createMeshModule(deps: { ctx: ServerContext; ingest: { stats: IngestStats }; log: Logger }): MeshModule {
  const { ctx } = deps;
  const log = deps.log.child({ module: 'mesh' });
  let registry: RegistryHooks | undefined;
  let builtin: BuiltinHooks | undefined;
  let notifierFailures: (() => Record<string, number>) | undefined;

  const members = (): (MeshMember & { alive: boolean })[] => ctx.agents().map((a) => {
    const addr = a.builtin ? { intranet: a.addresses[0] } : registry?.get(a.name)?.hello?.addresses ?? {};
    const m: MeshMember & { alive: boolean } = { name: a.name, region: a.region, labels: a.labels, builtin: a.builtin, alive: a.alive };
    if (addr.intranet) m.intranet = addr.intranet;
    if (addr.public) m.public = addr.public;
    return m;
  });
  const live = new LiveMesh(members);
  live.meshOf(ctx.config()); // a broken mesh section stops the start with its file:line errors

  // Remote write: one sink per endpoint, rebuilt when the export section changes on reload.
  const exportOf = (c: Config) => {
    const { targets, issues } = parseExport(c);
    if (issues.length) throw new ConfigError(issues);
    return targets;
  };
  let remoteKey = JSON.stringify(exportOf(ctx.config()));
  let remotes = exportOf(ctx.config()).map((t) => new RemoteWriteSink(t, log));
  ctx.onReload((c) => {
    const key = JSON.stringify(exportOf(c));
    if (key === remoteKey) return;
    const old = remotes;
    remoteKey = key;
    remotes = exportOf(c).map((t) => new RemoteWriteSink(t, log));
    for (const r of old) void r.close();
  });

  // Lookups over the live tree, rebuilt when the tree object changes.
  let indexed: TargetNode | undefined;
  const regionOfTarget = new Map<string, string>();
  const hostOfTarget = new Map<string, string>();
  const index = () => {
    const tree = ctx.config().targets;
    if (tree === indexed) return;
    indexed = tree;
    regionOfTarget.clear();
    hostOfTarget.clear();
    for (const n of walk(tree)) {
      if (!n.probe) continue;
      if (n.labels.region) regionOfTarget.set(n.path, n.labels.region);
      hostOfTarget.set(n.path, n.probe.host);
    }
  };
  let agentRegions = new Map<string, string>();
  const refreshAgents = () => {
    agentRegions = new Map(ctx.agents().filter((a) => a.alive).map((a) => [a.name, a.region]));
  };
  refreshAgents();

  const state = new ExportState((agent) => agentRegions.get(agent), (target) => {
    index();
    return regionOfTarget.get(target);
  });
  try {
    for (const r of ctx.store.latest()) state.write([r]);
  } catch (e) {
    log.warn({ err: e }, 'could not read the latest rounds from the store; /metrics starts empty');
  }
  for (const k of Object.keys(state.receivePoints)) delete state.receivePoints[k];

  let cached: RegionSnapshot | undefined;
  let aggregationSeconds: number | undefined;
  const interval = () => {
    let step = ctx.config().general.step;
    for (const g of live.meshOf(ctx.config()).groups) if (g.step) step = Math.min(step, g.step);
    return Math.min(15, Math.max(1, step)) * 1000;
  };
  const snapshot = (now = Date.now()): RegionSnapshot => {
    if (cached && now - cached.time < interval()) return cached;
    const t0 = performance.now();
    index();
    refreshAgents();
    state.prune(now);
    // Per-target cells only where /metrics shows them (HTTP/DNS); the pair API builds its own.
    cached = aggregateRegions({
      rounds: state.latest(), agents: agentRegions, targetRegion: (t) => regionOfTarget.get(t), now,
      withTargets: (probe) => probe === 'http' || probe === 'dns',
    });
    aggregationSeconds = (performance.now() - t0) / 1000;
    return cached;
  };

  /** One pair with every per-target cell, computed from the latest rounds of that pair only. */
  function pairDetail(probe: string, source: string, target: string, now = Date.now()): RegionSnapshot {
    index();
    refreshAgents();
    const rounds = [...state.latest()].filter((r) => r.probe === probe && agentRegions.get(r.agent) === source && regionOfTarget.get(r.target) === target);
    return aggregateRegions({ rounds, agents: agentRegions, targetRegion: (t) => regionOfTarget.get(t), now });
  }

  const sync = (force: boolean) => {
    try {
      if (live.sync(ctx.config(), force)) refreshAgents();
    } catch (e) {
      log.error({ err: e }, 'mesh sync failed; keeping the previous targets');
    }
  };
  live.onChange((tree, peers) => {
    cached = undefined;
    log.info({ peers: peers.length }, 'mesh membership changed; replanning');
    if (builtin) {
      builtin.peers = peers;
      void builtin.setPlan(tree).catch((e: unknown) => log.error({ err: e }, 'built-in agent replan failed'));
    }
    registry?.replan();
  });
  ctx.onReload(() => sync(true));
  const timer = setInterval(() => sync(false), SYNC_MS);
  timer.unref();

  const agentMetrics = (): AgentMetricInfo[] => ctx.agents().map((a) => {
    const hello = registry?.get(a.name)?.hello;
    const info: AgentMetricInfo = { name: a.name, region: a.region, alive: a.alive, builtin: a.builtin };
    const ip = hello?.addresses.intranet ?? a.addresses[0];
    if (ip) info.ip = ip;
    if (a.version) info.version = a.version;
    if (hello) {
      info.spool_backlog = hello.spool.backlog;
      info.spool_dropped = hello.spool.dropped;
    }
    if (a.builtin && builtin) info.overruns = builtin.scheduler.stats.overruns;
    return info;
  });

  return {
    name: 'mesh',
    live,
    state,
    snapshot,
    pairDetail,
    sink: {
      name: 'export',
      write(rounds: readonly Round[]) {
        state.write(rounds);
        for (const r of remotes) r.write(rounds);
      },
    },
    remotes: () => remotes,
    attach(hooks) {
      registry = hooks.registry;
      builtin = hooks.builtin;
      notifierFailures = hooks.notifierFailures;
      if (registry) registry.peers = () => live.peers();
      sync(true);
    },
    check: (config: Config) => {
      try {
        live.meshOf(config);
        exportOf(config);
        return [];
      } catch (e) {
        if (e instanceof ConfigError) return e.issues.map(formatIssue);
        throw e;
      }
    },
    routes: (app) => {
      regionRoutes(app, () => snapshot(), pairDetail);
      app.get('/metrics', {
        schema: {
          summary: 'Prometheus exposition (text format 0.0.4): ProberMesh families, per-series families, server health',
          description: `Per-series families can be left out with series=0; per-series RTT histograms are included up to ${AUTO_HISTOGRAM_SERIES} series unless histograms=1 or 0 says otherwise (set these as \`params\` in the Prometheus scrape config).`,
          tags: ['metrics'],
          querystring: Type.Object({
            series: Type.Optional(Type.Enum(['0', '1'])),
            histograms: Type.Optional(Type.Enum(['0', '1'])),
          }),
        },
      }, async (req, reply) => {
        const q = req.query as { series?: '0' | '1'; histograms?: '0' | '1' };
        const snap = snapshot();
        index();
        const st = ctx.store.stats();
        const text = renderMetrics({
          state, snapshot: snap, agents: agentMetrics(),
          hostOf: (t) => hostOfTarget.get(t),
          probeSelf: live.meshOf(ctx.config()).groups.some((g) => g.self_region),
          tasksEnabled: false,
          series: q.series !== '0',
          seriesHistograms: q.histograms === undefined ? state.series.size <= AUTO_HISTOGRAM_SERIES : q.histograms === '1',
          health: {
            rounds_by_agent: deps.ingest.stats.by_agent,
            sink_errors: deps.ingest.stats.sink_errors,
            store: st,
            ...(notifierFailures ? { notifier_failures: notifierFailures() } : {}),
            remote_write: remotes.map((r) => ({ url: r.name.replace(/^remote-write /, ''), ...r.stats })),
            ...(aggregationSeconds !== undefined ? { aggregation_seconds: aggregationSeconds } : {}),
          },
        });
        return reply.type('text/plain; version=0.0.4; charset=utf-8').send(text);
      });
    },
    close: async () => {
      clearInterval(timer);
      await Promise.all(remotes.map((r) => r.close()));
    },
  };
}
