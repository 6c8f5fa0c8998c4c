/**
 * The one way a config file is judged: read safely (src/config/yaml.ts), the top-level
 * schema derived from the list of sections, the core resolved (presets and the target
 * tree), then every section's own check. Every problem of every section comes back at
 * once, located (file:line:column and field); nothing here throws for any input.
 */
import { readFileSync } from 'node:fs';
import Type, { type TSchema } from 'typebox';
import type { ConfigIssue } from '../errors.ts';
import { resolvePresets, resolveTree, type Report } from './resolve.ts';
import type { RawConfig } from './schema.ts';
import type { Config, ConfigSection, ConfigVerdict } from './section.ts';
import { validate } from './validate.ts';
import { readYaml, type FieldPath } from './yaml.ts';

/** Problems listed at most; the rest are counted in one last line (a 40k-target file can have 40k). */
export const MAX_ISSUES = 1000;

export interface CheckOptions {
  /** Called on a valid document after the checks: the server's --listen and --data-dir (judged by the server when used). */
  adjust?: (raw: RawConfig) => void;
  /**
   * Top-level keys that no listed section owns: refused (the server and check-config), or
   * kept unchecked in `raw` (tools and tests that resolve only the core sections).
   */
  unknownSections?: 'refuse' | 'keep';
}

/** Reads and judges a config file. */
export function checkConfigFile(file: string, sections: readonly ConfigSection[], opts: CheckOptions = {}): ConfigVerdict {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    return { issues: [{ file, line: 0, column: 0, path: '', message: `cannot read config: ${(e as Error).message}` }], warnings: [] };
  }
  return checkConfigText(text, file, sections, opts);
}

/** Judges config text; `file` names it in messages and anchors relative paths. */
export function checkConfigText(text: string, file: string, sections: readonly ConfigSection[], opts: CheckOptions = {}): ConfigVerdict {
  const issues: ConfigIssue[] = [];
  const warnings: ConfigIssue[] = [];
  const yaml = readYaml(text);
  const at = (list: ConfigIssue[]) => (path: FieldPath, message: string) => {
    const { line, column } = yaml.locate(path);
    list.push({ file, line, column, path: path.join('.'), message });
  };
  const report: Report = { error: at(issues), warn: at(warnings) };
  const verdict = (config?: Config): ConfigVerdict => {
    const out: ConfigVerdict = { issues: capped(ordered(issues), file), warnings: capped(ordered(warnings), file) };
    if (config && out.issues.length === 0) out.config = config;
    return out;
  };

  for (const p of yaml.problems) issues.push({ file, ...p.position, path: p.path.join('.'), message: p.message });
  if (issues.length) return verdict();
  const raw = yaml.value;
  if (raw === null || raw === undefined || (isMapping(raw) && Object.keys(raw).length === 0)) {
    report.error([], 'the config is empty (or only comments): refused, because using it would remove every target and agent; write at least a targets: section');
    return verdict();
  }
  if (!isMapping(raw)) {
    report.error([], 'the config must be a mapping of sections (general, probes, targets, …)');
    return verdict();
  }
  for (const i of validate(topSchema(sections, opts.unknownSections ?? 'refuse'), raw)) report.error(i.path, i.message);
  // Keep going past section errors so that one run reports every problem, as long as the
  // sections the tree needs have the right shape.
  const doc = raw as RawConfig;
  if (!isMapping(doc.general) || !isMapping(doc.probes) || !isMapping(doc.targets)) return verdict();

  let config: Config;
  try {
    const presets = resolvePresets(doc, report);
    const targets = resolveTree(doc, presets, report);
    config = { file, general: doc.general, store: doc.store, presets, targets, raw: doc, locate: yaml.locate };
  } catch (e) {
    // A bug, not the file's fault; still a located refusal rather than a crash of the caller.
    report.error(['targets'], `could not be checked: ${(e as Error).message}`);
    return verdict();
  }
  for (const s of sections) {
    if (!s.check) continue;
    try {
      s.check({ config, ...report });
    } catch (e) {
      report.error([s.key], `could not be checked: ${(e as Error).message}`);
    }
  }
  // After the checks, so that a file is judged the same with and without the server's overrides.
  opts.adjust?.(doc);
  return verdict(config);
}

function isMapping(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const schemas = new WeakMap<readonly ConfigSection[], Map<string, TSchema>>();

/** The file's top-level schema: one property per section of the list. */
export function topSchema(sections: readonly ConfigSection[], unknownSections: 'refuse' | 'keep' = 'refuse'): TSchema {
  let byMode = schemas.get(sections);
  if (!byMode) schemas.set(sections, (byMode = new Map()));
  let schema = byMode.get(unknownSections);
  if (!schema) {
    schema = Type.Object(Object.fromEntries(sections.map((s) => [s.key, s.schema])), { additionalProperties: unknownSections === 'keep' });
    byMode.set(unknownSections, schema);
  }
  return schema;
}

/**
 * In file order, one issue per field and message: a parameter set on a group is blamed
 * once, not once per target of the group.
 */
function ordered(list: ConfigIssue[]): ConfigIssue[] {
  const seen = new Set<string>();
  return list.filter((i) => {
    const k = `${i.path}\0${i.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  }).sort((a, b) => a.line - b.line || a.column - b.column);
}

function capped(list: ConfigIssue[], file: string): ConfigIssue[] {
  if (list.length <= MAX_ISSUES) return list;
  return [...list.slice(0, MAX_ISSUES), { file, line: 0, column: 0, path: '', message: `… and ${list.length - MAX_ISSUES} more like these (fix the ones above first)` }];
}
