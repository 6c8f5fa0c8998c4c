import { resolve } from 'node:path';
import type { Config } from '../config/loader.ts';
import type { StoreConfig } from '../config/schema.ts';
import { SqliteStore, type StoreOptions } from './sqlite.ts';
import type { Store, StoreLogger } from './types.ts';
import { VmStore } from './victoriametrics.ts';

export { SqliteStore, DB_FILE, type StoreOptions } from './sqlite.ts';
export * from './types.ts';
export { VmStore, type VmStoreOptions } from './victoriametrics.ts';

/**
 * Opens (creating if needed) the history in `dir`; throws SMOKEMESH_E_STORE naming the file
 * when it cannot be opened (corrupt, locked, newer schema, unwritable directory).
 */
export function openStore(dir: string, cfg: StoreConfig, log?: StoreLogger, opts: Omit<StoreOptions, 'log'> = {}): SqliteStore {
  return new SqliteStore(dir, cfg, { ...opts, ...(log ? { log } : {}) });
}

/**
 * Opens the history of the configured backend (store.backend): SQLite in `dir`, or
 * VictoriaMetrics (store.url, or the cluster's store.insert_url and store.select_url) with its
 * outbox in `dir`. Throws as openStore does.
 */
export function openBackend(dir: string, cfg: StoreConfig, log?: StoreLogger): Store {
  if (cfg.backend === 'victoriametrics') return new VmStore(dir, cfg, log ? { log } : {});
  return openStore(dir, cfg, log);
}

/** The history directory of a config: general.data_dir, a relative one from the working directory (as the server does). */
export function dataDirOf(config: Pick<Config, 'general'>): string {
  return resolve(config.general.data_dir);
}
