import Type, { type Static } from 'typebox';
import type { ConfigIssue } from '../errors.ts';
import { PARAMS_SCHEMAS } from '../probes/params.ts';
import type { Config } from './loader.ts';
import { DEFAULT_TIMEOUT } from './probe-params.ts';
import { checkParams } from './resolve.ts';
import { collectIssues, type ConfigSection, type SectionCheck } from './section.ts';
import { validate } from './validate.ts';
import type { FieldPath } from './yaml.ts';

/**
 * The `mesh:` section: a list whose items are either mesh groups (every agent probes the
 * agents of the other regions, discovered live) or static region targets in ProberMesh's
 * probe-file form (`{type, region, targets, http}`), told apart by `targets`.
 */

const NodeName = Type.String({ pattern: '^[^/~\\s][^/~]*$', description: 'node name: any UTF-8 text without "/" or "~"' });
const Regions = Type.Array(Type.String({ minLength: 1 }), { description: 'source regions whose agents probe; default: all' });
const Common = {
  regions: Type.Optional(Regions),
  pings: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
  step: Type.Optional(Type.Integer({ minimum: 1, maximum: 86400 })),
  timeout: Type.Optional(Type.Integer({ minimum: 1, maximum: 60000 })),
  port: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535, description: 'tcp: port to connect to; http: port of the URL' })),
  alerts: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
  alertee: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
};

export const MeshGroupSchema = Type.Object({
  name: NodeName,
  probe: Type.Enum(['icmp', 'tcp', 'http'], { default: 'icmp' }),
  address: Type.Enum(['intranet', 'public'], { default: 'intranet', description: "which of an agent's addresses is probed" }),
  self_region: Type.Boolean({ default: false, description: 'agents also probe the other agents of their own region' }),
  url_path: Type.String({ default: '/', pattern: '^/', description: 'http: path of the URL built from the agent address' }),
  params: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { description: 'further parameters of the probe (e.g. icmp interval, packet_size)' })),
  include_server: Type.Boolean({ default: true, description: "the server's built-in agent is a member (probes and is probed)" }),
  ...Common,
}, { additionalProperties: false });

export const StaticRegionTargetsSchema = Type.Object({
  name: Type.Optional(NodeName),
  type: Type.Optional(Type.Enum(['icmp', 'tcp', 'http'])),
  /** ProberMesh's spelling of `type`. */
  prober_type: Type.Optional(Type.Enum(['icmp', 'tcp', 'http'])),
  region: Type.String({ minLength: 1, pattern: '^[^/~]+$', description: 'region the targets stand in (their target_region)' }),
  targets: Type.Array(Type.String({ minLength: 1 }), { minItems: 1 }),
  http: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { description: "blackbox_exporter's http module fields" })),
  self_region: Type.Boolean({ default: true, description: 'agents of the targets\' own region probe them too' }),
  ...Common,
}, { additionalProperties: false });

export type MeshGroup = Static<typeof MeshGroupSchema>;
export type StaticRegionTargets = Static<typeof StaticRegionTargetsSchema> & { type: 'icmp' | 'tcp' | 'http'; name: string };

export interface MeshConfig {
  groups: MeshGroup[];
  statics: StaticRegionTargets[];
}

/** Default group node of static region targets that give no `name`. */
export const STATIC_DEFAULT_NAME = 'regions';

/**
 * Reads and validates `config.raw.mesh`; every problem is returned located (file:line:col).
 * Group names must not collide with each other nor with top-level target nodes.
 */
export function parseMesh(config: Pick<Config, 'file' | 'raw' | 'locate' | 'targets' | 'general' | 'presets'>): { mesh: MeshConfig; issues: ConfigIssue[] } {
  const { issue, issues } = collectIssues(config);
  return { mesh: readMesh(config, { error: issue, warn: () => {} }), issues };
}

/** The `mesh:` entry of the list of sections. */
export const meshSection: ConfigSection = {
  key: 'mesh',
  schema: Type.Optional(Type.Unknown()),
  check: (c) => void readMesh(c.config, c),
};

