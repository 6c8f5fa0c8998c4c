/**
 * Reads the `alerts:` and `notifiers:` sections of a loaded config into compiled rules and
 * channel blocks, and checks every reference to them from the target tree. Problems come
 * back as ConfigIssues located with file:line:column.
 */
import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import Type, { type Static } from 'typebox';
import type { ConfigIssue } from '../errors.ts';
import type { Config } from '../config/loader.ts';
import { collectIssues, type ConfigSection, type IssueAt } from '../config/section.ts';
import { validate } from '../config/validate.ts';
import {
  ALERT_SECTION_KEYS, AlertRuleSchema, AlertsSectionSchema, DELIVERY_KEYS, DeliverySchema, NotifierBlockSchema, QuorumSchema,
  type AlertRuleConfig, type AlertsSection, type DeliveryOptions, type QuorumConfig,
} from '../config/alerts-schema.ts';
import { compileMatcher, MatcherError, type History } from './matchers.ts';
import { compilePattern, matchPattern, MAX_ALERT_HISTORY, PatternError } from './pattern.ts';
import { ACTION_KINDS, NOTIFIER_KINDS } from './notifiers/index.ts';
import { programProblem } from './notifiers/exec.ts';
import { warnLossThresholds } from './warnings.ts';
import { NotifierConfigError } from './notifiers/http-post.ts';

/** One named alert as the API shows it: everything but its compiled test. */
export const AlertRuleInfoSchema = Type.Object({
  name: Type.String(),
  type: Type.Enum(['loss', 'rtt', 'matcher', 'cert']),
  pattern: Type.String(),
  comment: Type.String(),
  edgetrigger: Type.Boolean(),
  priority: Type.Optional(Type.Number()),
  to: Type.Array(Type.String()),
  mailtemplate: Type.Optional(Type.String({ description: 'absolute path of the mail template file' })),
  trace: Type.Boolean({ description: 'ask for path traces (mtr from the agents that see it) when it raises and clears' }),
  length: Type.Integer({ description: "rounds of history this alert looks at (SmokePing's maxlength)" }),
  quorum: Type.Optional(QuorumSchema),
  hold_down: Type.Optional(Type.Integer({ description: 'edge-triggered: clean rounds in a row before a clear (1 = SmokePing)' })),
  renotify_min: Type.Optional(Type.Integer({ description: 'seconds between notifications of one series (or target) and alert' })),
  depends_on: Type.Optional(Type.String({ description: 'a target whose active alerts suppress this one' })),
});

/** One named alert, compiled. */
export interface AlertRule extends Static<typeof AlertRuleInfoSchema> {
  /** SmokePing's match value: 0 = no match. `series` carries what is not in the history (cert days). */
  test(h: History, prevmatch: number, series?: { certDays?: number }): number;
}

/** A configured channel before it is built. */
export interface ChannelBlock {
  name: string;
  kind: string;
  config: Record<string, unknown>;
  delivery: DeliveryOptions;
}

export interface AlertsSetup {
  rules: Map<string, AlertRule>;
  /** Section-level recipients. */
  to: string[];
  from?: string;
  channels: Map<string, ChannelBlock>;
  /** Channel that mails bare addresses: the notifier named `email`, else the first email notifier. */
  mailChannel?: string;
}

/** Splits SmokePing-style recipient values ("a@b, |/bin/x") into entries. */
export function recipients(v: string | string[] | undefined): string[] {
  if (v === undefined) return [];
  return (Array.isArray(v) ? v : [v]).flatMap((s) => s.split(/\s*,\s*/)).map((s) => s.trim()).filter(Boolean);
}

const yes = (v: boolean | 'yes' | 'no' | undefined): boolean | undefined => (v === undefined ? undefined : v === true || v === 'yes');

/** Resolves the alert sections; `issues` is empty when the config is usable. */
export function resolveAlerts(config: Config): { setup: AlertsSetup; issues: ConfigIssue[] } {
  const { issue, issues } = collectIssues(config);
  return { setup: readAlerts(config, issue, false), issues };
}

/**
 * The `alerts:` entry of the list of sections. It checks `notifiers:` too (recipients name
 * notifiers), and more than the engine needs at start: every notifier is built once (URLs,
 * required pairs, secret files), files named by a notifier exist (secret ones private), and
 * programs are absolute and executable.
 */
