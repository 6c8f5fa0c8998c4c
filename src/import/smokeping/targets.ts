import type { ProbeType } from '../../probes/round.ts';
import type { AlertsConversion } from './alerts.ts';
import { value, type ProbeInstance, type SmokepingModel, type TargetDef, type Vars } from './model.ts';
import type { Place, SpVar } from './parser.ts';
import type { GroupSettings, PlacedTarget, PlaceNode } from './placement.ts';
import { PROBE_KINDS, REMOTE_ORIGIN, UNMAPPED, type MapVars, type Mapped } from './probes/index.ts';
import type { ImportReport } from './report.ts';

/** Target variables that are not probe variables (SmokePing's TARGETCOMMONVARS). */
const TARGET_COMMON = new Set(['probe', 'menu', 'title', 'alerts', 'note', 'email', 'host', 'remark', 'rawlog', 'alertee', 'slaves', 'menuextra', 'parents', 'hide', 'nomasterpoll']);

/** One RRD to read: whose history it is. */
export interface SeriesSource {
  /** smokemesh target path, e.g. /Local/LocalMachine. */
  target: string;
  agent: string;
  /** The RRD's path relative to SmokePing's datadir: Local/LocalMachine.rrd, Local/LocalMachine~slave.rrd. */
  file: string;
  probe: ProbeType;
  at: Place;
}

/** A node of the smokemesh tree being built: its own (non-inherited) fields and, for a target, what it resolves to. */
export interface OutNode extends PlaceNode {
  name: string;
  own: Record<string, unknown>;
  children: OutNode[];
}

export interface TargetsContext {
  model: SmokepingModel;
  report: ImportReport;
  alerts: AlertsConversion;
  /** Preset name → what the probe section maps to (absent for probes that do not map). */
  presets: Map<string, Mapped>;
  /** Names of the slaves that became agents. */
  agents: Set<string> | undefined;
  builtinAgent: string;
  /** Value a parameter has without any setting (general step/pings, per-type defaults). */
  defaultParam(type: ProbeType, key: string): unknown;
}

/** Converts the target tree; returns the root and every RRD to import. */
export function convertTargets(ctx: TargetsContext): { root: OutNode; series: SeriesSource[] } {
  const series: SeriesSource[] = [];
  const moduleOf = new WeakMap<SpVar, string>();
  const root = convertNode(ctx.model.targets, ctx, series, moduleOf)!;
  return { root, series };
}

function convertNode(t: TargetDef, ctx: TargetsContext, series: SeriesSource[], moduleOf: WeakMap<SpVar, string>): OutNode | undefined {
  const { report } = ctx;
  const pathText = '/' + t.path.join('/');
  const probeName = value(t.vars, 'probe');
  const instance = probeName ? ctx.model.probes.get(probeName) : undefined;
  // Which probe each variable was written for: an inherited variable of another probe is not ours to report.
  for (const v of t.own.values()) moduleOf.set(v, instance?.module ?? '');

  if (t.path.length && !/^[-_0-9a-zA-Z]+$/.test(t.name)) report.warn(t.at, `target name "${t.name}" is not one SmokePing accepts; kept as it is`);
  const own: Record<string, unknown> = {};
  for (const k of ['menu', 'title', 'remark'] as const) {
    const v = value(t.own, k);
    if (v !== undefined && v !== '') own[k] = v;
  }
  if (typeof own.remark === 'string' && /<[a-z][^>]*>/i.test(own.remark)) {
    report.note(t.own.get('remark')!.at, `${pathText}: the remark holds HTML; smokemesh shows remarks as text`);
  }
  for (const k of ['parents', 'note', 'email', 'rawlog', 'menuextra']) {
    const v = t.own.get(k);
    if (v) report.note(v.at, `${k} (${describeCommon(k)}) has no smokemesh equivalent; left out`);
  }
  if (value(t.own, 'hide') === 'yes') own.hide = true;

  const node: OutNode = { name: t.name, own, children: [], group: groupSettings(t, instance, ctx) };
  const host = value(t.own, 'host');
  if (host !== undefined && host.startsWith('/')) {
    report.warn(t.own.get('host')!.at, `${pathText} is a multi-host graph (${host}); smokemesh has no graph of several targets, so it is left out`,
      "open each target's page (it draws every agent of the target together)");
  } else if (host !== undefined && host !== '') {
    const target = convertTarget(t, host, instance, probeName, ctx, moduleOf);
    node.own.host = target.host;
    node.target = target.placed;
    for (const agent of target.sources) {
      series.push({ target: pathText, agent, file: t.path.join('/') + (agent === ctx.builtinAgent ? '' : `~${agent}`) + '.rrd', probe: target.type, at: t.at });
    }
  }
  for (const c of t.children) {
    const out = convertNode(c, ctx, series, moduleOf);
    if (out) node.children.push(out);
  }
  if (t.path.length && !node.target && node.children.length === 0) {
    if (host === undefined || host === '') report.note(t.at, `${pathText} has neither host nor targets below it (an empty page); left out`);
    return undefined;
  }
  return node;
}

