import { SmokemeshError } from '../../errors.ts';
import type { Place, SpConfig, SpSection, SpVar } from './parser.ts';

/**
 * What a parsed SmokePing config says, section by section, with SmokePing's inheritance
 * applied: probe instances (sub-probes inherit their template's values), the target tree
 * (probe, alerts, alertee, slaves, menuextra, nomasterpoll and every probe variable inherit;
 * menu, title, host, remark, hide, parents, note, email, rawlog do not), slaves and alerts.
 */

/** Target variables that do not inherit (SmokePing's TARGETCOMMONVARS minus its _inherited list). */
export const NOT_INHERITED = new Set(['menu', 'title', 'host', 'remark', 'hide', 'parents', 'note', 'email', 'rawlog']);

/** A variable set, each value with where it was written. */
export type Vars = Map<string, SpVar>;

/** One RRA row of `*** Database ***`: `AVERAGE 0.5 12 4320`. */
export interface RraDef {
  cf: string;
  xff: number;
  steps: number;
  rows: number;
  at: Place;
}

export interface Database {
  step: number;
  pings: number;
  rras: RraDef[];
  at: Place;
}

/** A usable probe (`probe = NAME` in Targets): a module with its resolved variables. */
export interface ProbeInstance {
  name: string;
  module: string;
  vars: Vars;
  at: Place;
  /** True for a section with sub-probes: only a template, not a valid `probe =`. */
  template: boolean;
}

export interface Slave {
  name: string;
  vars: Vars;
  /** `++ override` variables (`Probes.FPing.binary = …`). */
  override?: SpSection;
  at: Place;
}

export interface AlertDef {
  name: string;
  vars: Vars;
  at: Place;
}

/** A node of the target tree: own variables and the effective ones (inheritance applied). */
export interface TargetDef {
  name: string;
  /** Node names from the root (empty for the root). */
  path: string[];
  own: Vars;
  /** Own variables plus the inherited ones. */
  vars: Vars;
  at: Place;
  children: TargetDef[];
}

export interface DetailRange {
  label: string;
  /** Seconds. */
  seconds: number;
  at: Place;
}

export interface SmokepingModel {
  general: Vars;
  generalAt: Place;
  database: Database;
  presentation?: SpSection;
  detailRanges: DetailRange[];
  probes: Map<string, ProbeInstance>;
  slaves: { vars: Vars; list: Slave[]; at: Place } | undefined;
  alerts: { vars: Vars; list: AlertDef[]; at: Place } | undefined;
  targets: TargetDef;
  files: string[];
}

const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 604800, y: 31536000 };

function fail(at: Place, message: string): never {
  throw new SmokemeshError('SMOKEMESH_E_CONFIG', `${at.file}:${at.line}: ${message}`);
}

/** Reads the sections of a parsed config; throws SMOKEMESH_E_CONFIG where SmokePing itself would refuse the file. */
export function readModel(cfg: SpConfig): SmokepingModel {
  const byName = new Map(cfg.sections.map((s) => [s.name, s]));
  const first = cfg.sections[0]?.at ?? { file: cfg.files[0] ?? '<config>', line: 1 };
  for (const s of cfg.sections) {
    if (!['General', 'Database', 'Presentation', 'Probes', 'Slaves', 'Targets', 'Alerts', 'InfluxDB'].includes(s.name)) {
      fail(s.at, `unknown section "*** ${s.name} ***"`);
    }
  }
  const need = (name: string): SpSection => byName.get(name) ?? fail(first, `the mandatory section "*** ${name} ***" is missing`);
  const general = need('General');
  const targets = need('Targets');
  const presentation = byName.get('Presentation');
  const slaves = byName.get('Slaves');
  const alerts = byName.get('Alerts');
  return {
    general: general.vars,
    generalAt: general.at,
    database: readDatabase(need('Database')),
    ...(presentation ? { presentation } : {}),
    detailRanges: presentation ? readDetailRanges(presentation) : [],
    probes: readProbes(need('Probes')),
    slaves: slaves ? { vars: slaves.vars, at: slaves.at, list: slaves.children.map(readSlave) } : undefined,
    alerts: alerts ? { vars: alerts.vars, at: alerts.at, list: alerts.children.map((a) => ({ name: a.name, vars: a.vars, at: a.at })) } : undefined,
    targets: readTargets(targets),
    files: cfg.files,
  };
}