export const alertsSection: ConfigSection = {
  key: 'alerts',
  schema: Type.Optional(Type.Unknown()),
  check: (c) => {
    readAlerts(c.config, c.error, true);
    warnLossThresholds(c.config, c.warn);
  },
};

/** Days of alert history kept when `alerts.history_days` is not set. */
export const ALERT_HISTORY_DAYS = 365;

/** `alerts.history_days` (checked with the section), or its default. */
export function alertHistoryDays(config: Config): number {
  const raw = config.raw.alerts as { history_days?: unknown } | undefined;
  return typeof raw?.history_days === 'number' && raw.history_days > 0 ? raw.history_days : ALERT_HISTORY_DAYS;
}

/** The `notifiers:` entry: checked with the alerts (see alertsSection). */
export const notifiersSection: ConfigSection = { key: 'notifiers', schema: Type.Optional(Type.Unknown()) };

function readAlerts(config: Config, issue: IssueAt, deep: boolean): AlertsSetup {
  const base = dirname(resolve(config.file));
  const setup: AlertsSetup = { rules: new Map(), to: [], channels: new Map() };

  const channels = readChannels(config.raw.notifiers, issue, deep);
  for (const c of channels) setup.channels.set(c.name, c);
  const mail = channels.find((c) => c.name === 'email' && c.kind === 'email') ?? channels.find((c) => c.kind === 'email');
  if (mail) setup.mailChannel = mail.name;

  const raw = config.raw.alerts ?? {};
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    issue(['alerts'], 'alerts must be a mapping: to, from, edgetrigger, mailtemplate and one entry per named alert');
    return setup;
  }
  const section = raw as AlertsSection & Record<string, unknown>;
  for (const i of validate(AlertsSectionSchema, section)) issue(['alerts', ...i.path], i.message);
  setup.to = recipients(section.to);
  if (section.from) setup.from = section.from;
  const sectionEdge = yes(section.edgetrigger) ?? false;

  const template = (file: string | undefined, at: (string | number)[]): string | undefined => {
    if (file === undefined) return undefined;
    const abs = isAbsolute(file) ? file : resolve(base, file);
    if (!existsSync(abs)) issue(at, `mail template ${abs} does not exist`);
    return abs;
  };
  const sectionTemplate = template(section.mailtemplate, ['alerts', 'mailtemplate']);
  checkRecipients(setup, setup.to, ['alerts', 'to'], issue, deep);

  for (const [name, value] of Object.entries(section)) {
    if (ALERT_SECTION_KEYS.has(name)) continue;
    const at = ['alerts', name];
    if (!/^[-_0-9a-zA-Z.]+$/.test(name)) issue(at, `alert name "${name}" may only hold letters, digits, "-", "_" and "."`);
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      issue(at, `alert "${name}" must be a mapping with type, pattern and comment`);
      continue;
    }
    const found = validate(AlertRuleSchema, value);
    for (const i of found) issue([...at, ...i.path], i.message);
    if (found.length) continue;
    const a = value as AlertRuleConfig;
    const rule = compileRule(name, a, (m) => issue([...at, 'pattern'], m));
    if (!rule) continue;
    if (rule.type !== 'cert') rule.edgetrigger = yes(a.edgetrigger) ?? sectionEdge;
    rule.to = recipients(a.to);
    checkRecipients(setup, rule.to, [...at, 'to'], issue, deep);
    const action = rule.to.find((r) => ACTION_KINDS.has(setup.channels.get(r)?.kind ?? ''));
    if (action && !rule.edgetrigger) issue([...at, 'to'], `"${action}" is a route action: the alert must be edge-triggered (edgetrigger: yes), so that its raise switches to the backup and its clear switches back`);
    const t = a.mailtemplate !== undefined ? template(a.mailtemplate, [...at, 'mailtemplate']) : sectionTemplate;
    if (t) rule.mailtemplate = t;
    setup.rules.set(name, rule);
  }
  const defined = new Set(Object.keys(section).filter((k) => !ALERT_SECTION_KEYS.has(k)));
  checkTargets(config.raw.targets, ['targets'], setup, defined, issue, deep);
  return setup;
}

