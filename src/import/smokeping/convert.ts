import { isAbsolute, resolve } from 'node:path';
import { DEFAULT_TIMEOUT } from '../../config/loader.ts';
import { StoreSchema } from '../../config/schema.ts';
import { PARAMS_SCHEMAS } from '../../probes/params.ts';
import type { ProbeType } from '../../probes/round.ts';
import { convertAlerts } from './alerts.ts';
import { value, type Database, type SmokepingModel } from './model.ts';
import { placeSettings, type PlaceNode } from './placement.ts';
import { PROBE_KINDS, REMOTE_ORIGIN, UNMAPPED, type Mapped } from './probes/index.ts';
import { ImportReport } from './report.ts';
import { convertTargets, mapVars, type OutNode, type SeriesSource } from './targets.ts';

/**
 * A SmokePing config (read by model.ts) → a smokemesh config as plain data, the agent secrets
 * to write, the RRDs to import and the report of what did not map. No I/O: file checks and
 * reads come in through the options.
 */
export interface ConvertOptions {
  /** Name of the server's built-in agent: the master's history is stored under it. */
  agentName: string;
  /** general.data_dir of the new config. */
  dataDir: string;
  /** Directory the agent secret files go to (absolute). */
  secretsDir: string;
  /** Directory SmokePing ran in, for relative paths in its config (its config's directory). */
  baseDir: string;
  exists(file: string): boolean;
  /** Why a `|/program` recipient cannot be run here (the server's own check), or undefined. */
  programProblem(file: string): string | undefined;
  /** Reads SmokePing's slave secrets file (`name:secret` lines); throws when it cannot. */
  readSecrets(file: string): string;
}

/** An agent's secret file to write; `secret` undefined means "make one" (none usable in SmokePing's file). */
export interface AgentSecret {
  agent: string;
  file: string;
  secret?: string;
}

export interface Conversion {
  config: Record<string, unknown>;
  secrets: AgentSecret[];
  series: SeriesSource[];
  /** SmokePing's datadir (where the RRDs are), when the config says. */
  rrdDir?: string;
  report: ImportReport;
}

/** Shortest secret smokemesh accepts (src/auth/secret.ts). */
const MIN_SECRET = 16;

/** General variables smokemesh has no use for: the web pages, paths and process names of SmokePing itself. */
const GENERAL_UNUSED = ['owner', 'contact', 'imgcache', 'imgurl', 'piddir', 'dyndir', 'pagedir', 'smokemail', 'tmail', 'precreateperms', 'changeprocessnames', 'changecgiprogramnames', 'linkstyle', 'display_name', 'syslogpriority', 'concurrentprobes', 'datadir', 'mailhost', 'sendmail', 'cgiurl', 'syslogfacility', 'offset'];

