/**
 * The alert module as the server uses it: a round sink, its routes, reload and shutdown.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Config } from '../config/loader.ts';
import { ConfigError } from '../errors.ts';
import type { RoundSink } from '../pipeline.ts';
import type { RouteModule } from '../server/context.ts';
import { alertRoutes } from '../server/routes/alerts.ts';
import { dataDirOf } from '../store/index.ts';
import type { Store } from '../store/types.ts';
import { resolveAlerts } from './config.ts';
import { openAlertDb, type AlertDb } from './db.ts';
import { Dispatcher } from './dispatcher.ts';
import { AlertEngine } from './engine.ts';

export { checkAlertsConfig } from './config.ts';

export interface AlertService {
  sink: RoundSink;
  routes: RouteModule;
  /** Applies a new config; throws ConfigError (and keeps the running rules) when its alert sections are broken. */
  reload(config: Config): void;
  /** Agent liveness as the server sees it; recorded and shown in the API. */
  agentEvent(agent: string, state: 'down' | 'up'): void;
  /** Stops delivering (unfinished deliveries resume at the next start) and closes the database. */
  close(): Promise<void>;
  /** Resolves with the number of series whose history was read back from the store at start. */
  readonly warmed: Promise<number>;
  /** For tests and tools. */
  readonly engine: AlertEngine;
  readonly dispatcher: Dispatcher;
  readonly db: AlertDb;
}

export interface AlertOptions {
  config: Config;
  store: Store;
  log: Logger;
  builtinAgent: string;
  /** Database file; default `<data_dir>/alerts.sqlite`. */
  dbFile?: string;
}

/** Builds the alert engine from the config; throws ConfigError when the alert sections are invalid. */
export function createAlerts(opts: AlertOptions): AlertService {
  const { setup, issues } = resolveAlerts(opts.config);
  if (issues.length) throw new ConfigError(issues);
  const log = opts.log.child({ module: 'alerts' });
  let file = opts.dbFile;
  if (!file) {
    const dir = dataDirOf(opts.config);
    mkdirSync(dir, { recursive: true });
    file = join(dir, 'alerts.sqlite');
  }
  const db = openAlertDb(file);
  const dispatcher = new Dispatcher(db, log);
  const engine = new AlertEngine({ store: opts.store, db, dispatcher, log, builtinAgent: opts.builtinAgent }, opts.config, setup);
  const warmed = engine.warm().then((n) => {
    if (n) log.info({ series: n }, 'alert histories read back from the store');
    return n;
  });
  const resumed = dispatcher.resume();
  if (resumed) log.info({ deliveries: resumed }, 'resuming alert deliveries left unfinished at the last stop');
  const agentEvents: { agent: string; state: 'down' | 'up'; time: number }[] = [];

  return {
    sink: engine,
    warmed,
    engine,
    dispatcher,
    db,
    routes: alertRoutes({ engine: () => engine, db, dispatcher, agentEvents: () => [...agentEvents].reverse() }),
    reload(config) {
      const next = resolveAlerts(config);
      if (next.issues.length) throw new ConfigError(next.issues);
      engine.apply(config, next.setup);
    },
    agentEvent(agent, state) {
      agentEvents.push({ agent, state, time: Date.now() });
      if (agentEvents.length > 1000) agentEvents.shift();
      log[state === 'down' ? 'warn' : 'info']({ agent, state }, `agent ${agent} is ${state}`);
    },
    async close() {
      engine.stop();
      await dispatcher.close();
      db.close();
    },
  };
}