interface ConvertedTarget {
  host: string;
  type: ProbeType;
  placed: PlacedTarget;
  /** Agents whose RRDs belong to it: the built-in one, then the slaves. */
  sources: string[];
}

function convertTarget(t: TargetDef, host: string, instance: ProbeInstance | undefined, probeName: string | undefined, ctx: TargetsContext, moduleOf: WeakMap<SpVar, string>): ConvertedTarget {
  const { report } = ctx;
  const pathText = '/' + t.path.join('/');
  const hostAt = t.own.get('host')!.at;
  const slaves = slavesOf(t, ctx);
  const alerts = (value(t.vars, 'alerts') ?? '').split(',').map((s) => s.trim()).filter(Boolean).filter((a) => {
    if (ctx.alerts.defined.has(a)) return true;
    report.warn(t.vars.get('alerts')!.at, `alert "${a}" is not defined (or was left out); ${pathText} does not use it`);
    return false;
  });
  const alertee = ctx.alerts.recipients(value(t.vars, 'alertee'), t.vars.get('alertee')?.at);
  let serverProbes = value(t.vars, 'nomasterpoll') !== 'yes';
  let agents: 'none' | string[] | undefined = ctx.agents ? (slaves.length ? slaves : 'none') : undefined;

  let mapped: Mapped | undefined;
  let preset = probeName ?? 'icmp';
  let probeHost = host;
  const notProbed = (what: string, todo: string) => {
    report.warn(hostAt, `${pathText}: ${what}; it is kept with its history but nothing probes it (server_probes: false)`, todo);
    serverProbes = false;
    if (ctx.agents) agents = 'none';
    preset = 'icmp';
  };
  if (/^DYNAMIC(\/.*)?$/.test(host)) {
    probeHost = 'DYNAMIC';
    notProbed('host = DYNAMIC (the host reported its own address) has no smokemesh equivalent', 'run `smokemesh agent` on that host instead and probe it from there, or give it a fixed address');
  } else if (!instance) {
    notProbed(`probe "${probeName ?? ''}" is not defined in *** Probes ***`, 'pick a probe and set server_probes: true');
  } else if (instance.template) {
    notProbed(`probe "${instance.name}" has sub-probes, so it is only a template in SmokePing`, 'use one of its sub-probes');
  } else {
    const kind = PROBE_KINDS.get(instance.module);
    const remote = REMOTE_ORIGIN[instance.module];
    if (kind) {
      const vars: Vars = new Map(instance.vars);
      for (const [k, v] of t.vars) if (!TARGET_COMMON.has(k)) vars.set(k, v);
      const fromProbe = new Set(instance.vars.values());
      const mv = mapVars(vars, report, { who: pathText, ours: (v) => fromProbe.has(v) || moduleOf.get(v) === instance.module, targetAt: hostAt, probe: instance });
      mapped = kind.map(mv, host, instance.module);
      mv.done();
      probeHost = mapped.host ?? host;
    } else if (remote) {
      probeHost = value(t.vars, remote.destination) ?? host;
      notProbed(`${instance.module} measured from ${remote.origin}, not from this machine`, `run \`smokemesh agent\` on or next to that device, then set agents: [its name] and probe: icmp with host ${probeHost}`);
    } else {
      notProbed(`probe ${instance.module} (${UNMAPPED[instance.module] ?? 'unknown to this importer'}) has no smokemesh counterpart`, 'choose the closest smokemesh probe (icmp, tcp, dns, http) and set server_probes: true');
    }
  }
  const type: ProbeType = mapped?.type ?? 'icmp';
  const presetParams = mapped ? ctx.presets.get(preset)?.params ?? {} : {};
  const params: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(mapped?.params ?? {})) {
    if (JSON.stringify(presetParams[k]) !== JSON.stringify(v)) params[k] = v;
  }
  // SmokePing keeps the master's RRD even with nomasterpoll, so it is read too.
  const sources = [ctx.builtinAgent, ...slaves];
  const placed: PlacedTarget = {
    type,
    preset: mapped ? preset : 'icmp',
    params,
    resolved: (key) => (key in presetParams ? presetParams[key] : ctx.defaultParam(type, key)),
    alerts,
    alertee,
    server_probes: serverProbes,
    ...(agents !== undefined ? { agents } : {}),
  };
  return { host: probeHost, type, placed, sources };
}