/** Converts; never throws for something that does not map (it is reported), only for a config SmokePing itself would refuse. */
export function convertConfig(model: SmokepingModel, opts: ConvertOptions): Conversion {
  const report = new ImportReport();
  const g = model.general;
  const db = model.database;
  const general: Record<string, unknown> = {};
  const rootTitle = value(model.targets.own, 'title');
  if (rootTitle) general.title = rootTitle;
  general.step = db.step;
  general.pings = db.pings;
  general.data_dir = opts.dataDir;
  general.agent_name = opts.agentName;
  reportGeneral(model, report);

  const concurrent = value(g, 'concurrentprobes') !== 'no';
  const presets = new Map<string, Mapped>();
  const probes: Record<string, unknown> = {};
  for (const p of model.probes.values()) {
    if (p.template) continue;
    const kind = PROBE_KINDS.get(p.module);
    if (!kind) {
      const remote = REMOTE_ORIGIN[p.module];
      report.warn(p.at, `probe ${p.name} (${p.module}: ${remote ? `measures from ${remote.origin}` : UNMAPPED[p.module] ?? 'unknown to this importer'}) has no smokemesh counterpart; its targets keep their history but are not probed`);
      continue;
    }
    const mv = mapVars(p.vars, report, { who: `probe ${p.name}`, ours: () => true, probe: p });
    const mapped = kind.map(mv, undefined, p.module);
    mv.done();
    if (!concurrent) {
      for (const k of ['step', 'offset'] as const) {
        if (k in mapped.params) {
          report.note(p.vars.get(k)?.at, `${k} of probe ${p.name} is left out: concurrentprobes = no made SmokePing ignore it`);
          delete mapped.params[k];
        }
      }
    }
    presets.set(p.name, mapped);
    probes[p.name] = { type: mapped.type, ...mapped.params };
  }

  const { agents, secrets, names } = convertSlaves(model, report, opts);
  if (names?.has(opts.agentName)) {
    report.warn(model.slaves!.at, `slave "${opts.agentName}" has the name of the server's built-in agent`, 'run the import again with --agent-name <another name>');
  }
  const alerts = convertAlerts(model, report, { exists: opts.exists, programProblem: opts.programProblem, resolvePath: (f) => abs(opts.baseDir, f) });
  const general_ = { step: db.step, pings: db.pings, offset: 'random' };
  const { root, series } = convertTargets({
    model, report, alerts, presets, agents: names, builtinAgent: opts.agentName,
    defaultParam: (type, key) => defaultParam(type, key, general_),
  });
  const placed = placeSettings(root);
  warnAlerteeOverrides(root, report);

  const config: Record<string, unknown> = {
    general,
    store: { raw_days: 14, tiers: storeTiers(db, [db.step, ...stepsOf(presets)], model, report) },
  };
  if (Object.keys(probes).length) config.probes = probes;
  if (agents.length) config.agents = agents;
  const notifiers = alerts.notifiers();
  if (notifiers) config.notifiers = notifiers;
  if (alerts.alerts) config.alerts = alerts.alerts;
  config.targets = emitNode(root, placed, true);
  const rrdDir = value(g, 'datadir');
  return { config, secrets, series, report, ...(rrdDir ? { rrdDir: abs(opts.baseDir, rrdDir) } : {}) };
}

function abs(base: string, file: string): string {
  return isAbsolute(file) ? file : resolve(base, file);
}

function reportGeneral(model: SmokepingModel, report: ImportReport): void {
  const g = model.general;
  const cgi = g.get('cgiurl');
  if (cgi) report.note(cgi.at, `cgiurl (${cgi.value}) pointed alert mails at SmokePing's pages`, "set general.public_url to smokemesh's URL so that alerts link to it");
  const syslog = g.get('syslogfacility');
  if (syslog) report.note(syslog.at, `syslogfacility = ${syslog.value}: smokemesh logs to its standard output (JSON lines)`, 'run it under systemd (journald) or redirect its output');
  const unused = [...g.keys()].filter((k) => !['cgiurl', 'syslogfacility', 'mailhost', 'sendmail', 'datadir', 'concurrentprobes'].includes(k));
  const unknown = unused.filter((k) => !GENERAL_UNUSED.includes(k));
  const known = unused.filter((k) => GENERAL_UNUSED.includes(k));
  if (known.length) report.note(model.generalAt, `*** General *** settings smokemesh does not need: ${known.join(', ')}`);
  for (const k of unknown) report.note(g.get(k)!.at, `*** General *** variable "${k}" is not used by smokemesh`);
  const p = model.presentation;
  if (p) {
    report.note(p.at, '*** Presentation *** (page template, graph sizes, colours, charts) does not carry over: smokemesh has its own web UI (overview, detail graphs of 3 h, 30 h, 10 days, 360 days and any range, top charts)');
    const fixed = new Set([3 * 3600, 30 * 3600, 10 * 86400, 360 * 86400]);
    for (const r of model.detailRanges) {
      if (!fixed.has(r.seconds)) report.note(r.at, `detail range "${r.label}" is not one of smokemesh's tabs`, 'use the Custom range or drag on a graph to zoom');
    }
    if (p.children.some((c) => c.name === 'hierarchies')) {
      report.note(p.children.find((c) => c.name === 'hierarchies')!.at, 'hierarchies (alternative menus via parents) have no smokemesh equivalent; use labels and the search');
    }
  }
}

