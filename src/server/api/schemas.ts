import Type, { type Static } from 'typebox';
import { PROBE_TYPES, RoundSchema } from '../../probes/round.ts';
import { NullableNumber as nullable } from '../../schema.ts';
import { SeriesPointSchema, type SeriesPoint } from '../../store/types.ts';
import { AgentInfoSchema } from '../../plan/agent-info.ts';

/**
 * Schemas of the read API (/api/v1): one source for request validation, response
 * serialization, the OpenAPI description and the web app's types.
 */

const Labels = Type.Record(Type.String(), Type.String());
const NullableNumber = nullable();

/**
 * A node of the target tree as the UI sees it. `children` are TreeNodes again; the schema
 * leaves them open because recursive $refs trip the serializer and the OpenAPI generator.
 */
export const TreeNodeSchema = Type.Object({
  path: Type.String({ description: 'identity, e.g. /Group/host; the root is /' }),
  name: Type.String(),
  menu: Type.String(),
  title: Type.String(),
  remark: Type.Optional(Type.String()),
  hidden: Type.Boolean({ description: 'hide: true in the config (kept out of menus, still reachable)' }),
  host: Type.Optional(Type.String()),
  probe: Type.Optional(Type.Enum(PROBE_TYPES)),
  labels: Labels,
  agents: Type.Array(Type.String(), { description: 'agents that probe it or have data for it' }),
  children: Type.Array(Type.Unknown({ description: 'TreeNode' })),
});
export interface TreeNode extends Omit<Static<typeof TreeNodeSchema>, 'children'> {
  children: TreeNode[];
}

/** A tree node without its subtree (children are listed shallow). */
const { children: _children, ...nodeFields } = TreeNodeSchema.properties;
export const NodeSummarySchema = Type.Object({
  ...nodeFields,
  group: Type.Boolean({ description: 'true when the node has children' }),
});
export type NodeSummary = Static<typeof NodeSummarySchema>;

export const TargetDetailSchema = Type.Object({
  ...NodeSummarySchema.properties,
  settings: Type.Optional(Type.Object({
    pings: Type.Integer(),
    step: Type.Integer({ description: 'seconds per round' }),
    timeout: Type.Integer({ description: 'ms per attempt' }),
    preset: Type.String(),
    params: Type.Record(Type.String(), Type.Unknown(), { description: 'every resolved probe parameter' }),
  })),
  breadcrumbs: Type.Array(Type.Object({ path: Type.String(), menu: Type.String() })),
  children: Type.Array(NodeSummarySchema),
});
export type TargetDetail = Static<typeof TargetDetailSchema>;

export { SeriesPointSchema, type SeriesPoint };

export const SeriesSchema = Type.Object({
  target: Type.String(),
  agent: Type.String(),
  tier: Type.String({ description: "'raw' or a rollup tier ('5m', '1h', '1d')" }),
  resolution: Type.Number({ description: 'seconds per point' }),
  points: Type.Array(SeriesPointSchema),
});
export type Series = Static<typeof SeriesSchema>;

export const SeriesResponseSchema = Type.Object({
  target: Type.String(),
  probe: Type.Optional(Type.Enum(PROBE_TYPES)),
  pings: Type.Optional(Type.Integer()),
  step: Type.Optional(Type.Integer()),
  from: Type.Number(),
  to: Type.Number(),
  series: Type.Array(SeriesSchema),
});
export type SeriesResponse = Static<typeof SeriesResponseSchema>;

/** A point as a small overview graph needs it: the smoke, the median and the loss. */
export const MiniPointSchema = Type.Object({
  time: Type.Number(),
  loss_pct: NullableNumber,
  median: NullableNumber,
  smoke: Type.Array(Type.Number()),
});
export type MiniPoint = Static<typeof MiniPointSchema>;

/**
 * One agent's series of a target as the overview's small graphs draw it, column by column and
 * in small integers (docs/ui.md, "Reading an overview series"): point i starts at start + (dt[0] + … + dt[i]) s.
 */
export const OverviewSeriesSchema = Type.Object({
  agent: Type.String(),
  tier: Type.String({ description: "'raw' or a rollup tier ('5m', '1h', '1d')" }),
  resolution: Type.Number({ description: 'seconds per point' }),
  start: Type.Number({ description: 'ms since the epoch: the first point\'s time is start + dt[0] s (0 when there is no point)' }),
  dt: Type.Array(Type.Integer(), { description: 'seconds from the previous point (the first: from start, 0)' }),
  loss: Type.Array(NullableNumber, { description: 'loss in % (one decimal) per point; null when nothing was sent' }),
  unit: Type.Number({ description: 'ms per step of median and smoke (the series\' scale / 100, at least 0.001)' }),
  median: Type.Array(NullableNumber, { description: 'median per point in units (an integer); null when nothing was received' }),
  smoke: Type.Array(Type.Array(Type.Integer()), {
    description: 'per point, the RTTs at the response\'s levels as steps (in units) outward from the median: for the lower half of '
      + 'the levels from the nearest down, then for the rest from the nearest up; empty when nothing was received',
  }),
});
export type OverviewSeries = Static<typeof OverviewSeriesSchema>;

