/**
 * Reads and checks the `localize:` section: the schema (with every default filled in), then
 * what a schema cannot say — unique scope names, suspected thresholds not above confirmed ones,
 * maintenance windows that have a time, recipients that can be delivered. Every problem comes
 * back located (file:line:column). check-config and the server (start and reload) call the
 * same function.
 */
import Type from 'typebox';
import type { Config } from '../config/loader.ts';
import { LocalizeSectionSchema, type LocalizeScopeConfig } from '../config/localize-schema.ts';
import { collectIssues, type ConfigSection, type IssueAt } from '../config/section.ts';
import { validate } from '../config/validate.ts';
import type { ConfigIssue } from '../errors.ts';
import { checkRecipients, recipients, resolveAlerts } from '../alerts/config.ts';
import { ratio } from './select.ts';

/** The scopes of a config; `issues` is empty when the section is usable. */
export function parseLocalize(config: Config): { scopes: LocalizeScopeConfig[]; issues: ConfigIssue[] } {
  const { issue, issues } = collectIssues(config);
  return { scopes: readLocalize(config, issue, false), issues };
}

/**
 * The `localize:` entry of the list of sections (src/server/config-sections.ts): the schema
 * is checked by readLocalize (defaults filled in on a copy), deep: program recipients run.
 */
export const localizeSection: ConfigSection = {
  key: 'localize',
  schema: Type.Optional(Type.Unknown()),
  check: (c) => void readLocalize(c.config, c.error, true),
};

function readLocalize(config: Config, issue: IssueAt, deep: boolean): LocalizeScopeConfig[] {
  const raw = config.raw.localize;
  if (raw === undefined || raw === null) return [];
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    issue(['localize'], 'localize must be a mapping with `scopes:` (a list of localization scopes)');
    return [];
  }
  // Validated on a copy: the raw document stays as written.
  const section = structuredClone(raw) as { scopes: LocalizeScopeConfig[] };
  const found = validate(LocalizeSectionSchema, section);
  for (const i of found) issue(['localize', ...i.path], i.message);
  if (found.length) return [];

  const { setup } = resolveAlerts(config);
  const names = new Set<string>();
  section.scopes.forEach((s, n) => {
    const at = ['localize', 'scopes', n];
    if (names.has(s.name)) issue([...at, 'name'], `scope "${s.name}" is defined twice`);
    names.add(s.name);
    const pairs: [(string | number)[], number | string, number | string][] = [
      [['thresholds', 'network', 'suspected'], s.thresholds.network.suspected, s.thresholds.network.confirmed],
      [['thresholds', 'destination', 'suspected'], s.thresholds.destination.suspected, s.thresholds.destination.confirmed],
    ];
    if (s.region_pairs) pairs.push([['region_pairs', 'degraded'], s.region_pairs.degraded, s.region_pairs.down]);
    for (const [where, low, high] of pairs) {
      const a = ratio(low);
      const b = ratio(high);
      const [lowName, highName] = where[0] === 'region_pairs' ? ['degraded', 'down'] : ['suspected', 'confirmed'];
      if (a.num * b.den > b.num * a.den) issue([...at, ...where], `${lowName} (${low}) must not be above ${highName} (${high})`);
    }
    s.maintenance.forEach((m, i) => {
      const where = [...at, 'maintenance', i];
      if (m.start === undefined && m.end === undefined && m.weekly === undefined) issue(where, 'a maintenance window needs start and end, or weekly');
      if (m.start !== undefined && m.end !== undefined && Date.parse(m.start) >= Date.parse(m.end)) issue([...where, 'end'], 'end must be after start');
      if (m.weekly && m.weekly.from === m.weekly.to) issue([...where, 'weekly', 'to'], 'a weekly window needs from ≠ to');
    });
    if (s.roles.vantage.includes('path')) issue([...at, 'roles', 'vantage'], '"path" is a target key; vantage keys are agent labels (or "agent", "region")');
    checkRecipients(setup, recipients(s.to), [...at, 'to'], issue, deep);
    s.routes.forEach((r, i) => checkRecipients(setup, recipients(r.to), [...at, 'routes', i, 'to'], issue, deep));
  });
  return section.scopes;
}