function intVar(s: SpSection, key: string, min: number): number {
  const v = s.vars.get(key);
  if (!v) fail(s.at, `"${key}" is mandatory in *** ${s.name} ***`);
  if (!/^\d+$/.test(v.value.trim()) || Number(v.value) < min) fail(v.at, `${key} must be an integer ≥ ${min} (got "${v.value}")`);
  return Number(v.value);
}

function readDatabase(s: SpSection): Database {
  const rras = s.rows.map((r): RraDef => {
    const [cf, xff, steps, rows] = r.cells;
    if (r.cells.length !== 4 || !/^(AVERAGE|MIN|MAX|LAST)$/.test(cf ?? '') || !/^(0(\.\d+)?|1(\.0*)?|\.\d+)$/.test(xff ?? '')
      || !/^\d+$/.test(steps ?? '') || !/^\d+$/.test(rows ?? '') || Number(steps) < 1 || Number(rows) < 1) {
      fail(r.at, `an RRA row is "CF xff steps rows", e.g. "AVERAGE 0.5 12 4320" (got "${r.cells.join(' ')}")`);
    }
    return { cf: cf!, xff: Number(xff), steps: Number(steps), rows: Number(rows), at: r.at };
  });
  return { step: intVar(s, 'step', 1), pings: intVar(s, 'pings', 3), rras, at: s.at };
}

function readDetailRanges(p: SpSection): DetailRange[] {
  const detail = p.children.find((c) => c.name === 'detail');
  if (!detail) return [];
  return detail.rows.map((r) => {
    const [label, range] = r.cells;
    const m = /^(\d+)([smhdwy])$/.exec(range ?? '');
    if (r.cells.length !== 2 || !m) fail(r.at, `a detail range row is "Label" <number><s|m|h|d|w|y>, e.g. "Last 3 Hours" 3h (got "${r.cells.join(' ')}")`);
    return { label: label!, seconds: Number(m[1]) * UNITS[m[2]!]!, at: r.at };
  });
}

/** Probe instances: `+ FPing` (module FPing) or, when it has sub-probes, each `++ name` (module FPing, values inherited). */
function readProbes(s: SpSection): Map<string, ProbeInstance> {
  const out = new Map<string, ProbeInstance>();
  for (const p of s.children) {
    if (!/^[A-Z][a-zA-Z0-9]+$/.test(p.name)) fail(p.at, `probe module names look like "FPing" (got "${p.name}")`);
    out.set(p.name, { name: p.name, module: p.name, vars: p.vars, at: p.at, template: p.children.length > 0 });
    for (const sub of p.children) {
      if (sub.children.length) fail(sub.children[0]!.at, 'sub-probes cannot have sub-probes');
      if (out.has(sub.name)) fail(sub.at, `probe "${sub.name}" is defined twice`);
      out.set(sub.name, { name: sub.name, module: p.name, vars: new Map([...p.vars, ...sub.vars]), at: sub.at, template: false });
    }
  }
  return out;
}

function readSlave(s: SpSection): Slave {
  const override = s.children.find((c) => c.name === 'override');
  return { name: s.name, vars: s.vars, at: s.at, ...(override ? { override } : {}) };
}

function readTargets(root: SpSection): TargetDef {
  const walk = (s: SpSection, path: string[], inherited: Vars): TargetDef => {
    const vars: Vars = new Map(inherited);
    for (const [k, v] of s.vars) vars.set(k, v);
    const down: Vars = new Map([...vars].filter(([k]) => !NOT_INHERITED.has(k)));
    return {
      name: s.name === 'Targets' && path.length === 0 ? '' : s.name,
      path,
      own: s.vars,
      vars,
      at: s.at,
      children: s.children.map((c) => walk(c, [...path, c.name], down)),
    };
  };
  return walk(root, [], new Map());
}

/** The value of a variable, trimmed; undefined when not set. */
export function value(vars: Vars, key: string): string | undefined {
  return vars.get(key)?.value.trim();
}

/** Every node of the tree, depth first, root first. */
export function* targetNodes(t: TargetDef): Generator<TargetDef> {
  yield t;
  for (const c of t.children) yield* targetNodes(c);
}
