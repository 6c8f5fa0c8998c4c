import Type, { type Static } from 'typebox';
import { CommonParamsSchema } from '../probes/params.ts';
import { MAX_PINGS, MAX_STEP, PROBE_TYPES } from '../probes/round.ts';

/**
 * Schemas of the core sections: general, store, probes and the target tree. They are the
 * one source of truth for these sections' types and validation.
 */

const NodeName = Type.String({ pattern: '^[^/~\\s][^/~]*$', description: 'node name: any UTF-8 text without "/" or "~"' });

export const GeneralSchema = Type.Object({
  step: Type.Integer({ minimum: 1, maximum: MAX_STEP, default: 60, description: 'seconds per round' }),
  pings: Type.Integer({ minimum: 1, maximum: MAX_PINGS, default: 20, description: 'attempts per round' }),
  offset: Type.String({ default: 'random', pattern: '^(random|\\d{1,2}(\\.\\d+)?%)$' }),
  data_dir: Type.String({ default: './data' }),
  listen: Type.String({ default: '0.0.0.0:8888', description: 'host:port of the web UI and API' }),
  agent_name: Type.Optional(Type.String({ minLength: 1, description: "name of the server's built-in agent; default: the host name" })),
  region: Type.Optional(Type.String({ minLength: 1, description: "region of the server's built-in agent" })),
  title: Type.String({ default: 'smokemesh' }),
  public_url: Type.Optional(Type.String({ description: 'URL of the UI, used in alert messages' })),
  admin_token_file: Type.Optional(Type.String({ description: 'bearer token for state-changing API calls; default <data_dir>/admin.token, created on first start' })),
  log_level: Type.Enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace'], { default: 'info' }),
  read_auth: Type.Optional(Type.Object({
    users_file: Type.Optional(Type.String({ minLength: 1, description: 'users who log in to the UI: name:scrypt hash per line (smokemesh user add NAME); mode 600' })),
    token_file: Type.Optional(Type.String({ minLength: 1, description: 'bearer token that reads the API (scripts, Grafana); mode 600' })),
    metrics_token_file: Type.Optional(Type.String({ minLength: 1, description: 'when set, /metrics needs this bearer token (or any read credential); otherwise /metrics stays open' })),
    health: Type.Enum(['open', 'protected'], { default: 'open', description: '/health without credentials (load balancers), or not' }),
    session_hours: Type.Integer({ minimum: 1, maximum: 720, default: 12, description: 'a login lasts this long' }),
  }, { additionalProperties: false, description: 'credentials for the UI and the read API (off when absent); see docs/security.md' })),
  tls: Type.Optional(Type.Object({
    cert_file: Type.String({ minLength: 1, description: 'PEM certificate (chain) the server presents' }),
    key_file: Type.String({ minLength: 1, description: 'PEM private key; must not be readable by group or others' }),
  }, { additionalProperties: false, description: 'serve the UI, API and agent API over HTTPS' })),
}, { additionalProperties: false, default: {} });

/** A probe preset (SmokePing's `*** Probes ***` entries): a type plus default parameters. */
export const ProbePresetSchema = Type.Object({
  type: Type.Enum(PROBE_TYPES),
}, { additionalProperties: true });

const LabelValue = Type.String();

/** Which agents probe a target: all of them, a list of names, or a selector. */
export const AgentSelectionSchema = Type.Union([
  Type.Literal('all'),
  Type.Literal('none'),
  Type.Array(Type.String({ minLength: 1 })),
  Type.Object({
    region: Type.Optional(Type.Union([Type.String(), Type.Array(Type.String())])),
    labels: Type.Optional(Type.Record(Type.String(), LabelValue)),
  }, { additionalProperties: false }),
]);

/**
 * One node of the target tree as written. Probe parameters (pings, port, url…) sit on the
 * node itself, as in SmokePing; `children` are validated node by node by the loader.
 */
export const TargetNodeSchema = Type.Object({
  menu: Type.Optional(Type.String()),
  title: Type.Optional(Type.String()),
  remark: Type.Optional(Type.String()),
  host: Type.Optional(Type.String({ minLength: 1 })),
  probe: Type.Optional(Type.String({ minLength: 1, description: 'name of a probe preset, or a probe type' })),
  alerts: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
  alertee: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
  agents: Type.Optional(AgentSelectionSchema),
  server_probes: Type.Optional(Type.Boolean({ description: 'false: only remote agents probe (SmokePing nomasterpoll)' })),
  labels: Type.Optional(Type.Record(Type.String({ minLength: 1 }), LabelValue)),
  hide: Type.Optional(Type.Boolean()),
  shard: Type.Optional(Type.Union([Type.Literal('none'), Type.Literal('per_region')])),
  depends_on: Type.Optional(Type.String({ pattern: '^/', description: 'a target path (a gateway, the DX link): while an alert of it is active, this node\'s alerts are recorded as suppressed; inherited' })),
  children: Type.Optional(Type.Record(NodeName, Type.Unknown())),
}, { additionalProperties: true });