/** A node's own settings in SmokePing terms, as smokemesh values (what its targets inherit). */
function groupSettings(t: TargetDef, instance: ProbeInstance | undefined, ctx: TargetsContext): GroupSettings {
  const slaves = (value(t.vars, 'slaves') ?? '').split(/\s+/).filter((s) => ctx.agents?.has(s));
  return {
    preset: instance && ctx.presets.has(instance.name) ? instance.name : 'icmp',
    alerts: (value(t.vars, 'alerts') ?? '').split(',').map((s) => s.trim()).filter((a) => ctx.alerts.defined.has(a)),
    server_probes: value(t.vars, 'nomasterpoll') !== 'yes',
    ...(ctx.agents ? { agents: slaves.length ? slaves : 'none' as const } : {}),
  };
}

function slavesOf(t: TargetDef, ctx: TargetsContext): string[] {
  const raw = value(t.vars, 'slaves');
  if (!raw) return [];
  return raw.split(/\s+/).filter((s) => {
    if (ctx.agents?.has(s)) return true;
    ctx.report.warn(t.vars.get('slaves')!.at, `slave "${s}" is not defined in *** Slaves ***; left out of /${t.path.join('/')}`);
    return false;
  });
}

/**
 * Variables as a kind reads them. Variables left unread are reported, once per place — but
 * only those written for this probe (in its section, or in the tree under this probe):
 * SmokePing ignores an inherited variable of another probe too.
 */
export function mapVars(vars: Vars, report: ImportReport, o: { who: string; ours: (v: SpVar) => boolean; targetAt?: Place; probe: ProbeInstance }): MapVars & { done(): void } {
  const used = new Set<string>();
  const at = (key: string | undefined) => (key ? vars.get(key)?.at : o.targetAt);
  const say = (key: string | undefined, what: string) => (key || !o.targetAt ? what : `${o.who}: ${what}`);
  return {
    get(key: string) {
      used.add(key);
      return vars.get(key)?.value.trim();
    },
    ignore(...keys: string[]) { for (const k of keys) used.add(k); },
    warn(key, what, todo) { report.warn(at(key), say(key, what), todo); },
    note(key, what, todo) { report.note(at(key), say(key, what), todo); },
    warnProbe(what, todo) { report.warn(o.probe.at, `probe ${o.probe.name}: ${what}`, todo); },
    done() {
      for (const [k, v] of vars) if (!used.has(k) && o.ours(v)) report.warn(v.at, `variable "${k}" has no smokemesh equivalent; left out`);
    },
  };
}

function describeCommon(key: string): string {
  return ({ parents: 'alternative hierarchies', note: 'a note for the admin', email: 'the owner contact', rawlog: 'a raw CSV log', menuextra: 'extra menu HTML' } as Record<string, string>)[key] ?? key;
}
