/**
 * The alert module as the server uses it: a round sink, its routes, reload and shutdown.
 */
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Config } from '../config/loader.ts';
import type { TargetNode } from '../config/tree.ts';
import { ConfigError } from '../errors.ts';
import type { RoundSink } from '../pipeline.ts';
import { dataDirOf } from '../store/index.ts';
import type { Store } from '../store/types.ts';
import { alertHistoryDays, resolveAlerts } from './config.ts';
import { openAlertDb, type AlertDb } from './db.ts';
import { ensurePrivateDir } from '../private-files.ts';
import { Dispatcher } from './dispatcher.ts';
import { AlertEngine, type EngineOptions } from './engine.ts';

export { checkAlertsConfig } from './config.ts';

export interface AlertService {
  sink: RoundSink;
  /** Applies a new config and its live tree; throws ConfigError (and keeps the running rules) when its alert sections are broken. */
  reload(config: Config, tree?: TargetNode): void;
  /** The live tree changed (agents joined or left a mesh): re-reads which targets carry which alerts. */
  setTargets(tree: TargetNode): void;
  /** Agent liveness as the server sees it; recorded and shown in the API. */
  agentEvent(agent: string, state: 'down' | 'up'): void;
  /** The recent agent events, newest first. */
  agentEvents(): { agent: string; state: 'down' | 'up'; time: number }[];
  /** Stops delivering (unfinished deliveries resume at the next start) and closes the database. */
  close(): Promise<void>;
  /** Resolves with the number of series whose history was read back from the store at start. */
  readonly warmed: Promise<number>;
  /** For tests and tools. */
  readonly engine: AlertEngine;
  readonly dispatcher: Dispatcher;
  readonly db: AlertDb;
  /** The database's file. */
  readonly file: string;
}

export interface AlertOptions {
  config: Config;
  store: Store;
  log: Logger;
  builtinAgent: string;
  /** The live target tree at start; default the config's own. */
  targets?: TargetNode;
  /** Database file; default `<data_dir>/alerts.sqlite`. */
  dbFile?: string;
  /** Told of every event before delivery; may hold it to add a path trace (src/alerts/engine.ts). */
  onEvent?: EngineOptions['onEvent'];
  /** The server's clock (ms); Date.now by default. */
  now?: () => number;
  /** An agent's region, for quorum alerts that count regions. */
  regionOf?: (agent: string) => string | undefined;
  /** false: no history is read back at start (in a cluster, a series is read back by its owner when its first round comes). */
  warm?: boolean;
  /** A cluster's per-series fence: counter changes go through it, and only the notifications it lets stand are sent. */
  fence?: EngineOptions['fence'];
}

/** How often held notifications are looked at (their deadlines are checked, their verdicts asked). */
const RELEASE_MS = 1000;

const PRUNE_FIRST_MS = 10_000;
const PRUNE_MS = 3600_000;
const PRUNE_BATCH = 1000;

/**
 * Deletes the events older than `days()` days (with their settled deliveries and attempts),
 * one batch per turn of the event loop; stops when `days()` says undefined (closing).
 */
export async function pruneHistory(db: AlertDb, days: () => number | undefined, log: Logger): Promise<number> {
  let total = 0;
  try {
    for (;;) {
      const d = days();
      if (d === undefined) break;
      const n = db.pruneHistory(Date.now() - d * 86_400_000, PRUNE_BATCH);
      total += n;
      if (n < PRUNE_BATCH) break;
      await new Promise((r) => setImmediate(r));
    }
    if (total) log.info({ events: total }, 'old alert events pruned (alerts.history_days)');
  } catch (e) {
    log.error({ err: e }, 'could not prune old alert events');
  }
  return total;
}

/** Builds the alert engine from the config; throws ConfigError when the alert sections are invalid. */
export function createAlerts(opts: AlertOptions): AlertService {
  const { setup, issues } = resolveAlerts(opts.config);
  if (issues.length) throw new ConfigError(issues);
  const log = opts.log.child({ module: 'alerts' });
  let file = opts.dbFile;
  if (!file) {
    const dir = dataDirOf(opts.config);
    ensurePrivateDir(dir, (m) => log.warn(m));
    file = join(dir, 'alerts.sqlite');
  }
  const db = openAlertDb(file, (m) => log.warn(m));
  const dispatcher = new Dispatcher(db, log);
  let config = opts.config;
  let current = setup;
  const engine = new AlertEngine({
    store: opts.store, db, dispatcher, log, builtinAgent: opts.builtinAgent, ...(opts.onEvent ? { onEvent: opts.onEvent } : {}),
    ...(opts.now ? { now: opts.now } : {}), ...(opts.regionOf ? { regionOf: opts.regionOf } : {}),
    ...(opts.fence ? { fence: opts.fence } : {}),
  }, config, setup, opts.targets);
  const releaser = setInterval(() => engine.release(), RELEASE_MS);
  releaser.unref();
  // alerts.history_days: old events and their settled deliveries go, a batch at a time, soon after the start and every hour.
  let stopped = false;
  const prune = () => void pruneHistory(db, () => (stopped ? undefined : alertHistoryDays(config)), log);
  const pruneFirst = setTimeout(prune, PRUNE_FIRST_MS);
  const pruner = setInterval(prune, PRUNE_MS);
  pruneFirst.unref();
  pruner.unref();
  const warmed = (opts.warm === false ? Promise.resolve(0) : engine.warm()).then((n) => {
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
    file,
    agentEvents: () => [...agentEvents].reverse(),
    reload(next, tree) {
      const resolved = resolveAlerts(next);
      if (resolved.issues.length) throw new ConfigError(resolved.issues);
      config = next;
      current = resolved.setup;
      engine.apply(config, current, tree);
    },
    setTargets(tree) {
      engine.apply(config, current, tree);
    },
    agentEvent(agent, state) {
      agentEvents.push({ agent, state, time: Date.now() });
      if (agentEvents.length > 1000) agentEvents.shift();
      log[state === 'down' ? 'warn' : 'info']({ agent, state }, `agent ${agent} is ${state}`);
    },
    async close() {
      stopped = true;
      clearTimeout(pruneFirst);
      clearInterval(pruner);
      clearInterval(releaser);
      engine.stop();
      await dispatcher.close();
      db.close();
    },
  };
}