/** Slaves → agents: name, display name, colour, location and a secret file (mode 600). */
function convertSlaves(model: SmokepingModel, report: ImportReport, opts: ConvertOptions): { agents: Record<string, unknown>[]; secrets: AgentSecret[]; names?: Set<string> } {
  const s = model.slaves;
  if (!s || s.list.length === 0) return { agents: [], secrets: [] };
  const known = new Map<string, string>();
  const file = value(s.vars, 'secrets');
  if (!file) {
    report.warn(s.at, '*** Slaves *** has no secrets file; every agent gets a new secret');
  } else {
    try {
      for (const line of opts.readSecrets(abs(opts.baseDir, file)).split(/\r?\n/)) {
        const m = /^([^:]+):(\S+)/.exec(line.trim());
        if (m) known.set(m[1]!, m[2]!);
      }
    } catch (e) {
      report.warn(s.vars.get('secrets')!.at, `cannot read the slave secrets file ${file} (${(e as Error).message}); every agent gets a new secret`, 'run the import as a user that can read it, or give the agents their new secrets');
    }
  }
  const agents: Record<string, unknown>[] = [];
  const secrets: AgentSecret[] = [];
  for (const slave of s.list) {
    if (!/^[-_.0-9A-Za-z]{1,64}$/.test(slave.name)) {
      report.warn(slave.at, `slave "${slave.name}" cannot be an agent name (letters, digits, -, _, . up to 64)`, 'rename the slave and import again');
      continue;
    }
    const secretFile = `${opts.secretsDir}/${slave.name}.secret`;
    const a: Record<string, unknown> = { name: slave.name };
    const display = value(slave.vars, 'display_name');
    if (display) a.display_name = display;
    const location = value(slave.vars, 'location');
    if (location) a.location = location;
    const color = value(slave.vars, 'color');
    if (color && /^[0-9a-fA-F]{6}$/.test(color)) a.color = `#${color.toLowerCase()}`;
    else if (color) report.warn(slave.vars.get('color')!.at, `color = ${color} is not rrggbb; left out`);
    a.secret_file = secretFile;
    for (const k of slave.vars.keys()) {
      if (!['display_name', 'location', 'color'].includes(k)) report.warn(slave.vars.get(k)!.at, `slave variable "${k}" is not known; left out`);
    }
    if (slave.override) {
      report.warn(slave.override.at, `slave ${slave.name} overrides probe settings (${[...slave.override.vars.keys()].join(', ')}); smokemesh agents use the target's settings`, 'install fping where the agent expects it (PATH), or give the agent its own targets');
    }
    const secret = known.get(slave.name);
    if (secret === undefined) {
      report.warn(slave.at, `slave ${slave.name} has no secret in the secrets file; a new one is written to ${secretFile}`, `start the agent with --secret-file holding that secret`);
      secrets.push({ agent: slave.name, file: secretFile });
    } else if (secret.length < MIN_SECRET) {
      report.warn(slave.at, `slave ${slave.name}'s secret is ${secret.length} characters; smokemesh needs at least ${MIN_SECRET}, so a new one is written to ${secretFile}`, 'start the agent with --secret-file holding that secret');
      secrets.push({ agent: slave.name, file: secretFile });
    } else {
      secrets.push({ agent: slave.name, file: secretFile, secret });
    }
    agents.push(a);
  }
  report.note(s.at, 'SmokePing slaves cannot talk to smokemesh: on each slave machine run `smokemesh agent --server URL --name NAME --secret-file FILE` (docs/agents.md); the slave history is imported under the agent names');
  return { agents, secrets, names: new Set(agents.map((a) => a.name as string)) };
}

/** Probe steps that differ from the Database step. */
function stepsOf(presets: Map<string, Mapped>): number[] {
  return [...presets.values()].map((m) => m.params.step).filter((s): s is number => typeof s === 'number');
}