/** Names of node keys that are structure, not probe parameters. */
export const NODE_KEYS = new Set(Object.keys(TargetNodeSchema.properties));
/** Keys that inherit down the tree besides probe parameters (SmokePing's rule). */
export const INHERITED_KEYS = ['probe', 'alerts', 'alertee', 'agents', 'server_probes', 'shard', 'depends_on'] as const;
/** Probe parameters common to every probe type. */
export const COMMON_PARAM_KEYS = Object.keys(CommonParamsSchema);

/** The VictoriaMetrics fields' forms, URLs and tenant are judged by src/config/vm-endpoints.ts (one message per problem, at its field). */
export const StoreSchema = Type.Object({
  backend: Type.Optional(Type.Enum(['sqlite', 'victoriametrics'], { default: 'sqlite', description: 'sqlite: one file in data_dir; victoriametrics: history in VictoriaMetrics at url (docs/scale.md)' })),
  url: Type.Optional(Type.String({ description: 'VictoriaMetrics single node base URL (http://host:8428); with backend victoriametrics, this or insert_url + select_url (the cluster) is required' })),
  insert_url: Type.Optional(Type.String({ description: 'VictoriaMetrics cluster: base URL of vminsert (http://vminsert:8480); writes go to <insert_url>/insert/<tenant>/prometheus/api/v1/import. Needs select_url; excludes url' })),
  select_url: Type.Optional(Type.String({ description: 'VictoriaMetrics cluster: base URL of vmselect (http://vmselect:8481); reads go to <select_url>/select/<tenant>/prometheus/api/v1/…, deletes to <select_url>/delete/<tenant>/… Needs insert_url; excludes url' })),
  tenant: Type.Optional(Type.Union([Type.String(), Type.Number()], { description: 'VictoriaMetrics cluster: the tenant, accountID or accountID:projectID (each 0 to 2^32-1); default "0". Only with insert_url and select_url' })),
  timeout_ms: Type.Optional(Type.Integer({ minimum: 100, default: 10000, description: 'victoriametrics: how long one query or import request may take' })),
  raw_days: Type.Number({ exclusiveMinimum: 0, default: 14, description: 'days every raw round is kept' }),
  tiers: Type.Array(Type.Object({
    bucket: Type.Integer({ minimum: 1, description: 'seconds per bucket' }),
    keep_days: Type.Number({ exclusiveMinimum: 0 }),
  }, { additionalProperties: false }), {
    default: [{ bucket: 300, keep_days: 90 }, { bucket: 3600, keep_days: 730 }, { bucket: 86400, keep_days: 3650 }],
  }),
  synchronous: Type.Enum(['full', 'normal'], { default: 'full', description: 'full: a written round survives power loss; normal: only a crash of smokemesh (faster on slow disks)' }),
  max_pending: Type.Optional(Type.Integer({ minimum: 0, description: 'sqlite: ignored (deprecated: the store no longer holds rounds in memory; writers keep them until they are committed); victoriametrics: rounds the local outbox holds while VictoriaMetrics cannot take them (default 200000), beyond it writes are refused with SMOKEMESH_E_UNAVAILABLE' })),
}, { additionalProperties: false, default: {} });

/**
 * The sections the target tree is built from. The whole file's schema is derived from the
 * list of sections (src/server/config-sections.ts); the other sections' values stay
 * `unknown` here and are read by their owners.
 */
export const CoreSchema = Type.Object({
  general: GeneralSchema,
  store: StoreSchema,
  probes: Type.Record(Type.String({ pattern: '^[-_0-9a-zA-Z.]+$' }), ProbePresetSchema, { default: {} }),
  targets: Type.Object({}, { additionalProperties: true, default: {} }),
});

export type GeneralConfig = Static<typeof GeneralSchema>;
export type StoreConfig = Static<typeof StoreSchema>;
export type ProbePreset = Static<typeof ProbePresetSchema>;
export type AgentSelection = Static<typeof AgentSelectionSchema>;
export type TargetNodeConfig = Static<typeof TargetNodeSchema>;
/** The file as read: the core sections typed, every other section as written. */
export type RawConfig = Static<typeof CoreSchema> & { [section: string]: unknown };
