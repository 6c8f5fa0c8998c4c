import type { TSchema } from 'typebox';
import type { ConfigIssue } from '../errors.ts';
import type { GeneralConfig, ProbePreset, RawConfig, StoreConfig } from './schema.ts';
import type { TargetNode } from './tree.ts';
import type { FieldPath, Position } from './yaml.ts';

/** A loaded, validated config. Sections of later concerns stay raw for their own readers. */
export interface Config {
  file: string;
  general: GeneralConfig;
  store: StoreConfig;
  presets: Record<string, ProbePreset>;
  targets: TargetNode;
  raw: RawConfig;
  /** Locates a field path of the file (for errors raised by later readers). */
  locate(path: FieldPath): Position;
}

/**
 * One top-level section of the config file: its key, its schema, and the checks beyond the
 * schema. The server's list of sections (src/server/config-sections.ts) is the only list:
 * the file's top-level schema is derived from it, and check-config, start and reload run
 * every entry's check through the one function, validateConfig.
 */
export interface ConfigSection {
  /** Key in the file, e.g. `alerts`. */
  key: string;
  /** Schema of the section's value; Type.Optional(…) when the section may be left out. Defaults are filled in. */
  schema: TSchema;
  /**
   * Checks beyond the schema, run after the target tree is resolved (also when other
   * sections have errors, so that one run reports every problem). Reports through `c`;
   * may read files the config names; must not change `c.config`.
   */
  check?: (c: SectionCheck) => void;
}

/** What a section's check gets: the resolved config and where to report. */
export interface SectionCheck {
  readonly config: Config;
  /** A problem: the config is refused. `path` is the field path in the file (located for the message). */
  error: IssueAt;
  /** Worth saying, but the config is used: printed by check-config, logged, returned by reload. */
  warn: IssueAt;
}

/** What validating a config concludes. `config` is set when `issues` is empty. */
export interface ConfigVerdict {
  config?: Config;
  issues: ConfigIssue[];
  warnings: ConfigIssue[];
}

/** Reports a problem at a field path. */
export type IssueAt = (path: FieldPath, message: string) => void;

/**
 * Collects problems located in `config`'s file: for readers of a section that also run
 * outside a check (at start, on reload) and return their problems.
 */
export function collectIssues(config: Pick<Config, 'file' | 'locate'>): { issue: IssueAt; issues: ConfigIssue[] } {
  const issues: ConfigIssue[] = [];
  const issue: IssueAt = (path, message) => {
    const { line, column } = config.locate(path);
    issues.push({ file: config.file, line, column, path: path.join('.'), message });
  };
  return { issue, issues };
}