/**
 * The store tiers: smokemesh's defaults plus a tier at every consolidated resolution of the
 * RRAs (steps × step, for each probe step), each kept a day longer than its RRA reaches, so
 * that every RRA row has a bucket of its own size and the graph of that span is drawn from it.
 */
export function storeTiers(db: Database, steps: number[], model?: SmokepingModel, report?: ImportReport): Array<{ bucket: number; keep_days: number }> {
  const keep = new Map<number, number>();
  for (const t of (StoreSchema.properties.tiers as unknown as { default: Array<{ bucket: number; keep_days: number }> }).default) keep.set(t.bucket, t.keep_days);
  for (const step of new Set(steps)) {
    for (const r of db.rras) {
      if (r.cf !== 'AVERAGE' || r.steps === 1) continue;
      const bucket = r.steps * step;
      // A day more than the RRA reaches: a graph of exactly that span ("Last 360 Days") starts
      // a little before now − span by the time it is asked, and should still come from this tier.
      const days = Math.ceil((r.rows * bucket) / 86400) + 1;
      keep.set(bucket, Math.max(keep.get(bucket) ?? 0, days));
    }
  }
  const longest = Math.max(0, ...(model?.detailRanges ?? []).map((r) => r.seconds));
  const tiers = [...keep].sort(([a], [b]) => a - b).map(([bucket, keep_days]) => ({ bucket, keep_days }));
  const coarsest = tiers[tiers.length - 1]!;
  if (longest / 86400 > coarsest.keep_days) {
    report?.note(model!.detailRanges.find((r) => r.seconds === longest)!.at, `the longest detail range is longer than the coarsest tier keeps; store.tiers ${coarsest.bucket} s is kept ${Math.ceil(longest / 86400)} days`);
    coarsest.keep_days = Math.ceil(longest / 86400);
  }
  return tiers;
}

function defaultParam(type: ProbeType, key: string, general: { step: number; pings: number; offset: string }): unknown {
  if (key === 'step' || key === 'pings' || key === 'offset') return general[key];
  if (key === 'timeout') return DEFAULT_TIMEOUT[type];
  return (PARAMS_SCHEMAS[type].properties as Record<string, { default?: unknown }>)[key]?.default;
}

/** SmokePing's alertee of a child replaces its parent's; smokemesh's adds up: say where that differs. */
function warnAlerteeOverrides(root: OutNode, report: ImportReport): void {
  const visit = (n: OutNode, path: string) => {
    const mine = n.target?.alertee ?? [];
    if (n.target && mine.length) {
      const stack = [...n.children];
      while (stack.length) {
        const c = stack.pop()!;
        if (c.target && !mine.every((x) => c.target!.alertee.includes(x))) {
          report.warn(undefined, `${path}: its alertee (${mine.join(', ')}) also reaches the targets below it in smokemesh (alertee adds up down the tree)`, 'move the target below a group of its own if that matters');
          break;
        }
        stack.push(...c.children);
      }
    }
    for (const c of n.children) visit(c, `${path === '/' ? '' : path}/${c.name}`);
  };
  visit(root, '/');
}

/** The node as YAML-ready data: own fields, placed settings, then children. */
function emitNode(n: OutNode, placed: Map<PlaceNode, Record<string, unknown>>, root = false): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const { menu, title, remark, host, hide } = n.own as Record<string, unknown>;
  if (menu !== undefined) out.menu = menu;
  // The root's title is general.title (shown in the page header).
  if (title !== undefined && !root) out.title = title;
  if (remark !== undefined) out.remark = remark;
  if (host !== undefined) out.host = host;
  Object.assign(out, placed.get(n) ?? {});
  if (hide) out.hide = true;
  if (n.children.length) {
    const children: Record<string, unknown> = {};
    for (const c of n.children) children[c.name] = emitNode(c, placed);
    out.children = children;
  }
  return out;
}
