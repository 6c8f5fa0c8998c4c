import { dirname, isAbsolute, resolve } from 'node:path';
import type { Config } from '../config/loader.ts';
import type { StoreConfig } from '../config/schema.ts';
import { SqliteStore, type StoreLogger, type StoreOptions } from './sqlite.ts';

export { SqliteStore, DB_FILE, type StoreLogger, type StoreOptions } from './sqlite.ts';
export * from './types.ts';

/**
 * Opens (creating if needed) the history in `dir`; throws SMOKEMESH_E_STORE naming the file
 * when it cannot be opened (corrupt, locked, newer schema, unwritable directory).
 */
export function openStore(dir: string, cfg: StoreConfig, log?: StoreLogger, opts: Omit<StoreOptions, 'log'> = {}): SqliteStore {
  return new SqliteStore(dir, cfg, { ...opts, ...(log ? { log } : {}) });
}

/** The history directory of a config: general.data_dir, relative paths taken from the config file's folder. */
export function dataDirOf(config: Pick<Config, 'file' | 'general'>): string {
  const d = config.general.data_dir;
  return isAbsolute(d) ? d : resolve(dirname(resolve(config.file)), d);
}