/** Every problem of the alert sections, for `smokemesh check-config`. */
export function checkAlertsConfig(config: Config): ConfigIssue[] {
  return resolveAlerts(config).issues;
}

function compileRule(name: string, a: AlertRuleConfig, fail: (message: string) => void): AlertRule | undefined {
  const base: Omit<AlertRule, 'length' | 'test'> = { name, type: a.type, pattern: a.pattern, comment: a.comment ?? '', edgetrigger: false, to: [] as string[], trace: a.trace ?? false };
  if (a.priority !== undefined) base.priority = a.priority;
  if (a.quorum !== undefined) base.quorum = a.quorum;
  if (a.hold_down !== undefined && a.hold_down > 1) base.hold_down = a.hold_down;
  if (a.renotify_min !== undefined) base.renotify_min = a.renotify_min;
  if (a.depends_on !== undefined) base.depends_on = a.depends_on;
  if (a.type === 'cert') {
    const m = /^\s*(<=?)\s*(\d{1,5}(?:\.\d{1,3})?)\s*d?\s*$/.exec(a.pattern);
    if (!m) {
      fail(`a cert alert's pattern is the days left that raise it, e.g. "<14" or "<=7"`);
      return undefined;
    }
    const days = Number(m[2]);
    const below = m[1] === '<' ? (d: number) => d < days : (d: number) => d <= days;
    // One notification per target: any one agent seeing the certificate close to expiry raises it.
    return { ...base, quorum: a.quorum ?? { agents: 1 }, edgetrigger: true, length: 1, test: (_h, _p, s) => (s?.certDays !== undefined && below(s.certDays) ? 1 : 0) };
  }
  try {
    if (a.type === 'matcher') {
      const m = compileMatcher(a.pattern);
      if (!(m.length <= MAX_ALERT_HISTORY)) {
        fail(`${m.name} would look at ${m.length} rounds; at most ${MAX_ALERT_HISTORY} are kept per alert`);
        return undefined;
      }
      return { ...base, length: m.length, test: (h, prev) => m.test(h, prev) };
    }
    const p = compilePattern(a.type, a.pattern);
    const field = a.type;
    return { ...base, length: p.maxLength, test: (h) => (matchPattern(p, h[field]) ? 1 : 0) };
  } catch (e) {
    if (e instanceof PatternError || e instanceof MatcherError) {
      fail(e.message);
      return undefined;
    }
    throw e;
  }
}

type Issue = IssueAt;

function readChannels(raw: unknown, issue: Issue, deep: boolean): ChannelBlock[] {
  if (raw === undefined || raw === null) return [];
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    issue(['notifiers'], 'notifiers must be a mapping of channel name → { type, … }');
    return [];
  }
  const out: ChannelBlock[] = [];
  for (const [name, block] of Object.entries(raw as Record<string, unknown>)) {
    const at = ['notifiers', name];
    if (!/^[-_0-9a-zA-Z.]+$/.test(name)) issue(at, `notifier name "${name}" may only hold letters, digits, "-", "_" and "."`);
    const found = validate(NotifierBlockSchema, block);
    for (const i of found) issue([...at, ...i.path], i.message);
    if (found.length) continue;
    const { type, ...rest } = block as { type: string } & Record<string, unknown>;
    const kind = NOTIFIER_KINDS[type];
    if (!kind) {
      issue([...at, 'type'], `unknown notifier type "${type}"; known: ${Object.keys(NOTIFIER_KINDS).join(', ')}`);
      continue;
    }
    const delivery: Record<string, unknown> = {};
    const config: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(rest)) (DELIVERY_KEYS.has(k) ? delivery : config)[k] = v;
    const problems = [...validate(DeliverySchema, delivery), ...validate(kind.configSchema, config)];
    for (const i of problems) issue([...at, ...i.path], i.message);
    if (deep && problems.length === 0) checkChannel(name, type, config, at, issue);
    out.push({ name, kind: type, config, delivery: delivery as DeliveryOptions });
  }
  return out;
}

/** Files a notifier names that hold no secret; every other `*_file` does, and must be private. */
const PUBLIC_FILES = new Set(['ca_file', 'cert_file']);

