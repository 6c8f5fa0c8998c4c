import type { Logger } from 'pino';
import type { Config } from '../config/loader.ts';
import type { RoundSink } from '../pipeline.ts';
import { createAgentsModule } from './agents/module.ts';
import type { AgentInfo, RouteModule, ServerContext } from './context.ts';
import type { Ingest } from './ingest.ts';
import { apiRoutes } from './api/index.ts';
import { createMeshModule, type BuiltinHooks } from '../export/module.ts';
import { checkAlertsConfig, createAlerts } from '../alerts/index.ts';
import { formatIssue } from '../errors.ts';

/** A concern plugged into the server: its routes, its round sink, its config check. */
export interface ServerModule {
  name: string;
  routes?: RouteModule;
  sink?: RoundSink;
  /** Extra validation run on reload; non-empty = refuse the new config. */
  check?: (config: Config) => string[];
  /** Agents this module knows besides the built-in one (listed by ctx.agents()). */
  agents?: () => AgentInfo[];
  close?: () => Promise<void> | void;
}

/** Builds the modules of the other concerns (UI API, alerts, agents, exporters). */
export async function extraModules(deps: { ctx: ServerContext; ingest: Ingest; log: Logger; builtin?: BuiltinHooks }): Promise<ServerModule[]> {
  // The mesh first: its reload listener must update the target tree before the agents replan.
  const mesh = createMeshModule(deps);
  // The alert engine sees each round right after the store took it (ingest order).
  const alerts = createAlerts({ config: deps.ctx.config(), store: deps.ctx.store, log: deps.log.child({ module: 'alerts' }), builtinAgent: deps.ctx.builtinAgent });
  deps.ctx.onReload((c) => alerts.reload(c));
  const agents = createAgentsModule({ ctx: deps.ctx, ingest: deps.ingest, log: deps.log, onAgentEvent: (agent, state) => alerts.agentEvent(agent.name, state) });
  // Mesh targets come and go with agents: the alert engine re-reads the tree (same config) then.
  mesh.live.onChange(() => {
    try {
      alerts.reload(deps.ctx.config());
    } catch (e) {
      deps.log.error({ err: e }, 'alert engine could not take the new mesh targets');
    }
  });
  mesh.attach({ registry: agents.registry, notifierFailures: () => alerts.db.failuresByChannel(), ...(deps.builtin ? { builtin: deps.builtin } : {}) });
  return [
    agents,
    mesh,
    {
      name: 'alerts',
      routes: alerts.routes,
      sink: alerts.sink,
      check: (c) => checkAlertsConfig(c).map(formatIssue),
      close: () => alerts.close(),
    },
    { name: 'ui-api', routes: apiRoutes },
  ];
}
