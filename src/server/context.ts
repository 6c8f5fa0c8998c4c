import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { Config } from '../config/loader.ts';
import type { TargetNode } from '../config/tree.ts';
import type { Store } from '../store/types.ts';
import type { RoundSink } from '../pipeline.ts';
import type { AgentInfo } from '../plan/agent-info.ts';

export type { AgentInfo } from '../plan/agent-info.ts';

/**
 * What route plugins get from the server: the live config (it changes on reload), the store
 * and the registries of the other concerns. Later concerns add optional members here.
 */
export interface ServerContext {
  config(): Config;
  /** The live target tree: the config's own targets plus mesh targets of the live agents. Never edit it. */
  targets(): TargetNode;
  store: Store;
  log: Logger;
  /**
   * Every agent known to the server, the built-in one first. In a cluster: every agent of the
   * cluster (alive if some server heard from it recently), through a module's agentView.
   */
  agents(): AgentInfo[];
  /** The agents this server itself knows: its built-in one and the modules' (the registry's), without a cluster's view. */
  localAgents(): AgentInfo[];
  /** Name of the server's built-in agent. */
  builtinAgent: string;
  /** fastify preHandler: 401 unless the request carries the admin token. Use on every state-changing route. */
  requireAdmin: (req: FastifyRequest, reply: FastifyReply) => Promise<void>;
  /**
   * Reloads the config from disk (validated on a worker thread, then applied); resolves
   * with its problems (empty = applied) and warnings, each as file:line:column: field: message.
   */
  reload(): Promise<ReloadResult>;
  /** Called with the new config after every successful reload. */
  onReload(listener: (config: Config) => void): void;
  /** The server's clock (ms since the epoch); Date.now unless a test drives its own. */
  now?: () => number;
}

/** What a reload concluded. */
export interface ReloadResult {
  errors: string[];
  warnings: string[];
}

/** A route module: registers its routes (with JSON schemas) on the app. */
export type RouteModule = (app: FastifyInstance, ctx: ServerContext) => Promise<void> | void;

/**
 * A concern plugged into the server: its routes, its round sink. Its config section, if
 * any, is an entry of the list of sections (src/server/config-sections.ts), not a check here.
 */
export interface ServerModule {
  name: string;
  routes?: RouteModule;
  sink?: RoundSink;
  /** Agents this module knows besides the built-in one (listed by ctx.agents()). */
  agents?: () => AgentInfo[];
  /** A view over the server's own agents that ctx.agents() answers with (the cluster's: every server's agents). At most one module has one. */
  agentView?: (local: AgentInfo[]) => AgentInfo[];
  close?: () => Promise<void> | void;
}
