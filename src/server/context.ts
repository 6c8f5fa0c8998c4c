import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { Config } from '../config/loader.ts';
import type { Store } from '../store/types.ts';

/** An agent as the server knows it (the built-in one included). */
export interface AgentInfo {
  name: string;
  display_name?: string;
  region: string;
  labels: Record<string, string>;
  color?: string;
  location?: string;
  addresses: string[];
  version?: string;
  /** ms since the epoch; undefined until it was heard from. */
  last_seen?: number;
  alive: boolean;
  builtin: boolean;
}

/**
 * What route plugins get from the server: the live config (it changes on reload), the store
 * and the registries of the other concerns. Later concerns add optional members here.
 */
export interface ServerContext {
  config(): Config;
  store: Store;
  log: Logger;
  /** Every agent known to the server, the built-in one first. */
  agents(): AgentInfo[];
  /** Name of the server's built-in agent. */
  builtinAgent: string;
  /** fastify preHandler: 401 unless the request carries the admin token. Use on every state-changing route. */
  requireAdmin: (req: FastifyRequest, reply: FastifyReply) => Promise<void>;
  /** Reloads the config from disk; resolves with the issues (empty = applied). */
  reload(): Promise<string[]>;
  /** Called with the new config after every successful reload. */
  onReload(listener: (config: Config) => void): void;
}

/** A route module: registers its routes (with JSON schemas) on the app. */
export type RouteModule = (app: FastifyInstance, ctx: ServerContext) => Promise<void> | void;
