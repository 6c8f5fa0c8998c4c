import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { LineCounter, parseDocument, isMap, type Document, type Node } from 'yaml';
import { ConfigError, type ConfigIssue } from '../errors.ts';
import { PARAMS_SCHEMAS } from '../probes/params.ts';
import { PROBE_TYPES, type ProbeType } from '../probes/round.ts';
import {
  COMMON_PARAM_KEYS, ConfigSchema, INHERITED_KEYS, NODE_KEYS, TargetNodeSchema,
  type AgentSelection, type GeneralConfig, type ProbePreset, type RawConfig, type StoreConfig,
} from './schema.ts';
import type { TargetNode } from './tree.ts';
import { validate } from './validate.ts';

/** A loaded, validated config. Sections of later concerns stay raw for their own loaders. */
export interface Config {
  file: string;
  general: GeneralConfig;
  store: StoreConfig;
  presets: Record<string, ProbePreset>;
  targets: TargetNode;
  raw: RawConfig;
  /** Locates a field path of the raw document (for errors raised by later loaders). */
  locate(path: (string | number)[]): { line: number; column: number };
}

/** Per-type default timeouts in ms (per attempt). */
export const DEFAULT_TIMEOUT: Record<ProbeType, number> = { icmp: 1000, tcp: 3000, dns: 3000, http: 10000 };

/** Reads and validates a config file; throws ConfigError listing every problem with file:line:column. */
export function loadConfig(file: string): Config {
  const abs = resolve(file);
  let text: string;
  try {
    text = readFileSync(abs, 'utf8');
  } catch (e) {
    throw new ConfigError([{ file, line: 0, column: 0, path: '', message: `cannot read config: ${(e as Error).message}` }]);
  }
  return parseConfig(text, file);
}

/** Parses and validates config text; `file` names it in errors. */
export function parseConfig(text: string, file = '<config>'): Config {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const issues: ConfigIssue[] = [];
  for (const e of doc.errors) {
    const pos = lineCounter.linePos(e.pos[0]);
    issues.push({ file, line: pos.line, column: pos.col, path: '', message: `YAML: ${e.message.split('\n')[0]}` });
  }
  if (issues.length) throw new ConfigError(issues);

  const locate = (path: (string | number)[]) => locateIn(doc, lineCounter, path);
  const issue = (path: (string | number)[], message: string) => {
    const { line, column } = locate(path);
    issues.push({ file, line, column, path: path.join('.'), message });
  };

  const raw = (doc.toJS() ?? {}) as RawConfig;
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ConfigError([{ file, line: 1, column: 1, path: '', message: 'the config must be a mapping of sections (general, probes, targets, …)' }]);
  }
  for (const i of validate(ConfigSchema, raw)) issue(i.path, i.message);
  // The one rule across store fields (the server and check-config both come through here).
  if (raw.store?.backend === 'victoriametrics' && !raw.store.url) issue(['store', 'backend'], 'backend victoriametrics needs store.url (e.g. http://127.0.0.1:8428)');
  // Keep going past section errors so that one run reports every problem, as long as the
  // sections the tree needs have the right shape.
  const isMap = (v: unknown) => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (!isMap(raw.probes) || !isMap(raw.targets) || !isMap(raw.general)) throw new ConfigError(issues);

  const presetIssues = issues.length;
  const presets = resolvePresets(raw, issue);
  if (issues.length > presetIssues) throw new ConfigError(issues);
  const targets = resolveTree(raw, presets, issue);
  if (issues.length) throw new ConfigError(issues);
  return { file, general: raw.general, store: raw.store, presets, targets: targets!, raw, locate };
}

type Issue = (path: (string | number)[], message: string) => void;

/** Presets: those written, plus one per probe type named after it unless overridden. */
function resolvePresets(raw: RawConfig, issue: Issue): Record<string, ProbePreset> {
  const presets: Record<string, ProbePreset> = {};
  for (const t of PROBE_TYPES) presets[t] = { type: t };
  for (const [name, p] of Object.entries(raw.probes)) {
    const { type, ...params } = p;
    if (!PARAMS_SCHEMAS[type]) continue; // already reported by the schema check
    const known = new Set(Object.keys(PARAMS_SCHEMAS[type].properties));
    for (const k of Object.keys(params)) {
      if (!known.has(k)) issue(['probes', name, k], `unknown parameter "${k}" for ${type} probes; allowed: ${[...known].join(', ')}`);
    }
    presets[name] = p;
  }
  return presets;
}