/** Reads the mesh section, reporting each problem; what is valid is returned. */
function readMesh(config: Pick<Config, 'raw' | 'targets' | 'general' | 'presets'>, report: Pick<SectionCheck, 'error' | 'warn'>): MeshConfig {
  const mesh: MeshConfig = { groups: [], statics: [] };
  const issue = report.error;
  const raw = config.raw.mesh;
  if (raw === undefined || raw === null) return mesh;
  if (!Array.isArray(raw)) {
    issue(['mesh'], 'mesh must be a list of mesh groups ({name, probe, address, …}) and static region targets ({type, region, targets, …})');
    return mesh;
  }
  const names = new Map<string, string>();
  const taken = new Set(config.targets.children.map((c) => c.name));
  raw.forEach((item: unknown, i: number) => {
    const at = ['mesh', i];
    if (typeof item !== 'object' || item === null || Array.isArray(item)) {
      issue(at, 'each mesh item must be a mapping');
      return;
    }
    const isStatic = 'targets' in item;
    const schema = isStatic ? StaticRegionTargetsSchema : MeshGroupSchema;
    const found = validate(schema, item);
    for (const x of found) issue([...at, ...x.path], x.message);
    if (found.length) return;
    if (isStatic) {
      const s = item as Static<typeof StaticRegionTargetsSchema>;
      const type = s.type ?? s.prober_type;
      if (!type) return issue(at, 'static region targets need `type` (or `prober_type`): icmp, tcp or http');
      if (s.type && s.prober_type && s.type !== s.prober_type) return issue([...at, 'prober_type'], `contradicts type "${s.type}"`);
      if (type === 'tcp' && s.port === undefined) return issue(at, 'tcp targets need `port`');
      if (s.http && type !== 'http') return issue([...at, 'http'], 'an `http` block only applies to type http');
      if (s.http) {
        const known = new Set(Object.keys(PARAMS_SCHEMAS.http.properties));
        for (const k of Object.keys(s.http)) if (!known.has(k)) issue([...at, 'http', k], `unknown http field "${k}"; allowed: ${[...known].join(', ')}`);
      }
      checkMeshParams(config, type, s, s.http, 'http', at, report);
      const name = s.name ?? STATIC_DEFAULT_NAME;
      if (taken.has(name)) issue([...at, 'name'], `"${name}" is already a top-level target node; give these targets another name`);
      mesh.statics.push({ ...s, type, name });
      const kind = names.get(name);
      if (kind === 'group') issue([...at, 'name'], `"${name}" is already a mesh group`);
      names.set(name, 'static');
    } else {
      const g = item as MeshGroup;
      if (g.probe === 'tcp' && g.port === undefined) return issue(at, 'a tcp mesh needs `port`');
      if (g.params) {
        const known = new Set(Object.keys(PARAMS_SCHEMAS[g.probe].properties));
        for (const k of Object.keys(g.params)) if (!known.has(k)) issue([...at, 'params', k], `unknown ${g.probe} parameter "${k}"; allowed: ${[...known].join(', ')}`);
      }
      checkMeshParams(config, g.probe, g, g.params, 'params', at, report);
      if (taken.has(g.name)) issue([...at, 'name'], `"${g.name}" is already a top-level target node; give the mesh another name`);
      if (names.has(g.name)) issue([...at, 'name'], `"${g.name}" is used twice in mesh`);
      names.set(g.name, 'group');
      mesh.groups.push(g);
    }
  });
  return mesh;
}

/**
 * The parameters a mesh group's or static list's targets get (as src/plan/mesh.ts resolves
 * them: general, preset, the block of extra fields, then pings/step/timeout/port of the
 * item), checked as a target's are: schema, regexps, round fit.
 */
function checkMeshParams(
  config: Pick<Config, 'general' | 'presets'>, type: 'icmp' | 'tcp' | 'http',
  own: { pings?: number; step?: number; timeout?: number; port?: number }, extra: Record<string, unknown> | undefined,
  extraKey: string, at: FieldPath, report: Pick<SectionCheck, 'error' | 'warn'>,
): void {
  const g = config.general;
  const { type: _t, ...preset } = config.presets[type] ?? { type };
  const params: Record<string, unknown> = { pings: g.pings, step: g.step, offset: g.offset, timeout: DEFAULT_TIMEOUT[type], ...preset };
  const origin: Record<string, FieldPath> = {};
  const known = new Set(Object.keys(PARAMS_SCHEMAS[type].properties));
  for (const [k, v] of Object.entries(extra ?? {})) {
    if (!known.has(k)) continue;
    params[k] = v;
    origin[k] = [...at, extraKey, k];
  }
  const keys: ('pings' | 'step' | 'timeout' | 'port')[] = type === 'tcp' ? ['pings', 'step', 'timeout', 'port'] : ['pings', 'step', 'timeout'];
  for (const k of keys) {
    if (own[k] === undefined) continue;
    params[k] = own[k];
    origin[k] = [...at, k];
  }
  checkParams(type, params, origin, at, report);
}