export const OverviewResponseSchema = Type.Object({
  path: Type.String(),
  from: Type.Number(),
  to: Type.Number(),
  total: Type.Integer({ description: 'probed targets under the group (hidden ones left out)' }),
  offset: Type.Integer({ description: 'targets skipped before the first in targets (the request\'s offset)' }),
  limit: Type.Integer({ description: 'most targets one answer holds (the request\'s limit)' }),
  levels: Type.Array(Type.Number(), { description: 'quantile levels of every point\'s smoke, ascending' }),
  targets: Type.Array(Type.Object({
    target: Type.String(),
    pings: Type.Integer(),
    step: Type.Integer(),
    series: Type.Array(OverviewSeriesSchema),
  })),
});
export type OverviewResponse = Static<typeof OverviewResponseSchema>;

/** A series' latest round: the round itself plus its loss in percent. */
export const LatestRoundSchema = Type.Object({
  ...RoundSchema.properties,
  loss_pct: NullableNumber,
});
export type LatestRound = Static<typeof LatestRoundSchema>;

export const TOP_METRICS = ['loss', 'median', 'max', 'stddev'] as const;
/** SmokePing's sorters, plus the change of the median against the period before. */
export const CHART_SORTERS = [...TOP_METRICS, 'change'] as const;
export type ChartSorter = (typeof CHART_SORTERS)[number];
export const TOP_WINDOWS = ['last', '1h'] as const;

export const TopRowSchema = Type.Object({
  target: Type.String(),
  agent: Type.String(),
  value: Type.Number({ description: 'loss in %, the others in ms' }),
  loss_pct: NullableNumber,
  median: NullableNumber,
  time: Type.Number(),
});
export type TopRow = Static<typeof TopRowSchema>;

/** An agent (the built-in one included). */
export const AgentSchema = AgentInfoSchema;
export type Agent = Static<typeof AgentSchema>;

/**
 * An answer whose body is not JSON (a release download): its media type, described in the
 * OpenAPI document as a binary string. Fastify sends a stream or a buffer as it is; no
 * serializer touches it.
 */
export function binaryAnswer(mediaType: string, description: string): BinaryAnswer {
  return { description, content: { [mediaType]: { schema: { type: 'string', format: 'binary' } } } };
}
export interface BinaryAnswer {
  description: string;
  content: Record<string, { schema: { type: 'string'; format: 'binary' } }>;
}

/** Body of every 4xx answer (the server's error handler shape). */
export const ErrorSchema = Type.Object({
  code: Type.String({ description: 'stable code, e.g. FST_ERR_VALIDATION or SMOKEMESH_E_NOT_FOUND' }),
  error: Type.String({ description: 'what is wrong, naming the parameter' }),
});

export const ChartRowSchema = Type.Object({
  target: Type.String(),
  agent: Type.String(),
  title: Type.Optional(Type.String({ description: "the target's title, when the config still has it" })),
  value: Type.Number({ description: 'what it is ranked by: loss in %, change in ms, the others in ms' }),
  previous: Type.Optional(NullableNumber),
  loss_pct: NullableNumber,
  median: NullableNumber,
  pings: Type.Optional(Type.Integer({ description: "the target's pings per round (loss colours)" })),
  series: OverviewSeriesSchema,
});
export type ChartRow = Static<typeof ChartRowSchema>;

export const ChartsResponseSchema = Type.Object({
  sorter: Type.Enum(CHART_SORTERS),
  range: Type.Integer({ description: 'ms ranked over; change compares it with the range before' }),
  from: Type.Number({ description: 'start of the graphs (for change: of the period before)' }),
  to: Type.Number(),
  rows: Type.Array(ChartRowSchema),
});
export type ChartsResponse = Static<typeof ChartsResponseSchema>;

/** The config's presentation section as the UI needs it, and the server's own time zone. */
export const PresentationViewSchema = Type.Object({
  time_zone: Type.Enum(['browser', 'server', 'UTC'], { description: 'the default; each viewer may pick another' }),
  server_time_zone: Type.String({ description: "IANA zone of the server's clock, e.g. Asia/Shanghai" }),
  overview_range: Type.Integer({ description: 'ms of the small graphs' }),
  detail_ranges: Type.Array(Type.Object({
    span: Type.String({ description: 'as written, e.g. 30h: the id in URLs' }),
    ms: Type.Integer(),
    title: Type.Optional(Type.String()),
  })),
  charts_count: Type.Integer(),
});
export type PresentationView = Static<typeof PresentationViewSchema>;
