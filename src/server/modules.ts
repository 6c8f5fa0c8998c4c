import type { Logger } from 'pino';
import type { Config } from '../config/loader.ts';
import type { RoundSink } from '../pipeline.ts';
import { createAgentsModule } from './agents/module.ts';
import type { AgentInfo, RouteModule, ServerContext } from './context.ts';
import type { Ingest } from './ingest.ts';
import { apiRoutes } from './api/index.ts';
import { createMeshModule, type BuiltinHooks } from '../export/module.ts';

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
  // onAgentEvent: connect the alert engine's agentEvent(agent, 'down' | 'up') here.
  const agents = createAgentsModule({ ctx: deps.ctx, ingest: deps.ingest, log: deps.log, onAgentEvent: undefined });
  mesh.attach({ registry: agents.registry, ...(deps.builtin ? { builtin: deps.builtin } : {}) });
  return [agents, mesh, { name: 'ui-api', routes: apiRoutes }];
}
