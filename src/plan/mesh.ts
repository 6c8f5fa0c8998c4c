import type { GeneralConfig, ProbePreset } from '../config/schema.ts';
import type { MeshConfig, MeshGroup, StaticRegionTargets } from '../config/mesh-schema.ts';
import { trimTrailingSlashes, type ProbedTarget, type TargetNode } from '../config/tree.ts';
import { DEFAULT_TIMEOUT } from '../config/probe-params.ts';
import { validate } from '../config/validate.ts';
import { PARAMS_SCHEMAS } from '../probes/params.ts';

/**
 * Mesh groups and static region targets become ordinary nodes of the target tree
 * (`/<mesh>/<region>/<agent>`, `/<name>/<region>/<target>`), so the store, the UI and the
 * alerts treat them like any target. Pure: the server calls it again whenever the live
 * agents change, and plans follow.
 */

/** What the mesh needs to know of a live agent. */
export interface MeshMember {
  name: string;
  region: string;
  labels: Record<string, string>;
  builtin: boolean;
  /** The address probed by `address: intranet` meshes. */
  intranet?: string;
  /** The address probed by `address: public` meshes. */
  public?: string;
}

/** What the tree needs from the loaded config besides the mesh section. */
export interface MeshDefaults {
  general: Pick<GeneralConfig, 'pings' | 'step' | 'offset'>;
  presets: Record<string, ProbePreset>;
}

/**
 * The base tree plus one top-level node per mesh group and per static-targets name, built
 * for the given live agents. Groups whose name is already a top-level node are skipped
 * (parseMesh reports that collision as a config error).
 */
export function meshTree(base: TargetNode, mesh: MeshConfig, defaults: MeshDefaults, members: readonly MeshMember[]): TargetNode {
  const taken = new Set(base.children.map((c) => c.name));
  const extra: TargetNode[] = [];
  for (const g of mesh.groups) {
    if (taken.has(g.name)) continue;
    taken.add(g.name);
    const node = meshGroupNode(g, defaults, members);
    if (node) extra.push(node);
  }
  const statics = new Map<string, StaticRegionTargets[]>();
  for (const s of mesh.statics) {
    if (taken.has(s.name) && !statics.has(s.name)) continue;
    taken.add(s.name);
    statics.set(s.name, [...(statics.get(s.name) ?? []), s]);
  }
  for (const [name, list] of statics) {
    const node = staticNode(name, list, defaults, members);
    if (node) extra.push(node);
  }
  if (extra.length === 0) return base;
  return { ...base, children: [...base.children, ...extra] };
}

/** `/<mesh>/<region>/<agent>`: each member of the mesh's regions, probed by the agents of the other regions. */
function meshGroupNode(g: MeshGroup, d: MeshDefaults, members: readonly MeshMember[]): TargetNode | undefined {
  const inMesh = members.filter((m) => (g.regions === undefined || g.regions.includes(m.region)) && (g.include_server || !m.builtin));
  const params = resolveParams(g.probe, d, g, g.params);
  const group = groupNode('/' + g.name, g.name, { mesh: g.name }, g);
  const byRegion = new Map<string, TargetNode>();
  for (const m of [...inMesh].sort((a, b) => a.region.localeCompare(b.region) || a.name.localeCompare(b.name))) {
    const address = m[g.address];
    if (!address) continue;
    const probers = inMesh.filter((p) => p.name !== m.name && (g.self_region || p.region !== m.region));
    if (probers.length === 0) continue;
    let region = byRegion.get(m.region);
    if (!region) {
      region = groupNode(`${group.path}/${nodeName(m.region)}`, nodeName(m.region), { mesh: g.name, region: m.region }, g);
      byRegion.set(m.region, region);
      group.children.push(region);
    }
    const host = g.probe === 'http' ? `http://${bracket(address)}${g.port ? ':' + g.port : ''}${g.url_path}` : address;
    const name = nodeName(m.name);
    region.children.push({
      ...groupNode(`${region.path}/${name}`, name, { mesh: g.name, region: m.region, agent: m.name }, g),
      title: `${m.name} (${address})`,
      agents: probers.filter((p) => !p.builtin).map((p) => p.name),
      server_probes: probers.some((p) => p.builtin),
      probe: { host, preset: g.probe, type: g.probe, params },
    });
  }
  return group.children.length ? group : undefined;
}

/** `/<name>/<region>/<target>`: ProberMesh probe-file entries, probed from every (other) region. */
function staticNode(name: string, list: readonly StaticRegionTargets[], d: MeshDefaults, members: readonly MeshMember[]): TargetNode | undefined {
  const group = groupNode('/' + name, name, {}, {});
  const allRegions = [...new Set(members.map((m) => m.region))];
  for (const s of list) {
    const sources = (s.regions ?? allRegions).filter((r) => s.self_region || r !== s.region);
    const probers = members.filter((m) => sources.includes(m.region));
    let region = group.children.find((c) => c.labels.region === s.region);
    if (!region) {
      region = groupNode(`${group.path}/${nodeName(s.region)}`, nodeName(s.region), { region: s.region }, s);
      group.children.push(region);
    }
    const params = resolveParams(s.type, d, s, s.http);
    for (const target of s.targets) {
      let leaf = nodeName(trimTrailingSlashes(target.replace(/^[a-z][a-z0-9+.-]*:\/\//i, ''))) || 'target';
      for (let i = 2; region.children.some((c) => c.name === leaf); i++) leaf = `${leaf.replace(/ #\d+$/, '')} #${i}`;
      region.children.push({
        ...groupNode(`${region.path}/${leaf}`, leaf, { region: s.region }, s),
        title: target,
        agents: s.self_region && s.regions === undefined ? 'all' : { region: sources },
        server_probes: probers.some((p) => p.builtin),
        probe: { host: target, preset: s.type, type: s.type, params },
      });
    }
  }
  return group.children.length ? group : undefined;
}

function groupNode(path: string, name: string, labels: Record<string, string>, alerting: { alerts?: string[]; alertee?: string[] }): TargetNode {
  return {
    path, name, menu: name, title: name, hide: false, labels,
    alerts: alerting.alerts ?? [], alertee: alerting.alertee ?? [],
    agents: 'none', server_probes: false, shard: 'none', children: [],
  };
}

/** Preset defaults, then the group's own settings, validated with the probe's defaults filled in. */
function resolveParams(
  type: 'icmp' | 'tcp' | 'http', d: MeshDefaults,
  own: { pings?: number; step?: number; timeout?: number; port?: number }, extra: Record<string, unknown> | undefined,
): ProbedTarget['params'] {
  const { type: _t, ...preset } = d.presets[type] ?? { type };
  const params: Record<string, unknown> = {
    pings: d.general.pings, step: d.general.step, offset: d.general.offset, timeout: DEFAULT_TIMEOUT[type],
    ...preset, ...(extra ?? {}),
  };
  if (own.pings !== undefined) params.pings = own.pings;
  if (own.step !== undefined) params.step = own.step;
  if (own.timeout !== undefined) params.timeout = own.timeout;
  if (type === 'tcp' && own.port !== undefined) params.port = own.port;
  // parseMesh already checked the fields; this fills the probe's defaults.
  validate(PARAMS_SCHEMAS[type], params);
  return params as ProbedTarget['params'];
}

/** A valid node name from any text: "/" and "~" are not allowed in names. */
export function nodeName(s: string): string {
  return s.replace(/[/~]/g, '_').replace(/^\s+/, '') || '_';
}

function bracket(address: string): string {
  return address.includes(':') ? `[${address}]` : address;
}