/** Builds the target tree with SmokePing's inheritance; validates each node and each probed target. */
function resolveTree(raw: RawConfig, presets: Record<string, ProbePreset>, issue: Issue): TargetNode | undefined {
  const g = raw.general;
  const rootInherit: Inherited = {
    probe: 'icmp', alerts: [], alertee: [], agents: 'all', server_probes: true, shard: 'none',
    labels: {}, params: {},
  };
  return resolveNode(raw.targets, '', ['targets'], rootInherit);

  function resolveNode(value: unknown, name: string, at: (string | number)[], inh: Inherited): TargetNode | undefined {
    if (value === null || value === undefined) value = {};
    if (typeof value !== 'object' || Array.isArray(value)) {
      issue(at, 'a target node must be a mapping (menu, title, host, children, …)');
      return undefined;
    }
    const node = value as Record<string, unknown>;
    for (const i of validate(TargetNodeSchema, node)) issue([...at, ...i.path], i.message);
    const path = at.length === 1 ? '/' : '/' + pathNames(at).join('/');

    // Inherited values: the node's own overrides what came from above.
    const mine: Inherited = {
      probe: (node.probe as string | undefined) ?? inh.probe,
      alerts: (node.alerts as string[] | undefined) ?? inh.alerts,
      alertee: [...inh.alertee, ...((node.alertee as string[] | undefined) ?? [])],
      agents: (node.agents as AgentSelection | undefined) ?? inh.agents,
      server_probes: (node.server_probes as boolean | undefined) ?? inh.server_probes,
      shard: (node.shard as 'none' | 'per_region' | undefined) ?? inh.shard,
      depends_on: (node.depends_on as string | undefined) ?? inh.depends_on,
      labels: { ...inh.labels, ...((node.labels as Record<string, string> | undefined) ?? {}) },
      params: { ...inh.params },
    };
    const ownParams: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(node)) {
      if (!NODE_KEYS.has(k)) ownParams[k] = v;
    }
    Object.assign(mine.params, ownParams);

    const preset = presets[mine.probe];
    if (node.probe !== undefined && !preset) {
      issue([...at, 'probe'], `unknown probe "${mine.probe}"; define it under probes: or use one of ${Object.keys(presets).join(', ')}`);
    }

    const result: TargetNode = {
      path,
      name,
      menu: (node.menu as string | undefined) ?? (name || 'Overview'),
      title: (node.title as string | undefined) ?? (node.host as string | undefined) ?? (name || g.title),
      hide: (node.hide as boolean | undefined) ?? false,
      labels: mine.labels,
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
        if (!known.has(k)) issue([...at, k], `unknown field "${k}" for this ${type} target; allowed here: ${[...NODE_KEYS].filter((x) => x !== 'children').join(', ')}, ${[...known].join(', ')}`);
      }
      const { type: _t, ...presetParams } = preset;
      const params: Record<string, unknown> = {
        pings: g.pings, step: g.step, offset: g.offset, timeout: DEFAULT_TIMEOUT[type],
        ...presetParams,
      };
      for (const [k, v] of Object.entries(mine.params)) if (known.has(k)) params[k] = v;
      for (const i of validate(schema, params)) {
        const key = i.path[0];
        const where = key !== undefined && key in ownParams ? [...at, ...i.path] : key !== undefined && mine.probe in raw.probes && key in presetParams ? ['probes', mine.probe, ...i.path] : at;
        issue(where, `${i.path.length ? i.path.join('.') + ': ' : ''}${i.message}`);
      }
      result.probe = { host: node.host, preset: mine.probe, type, params: params as TargetNode['probe'] extends infer P ? P extends { params: infer Q } ? Q : never : never };
    }

    const children = node.children as Record<string, unknown> | undefined;
    if (children && typeof children === 'object' && !Array.isArray(children)) {
      for (const [childName, child] of Object.entries(children)) {
        const c = resolveNode(child, childName, [...at, 'children', childName], mine);
        if (c) result.children.push(c);
      }
    }
    if (!result.probe && result.children.length === 0 && path !== '/' && node.host === undefined) {
      issue(at, 'a target node needs a host (to be probed) or children (to be a group)');
    }
    return result;
  }
}

interface Inherited {
  probe: string;
  alerts: string[];
  alertee: string[];
  agents: AgentSelection;
  server_probes: boolean;
  shard: 'none' | 'per_region';
  depends_on?: string;
  labels: Record<string, string>;
  params: Record<string, unknown>;
}

/** The node names along a `targets.children.A.children.B` path. */
function pathNames(at: (string | number)[]): string[] {
  const names: string[] = [];
  for (let i = 1; i < at.length; i += 2) if (at[i] === 'children' && at[i + 1] !== undefined) names.push(String(at[i + 1]));
  return names;
}

/** Line and column (1-based) of the deepest existing node along `path`. */
function locateIn(doc: Document, lc: LineCounter, path: (string | number)[]): { line: number; column: number } {
  for (let n = path.length; n >= 0; n--) {
    const sub = path.slice(0, n);
    let node: Node | null | undefined;
    if (n > 0 && isMap(doc.getIn(sub.slice(0, -1), true))) {
      // Point at the key, not the value, when the value is a mapping (more readable).
      const parent = doc.getIn(sub.slice(0, -1), true);
      const pair = isMap(parent) ? parent.items.find((p) => String((p.key as { value?: unknown })?.value ?? p.key) === String(sub[n - 1])) : undefined;
      node = (pair?.key as Node | undefined) ?? undefined;
    }
    if (!node) node = n === 0 ? (doc.contents as Node | null) : (doc.getIn(sub, true) as Node | undefined);
    const offset = node?.range?.[0];
    if (offset !== undefined) {
      const { line, col } = lc.linePos(offset);
      return { line, column: col };
    }
  }
  return { line: 1, column: 1 };
}
