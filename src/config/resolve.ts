/**
 * The core of a config: probe presets and the target tree with SmokePing's inheritance,
 * every probed target's parameters validated (schema, regexps, round fit). A problem is
 * reported where it was written: a parameter inherited from a group or a preset is blamed
 * on the group or the preset, once, not on each of its targets.
 */
import { PARAMS_SCHEMAS } from '../probes/params.ts';
import { PROBE_TYPES } from '../probes/round.ts';
import { DEFAULT_TIMEOUT, roundFit } from './probe-params.ts';
import { NODE_KEYS, TargetNodeSchema, type AgentSelection, type ProbePreset, type RawConfig } from './schema.ts';
import type { TargetNode } from './tree.ts';
import { validate } from './validate.ts';
import type { FieldPath } from './yaml.ts';

/** Where problems go. */
export interface Report {
  error(path: FieldPath, message: string): void;
  warn(path: FieldPath, message: string): void;
}

/** What a node name may be: it becomes one segment of the target's path. */
export const NODE_NAME = /^[^/~\s][^/~]*$/;

/** Presets: those written, plus one per probe type named after it unless overridden. */
export function resolvePresets(raw: RawConfig, report: Report): Record<string, ProbePreset> {
  const presets: Record<string, ProbePreset> = {};
  for (const t of PROBE_TYPES) presets[t] = { type: t };
  const g = raw.general;
  for (const [name, p] of Object.entries(raw.probes)) {
    if (!p || typeof p !== 'object' || Array.isArray(p)) continue; // the schema said why
    const { type, ...params } = p;
    const schema = Object.hasOwn(PARAMS_SCHEMAS, type) ? PARAMS_SCHEMAS[type] : undefined;
    if (!schema) continue; // already reported by the schema check
    const known = new Set(Object.keys(schema.properties));
    for (const k of Object.keys(params)) {
      if (!known.has(k)) report.error(['probes', name, k], `unknown parameter "${k}" for ${type} probes; allowed: ${[...known].join(', ')}`);
    }
    // A preset is checked as a target of its own would be, so that an unused one is checked too.
    const full: Record<string, unknown> = { pings: g.pings, step: g.step, offset: g.offset, timeout: DEFAULT_TIMEOUT[type] };
    for (const [k, v] of Object.entries(params)) if (known.has(k)) full[k] = v;
    const origin: Record<string, FieldPath> = Object.fromEntries(Object.keys(params).map((k) => [k, ['probes', name, k]]));
    // Round fit is judged per target (a preset's step or pings may be overridden there).
    checkParams(type, full, origin, ['probes', name], report, 'skip');
    presets[name] = p;
  }
  return presets;
}

/** Round-fit findings by message: the first target and how many share it. */
type Fits = Map<string, { at: FieldPath; count: number; level: 'error' | 'warning' }>;

/** What flows down the tree: the node fields that inherit, the probe preset and its parameters. */
interface Inherited extends Pick<TargetNode, 'alerts' | 'alertee' | 'agents' | 'server_probes' | 'shard' | 'depends_on' | 'labels'> {
  probe: string;
  params: Record<string, unknown>;
  /** Where each inherited parameter was written. */
  origin: Record<string, FieldPath>;
}

/**
 * Validates a resolved parameter set: its schema (defaults filled in; regexps compiled) and
 * whether a round fits the step. Problems go to where each offending parameter was
 * written (`origin`), else to `at`.
 */
