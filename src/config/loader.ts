import { ConfigError } from '../errors.ts';
import { checkConfigFile, checkConfigText } from './check.ts';
import { CORE_SECTIONS } from './core-sections.ts';
import type { Config, ConfigVerdict } from './section.ts';

export { DEFAULT_TIMEOUT } from './probe-params.ts';

export type { Config } from './section.ts';

/**
 * Reads a config file and resolves its core sections (general, store, probes, targets);
 * other sections are kept as written, unchecked. Throws ConfigError listing every problem.
 * For tools and tests: the server and check-config judge a file with validateConfig
 * (src/server/config-sections.ts), which checks every section.
 */
export function loadConfig(file: string): Config {
  return orThrow(checkConfigFile(file, CORE_SECTIONS, { unknownSections: 'keep' }));
}

/** As loadConfig, from text; `file` names it in errors. */
export function parseConfig(text: string, file = '<config>'): Config {
  return orThrow(checkConfigText(text, file, CORE_SECTIONS, { unknownSections: 'keep' }));
}

function orThrow(v: ConfigVerdict): Config {
  if (!v.config) throw new ConfigError(v.issues);
  return v.config;
}