/**
 * What only building the channel tells: each `*_file` exists and is readable (a secret one
 * not by group or others), the program of an exec channel runs, and the kind's own
 * checks at build time (URLs parse, pairs such as url/url_file are set right).
 */
function checkChannel(name: string, type: string, config: Record<string, unknown>, at: (string | number)[], issue: Issue): void {
  let filesOk = true;
  const files = (obj: Record<string, unknown>, path: (string | number)[]) => {
    for (const [k, v] of Object.entries(obj)) {
      if (v && typeof v === 'object' && !Array.isArray(v)) files(v as Record<string, unknown>, [...path, k]);
      if (!k.endsWith('_file') || typeof v !== 'string') continue;
      const why = fileProblem(v, !PUBLIC_FILES.has(k));
      if (why) {
        filesOk = false;
        issue([...path, k], why);
      }
    }
  };
  files(config, at);
  if (type === 'exec' && typeof config.command === 'string') {
    const why = programProblem(config.command);
    if (why) return issue([...at, 'command'], why);
  }
  if (!filesOk) return;
  try {
    NOTIFIER_KINDS[type]!.create(name, structuredClone(config));
  } catch (e) {
    if (e instanceof NotifierConfigError && e.notifier.startsWith(name)) {
      const sub = e.notifier.slice(name.length).split('.').filter(Boolean);
      issue([...at, ...sub, ...(e.field ? [e.field] : [])], e.reason);
    } else {
      issue(at, (e as Error).message);
    }
  }
}

/** Why a file named by the config cannot serve, or undefined. */
function fileProblem(file: string, secret: boolean): string | undefined {
  try {
    const st = statSync(file);
    if (!st.isFile()) return `${file} is not a file`;
    accessSync(file, constants.R_OK);
    if (secret && st.mode & 0o077) return `${file} holds a secret but is readable by group or others (mode ${(st.mode & 0o777).toString(8)}); run: chmod 600 ${file}`;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? `${file} does not exist` : `cannot read ${file}: ${(e as Error).message}`;
  }
  return undefined;
}

/** A recipient must be a program, a known notifier, or an address with an email notifier to send it. */
/** Checks recipients (notifier names, mail addresses, |programs; `deep`: the programs exist and run). */
export function checkRecipients(setup: AlertsSetup, list: string[], at: (string | number)[], issue: Issue, deep = false): void {
  for (const r of list) {
    if (r.startsWith('|')) {
      if (r.length < 2) issue(at, 'a program recipient needs a path after "|"');
      else if (deep) {
        const why = programProblem(r.slice(1));
        if (why) issue(at, `program recipient ${r}: ${why}`);
      }
    } else if (setup.channels.has(r)) {
      continue;
    } else if (r.replace(/^mailto:/, '').includes('@')) {
      if (!setup.mailChannel) issue(at, `"${r}" is a mail address, but no notifier of type email is configured to send it (add one under notifiers:)`);
    } else {
      issue(at, `unknown recipient "${r}": not a notifier name, a mail address or |/path/to/program`);
    }
  }
}

/** Walks the raw target tree: every `alerts` entry must name an alert, every `alertee` must be deliverable. */
function checkTargets(node: unknown, at: (string | number)[], setup: AlertsSetup, defined: Set<string>, issue: Issue, deep: boolean): void {
  if (typeof node !== 'object' || node === null || Array.isArray(node)) return;
  const n = node as Record<string, unknown>;
  if (Array.isArray(n.alerts)) {
    n.alerts.forEach((a, i) => {
      if (typeof a === 'string' && !defined.has(a)) {
        issue([...at, 'alerts', i], `unknown alert "${a}"; defined alerts: ${[...defined].join(', ') || '(none)'}`);
      }
    });
  }
  if (Array.isArray(n.alertee)) checkRecipients(setup, recipients(n.alertee.filter((x): x is string => typeof x === 'string')), [...at, 'alertee'], issue, deep);
  const children = n.children;
  if (children && typeof children === 'object' && !Array.isArray(children)) {
    for (const [name, child] of Object.entries(children)) checkTargets(child, [...at, 'children', name], setup, defined, issue, deep);
  }
}
