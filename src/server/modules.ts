import type { Logger } from 'pino';
import type { Config } from '../config/loader.ts';
import type { RoundSink } from '../pipeline.ts';
import type { RouteModule, ServerContext } from './context.ts';
import type { Ingest } from './ingest.ts';

/** A concern plugged into the server: its routes, its round sink, its config check. */
export interface ServerModule {
  name: string;
  routes?: RouteModule;
  sink?: RoundSink;
  /** Extra validation run on reload; non-empty = refuse the new config. */
  check?: (config: Config) => string[];
  close?: () => Promise<void> | void;
}

/** Builds the modules of the other concerns (UI API, alerts, agents, exporters). */
export async function extraModules(_deps: { ctx: ServerContext; ingest: Ingest; log: Logger }): Promise<ServerModule[]> {
  return [];
}