export function checkParams(type: keyof typeof PARAMS_SCHEMAS, params: Record<string, unknown>, origin: Record<string, FieldPath>, at: FieldPath, report: Report, fits?: Fits | 'skip'): boolean {
  const schema = PARAMS_SCHEMAS[type];
  const where = (path: FieldPath): FieldPath => {
    const key = path[0];
    return key !== undefined && origin[key] ? [...origin[key]!, ...path.slice(1)] : [...at, ...path];
  };
  const found = validate(schema, params);
  for (const i of found) report.error(where(i.path), i.message);
  if (found.length) return false;
  if (fits === 'skip') return true;
  const fit = roundFit(type, params as Record<string, unknown> & { pings: number; timeout: number; step: number });
  if (fit) {
    if (!fits) (fit.level === 'error' ? report.error : report.warn)(at, fit.message);
    else {
      const seen = fits.get(fit.message);
      if (seen) seen.count++;
      else fits.set(fit.message, { at, count: 1, level: fit.level });
    }
  }
  return true;
}

/** Builds the target tree; validates each node and each probed target. Returns the root. */
export function resolveTree(raw: RawConfig, presets: Record<string, ProbePreset>, report: Report): TargetNode {
  const g = raw.general;
  // One message per distinct round-fit finding, not one per target (configs have 40k targets).
  const fits: Fits = new Map();
  // Equal parameter sets and labels become one object: 40k targets usually share a few, and
  // a shared object is cloned once when the tree crosses threads and serialized once per plan.
  const interner = <T extends object>() => {
    const seen = new Map<string, T>();
    return (o: T): T => {
      const key = JSON.stringify(o);
      const same = seen.get(key);
      if (same) return same;
      seen.set(key, o);
      return o;
    };
  };
  const sameParams = interner<Record<string, unknown>>();
  const sameLabels = interner<Record<string, string>>();
  const generalOrigin: Record<string, FieldPath> = {};
  for (const k of ['pings', 'step', 'offset']) if (raw.general && k in (raw.general as object)) generalOrigin[k] = ['general', k];
  const rootInherit: Inherited = {
    probe: 'icmp', alerts: [], alertee: [], agents: 'all', server_probes: true, shard: 'none',
    labels: {}, params: {}, origin: {},
  };
  const root = resolveNode(raw.targets, '', ['targets'], rootInherit) ?? emptyRoot(g.title);
  for (const [message, f] of fits) {
    const more = f.count > 1 ? ` (and ${f.count - 1} more target${f.count > 2 ? 's' : ''} with the same timing)` : '';
    (f.level === 'error' ? report.error : report.warn)(f.at, message + more);
  }
  return root;

  function resolveNode(value: unknown, name: string, at: FieldPath, inh: Inherited): TargetNode | undefined {
    if (value === null || value === undefined) value = {};
    if (typeof value !== 'object' || Array.isArray(value)) {
      report.error(at, 'a target node must be a mapping (menu, title, host, children, …)');
      return undefined;
    }
    const node = { ...(value as Record<string, unknown>) };
    // A field the schema refused was reported; the tree is built as if it were not there.
    for (const i of validate(TargetNodeSchema, node)) {
      report.error([...at, ...i.path], i.message);
      if (i.path.length && NODE_KEYS.has(String(i.path[0]))) delete node[String(i.path[0])];
    }
    const path = at.length === 1 ? '/' : '/' + pathNames(at).join('/');

    // Inherited values: the node's own overrides what came from above.
    const mine: Inherited = {
      probe: (node.probe as string | undefined) ?? inh.probe,
      alerts: (node.alerts as string[] | undefined) ?? inh.alerts,
      alertee: [...inh.alertee, ...((node.alertee as string[] | undefined) ?? [])],
      agents: (node.agents as AgentSelection | undefined) ?? inh.agents,
      server_probes: (node.server_probes as boolean | undefined) ?? inh.server_probes,
      shard: (node.shard as 'none' | 'per_region' | undefined) ?? inh.shard,
      ...(typeof node.depends_on === 'string' ? { depends_on: node.depends_on } : inh.depends_on !== undefined ? { depends_on: inh.depends_on } : {}),
      labels: { ...inh.labels, ...((node.labels as Record<string, string> | undefined) ?? {}) },
      params: { ...inh.params },
      origin: { ...inh.origin },
    };
    const ownParams: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(node)) {
      if (!NODE_KEYS.has(k)) {
        ownParams[k] = v;
        mine.params[k] = v;
        mine.origin[k] = [...at, k];
      }
    }

    const preset = Object.hasOwn(presets, mine.probe) ? presets[mine.probe] : undefined;
    if (node.probe !== undefined && !preset) {
      report.error([...at, 'probe'], `unknown probe "${mine.probe}"; define it under probes: or use one of ${Object.keys(presets).join(', ')}`);
    }

    const result: TargetNode = {
      path,
      name,
      menu: (node.menu as string | undefined) ?? (name || 'Overview'),
      title: (node.title as string | undefined) ?? (node.host as string | undefined) ?? (name || g.title),
      hide: (node.hide as boolean | undefined) ?? false,
      labels: sameLabels(mine.labels),
      alerts: mine.alerts,
      alertee: mine.alertee,
      agents: mine.agents,
      server_probes: mine.server_probes,
      shard: mine.shard,
      children: [],
    };
    if (node.remark !== undefined) result.remark = node.remark as string;
    if (mine.depends_on !== undefined && mine.depends_on !== path) result.depends_on = mine.depends_on;

    if (typeof node.host === 'string' && preset) {
      const type = preset.type;
      const schema = PARAMS_SCHEMAS[type];
      const known = new Set(Object.keys(schema.properties));
      // Own parameters must fit the probe; inherited ones that do not are simply not for it.
      for (const k of Object.keys(ownParams)) {
        if (!known.has(k)) report.error([...at, k], `unknown field "${k}" for this ${type} target; allowed here: ${[...NODE_KEYS].filter((x) => x !== 'children').join(', ')}, ${[...known].join(', ')}`);
      }
      const { type: _t, ...presetParams } = preset;
      const params: Record<string, unknown> = {
        pings: g.pings, step: g.step, offset: g.offset, timeout: DEFAULT_TIMEOUT[type],
        ...presetParams,
      };
      const origin: Record<string, FieldPath> = { ...generalOrigin };
      const fromPreset = Object.hasOwn(raw.probes, mine.probe);
      for (const k of Object.keys(presetParams)) if (fromPreset) origin[k] = ['probes', mine.probe, k];
      for (const [k, v] of Object.entries(mine.params)) {
        if (!known.has(k)) continue;
        params[k] = v;
        origin[k] = mine.origin[k]!;
      }
      checkParams(type, params, origin, at, report, fits);
      result.probe = { host: node.host, preset: mine.probe, type, params: sameParams(params) as NonNullable<TargetNode['probe']>['params'] };
    }

    const children = node.children as Record<string, unknown> | undefined;
    if (children && typeof children === 'object' && !Array.isArray(children)) {
      for (const [childName, child] of Object.entries(children)) {
        const childAt = [...at, 'children', childName];
        if (!NODE_NAME.test(childName)) {
          report.error(childAt, `node name ${JSON.stringify(childName)} is not allowed: a name is one segment of the target's path, so it may not contain "/" or "~" nor start with a space`);
          continue;
        }
        const c = resolveNode(child, childName, childAt, mine);
        if (c) result.children.push(c);
      }
    }
    if (!result.probe && result.children.length === 0 && path !== '/' && node.host === undefined) {
      report.error(at, 'a target node needs a host (to be probed) or children (to be a group)');
    }
    return result;
  }
}

function emptyRoot(title: string): TargetNode {
  return {
    path: '/', name: '', menu: 'Overview', title, hide: false, labels: {}, alerts: [], alertee: [],
    agents: 'all', server_probes: true, shard: 'none', children: [],
  };
}

/** The node names along a `targets.children.A.children.B` path. */
function pathNames(at: FieldPath): string[] {
  const names: string[] = [];
  for (let i = 1; i < at.length; i += 2) if (at[i] === 'children' && at[i + 1] !== undefined) names.push(String(at[i + 1]));
  return names;
}
