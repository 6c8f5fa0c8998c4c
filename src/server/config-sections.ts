/**
 * THE list of config sections. Every top-level key a config file may hold is one entry
 * here, with its schema and its check; the file's schema is derived from this list, and
 * `smokemesh check-config`, the server's start and every reload judge a file with
 * validateConfig below, which runs every entry. Adding a section: write its schema and
 * its check beside the code that owns it (a ConfigSection), then add one line here.
 */
import { checkConfigFile, checkConfigText, topSchema, type CheckOptions } from '../config/check.ts';
import { CORE_SECTIONS } from '../config/core-sections.ts';
import { meshSection } from '../config/mesh-schema.ts';
import { presentationSection } from '../config/presentation-schema.ts';
import type { RawConfig } from '../config/schema.ts';
import type { ConfigSection, ConfigVerdict, SectionCheck } from '../config/section.ts';
import { alertsSection, notifiersSection } from '../alerts/config.ts';
import { exportSection } from '../export/config.ts';
import { localizeSection } from '../localize/config.ts';
import { clusterSection } from '../cluster/config.ts';
import { tasksSection } from '../tasks/policy.ts';
import { agentsSection } from './agents/registry.ts';
import { checkServerFiles } from './server-files.ts';

const [general, ...core] = CORE_SECTIONS as [ConfigSection, ...ConfigSection[]];

export const SECTIONS: readonly ConfigSection[] = [
  { ...general, check: (c: SectionCheck) => { general.check?.(c); checkServerFiles(c); } },
  ...core, // store, probes, targets
  alertsSection,
  notifiersSection,
  agentsSection,
  meshSection,
  exportSection,
  tasksSection,
  localizeSection,
  presentationSection,
  clusterSection,
];

/** The whole file's schema, derived from SECTIONS (for documentation and tests). */
export const ConfigSchema = topSchema(SECTIONS);

/** What the server changes in a config before judging it: its --listen and --data-dir. */
export interface ConfigOverrides {
  listen?: string | undefined;
  dataDir?: string | undefined;
}

function options(o: ConfigOverrides): CheckOptions {
  return {
    adjust: (raw: RawConfig) => {
      if (o.listen) raw.general.listen = o.listen;
      if (o.dataDir) raw.general.data_dir = o.dataDir;
    },
  };
}

/**
 * Judges a config file by every section of SECTIONS: every problem of every section,
 * located (file:line:column and field), plus warnings; `config` is set when there is no
 * problem. Never throws. check-config, the server's start and its reloads call this.
 */
export function validateConfig(file: string, overrides: ConfigOverrides = {}): ConfigVerdict {
  return checkConfigFile(file, SECTIONS, options(overrides));
}

/** As validateConfig, for config text (tests, tools); `file` names it in messages. */
export function validateConfigText(text: string, file = '<config>', overrides: ConfigOverrides = {}): ConfigVerdict {
  return checkConfigText(text, file, SECTIONS, options(overrides));
}
