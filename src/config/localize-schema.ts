import Type, { type Static } from 'typebox';
import { RecipientsSchema } from './alerts-schema.ts';

/**
 * The `localize:` section: localization scopes, each a set of series (targets × agents) whose
 * bad rounds are explained by as few causes as possible — a vantage point, a vantage network
 * (ISP), a destination group (IDC), a vantage cell (province × ISP) or one item (VIP). The
 * defaults are the thresholds of the seed article; docs/localize.md explains every field.
 */

/** A fraction written as a number (0.5) or exactly as a ratio ("1/3"); `def` is its default. */
function Fraction(def: number | string, description: string) {
  return Type.Union([
    Type.Number({ minimum: 0, maximum: 1 }),
    Type.String({ pattern: '^\\s*\\d{1,6}\\s*/\\s*[1-9]\\d{0,5}\\s*$' }),
  ], { default: def, description: `${description} (a number from 0 to 1, or a ratio such as "1/3")` });
}

/** Label matchers: every key must carry one of the values given (a string or a list). */
export const LabelMatchSchema = Type.Record(Type.String({ minLength: 1 }), Type.Union([Type.String(), Type.Array(Type.String(), { minItems: 1 })]), {
  description: 'label key → value or list of values; every key must match',
});

/** Target paths: exact (`/IDC/bj/vip1`), a subtree (`/IDC/**`), `*` for one path segment. */
const PathPatterns = Type.Array(Type.String({ pattern: '^/', maxLength: 1000 }), { description: 'target paths: /exact, /subtree/**, * = one segment' });

const TargetSelectSchema = Type.Object({
  paths: Type.Optional(PathPatterns),
  labels: Type.Optional(LabelMatchSchema),
  probes: Type.Optional(Type.Array(Type.Enum(['icmp', 'tcp', 'dns', 'http']), { minItems: 1 })),
}, { additionalProperties: false, default: {}, description: 'which targets; default all' });

const AgentSelectSchema = Type.Object({
  names: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
  regions: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
  labels: Type.Optional(LabelMatchSchema),
}, { additionalProperties: false, default: {}, description: 'which agents; default all' });

const LabelKey = Type.String({ minLength: 1, maxLength: 64 });

export const RolesSchema = Type.Object({
  vantage: Type.Array(LabelKey, {
    minItems: 1, maxItems: 4,
    description: 'agent label keys of the vantage group, most general first: [isp, province]; the first key is the vantage network (ISP), all keys together the vantage cell ("region" and "agent" are always available)',
  }),
  destination: Type.Array(LabelKey, {
    minItems: 1, maxItems: 4,
    description: 'target label keys of the destination group: [idc] ("path" = the target\'s parent group)',
  }),
  item: Type.String({ minLength: 1, maxLength: 64, default: 'path', description: 'target label key of one item (e.g. vip); "path": each target is an item' }),
  site: Type.String({ minLength: 1, maxLength: 64, default: 'agent', description: 'agent label key whose agents share one site (one vantage point); "agent": each agent alone' }),
}, { additionalProperties: false });

export const BadRuleSchema = Type.Object({
  loss_pct: Type.Number({ minimum: 0, maximum: 100, default: 50, description: 'a round is bad when its loss is above this percentage (article: 50)' }),
  latency_factor: Type.Number({ minimum: 0, default: 3, description: 'a round is bad when its median is above this many times the series\' baseline; 0 turns the latency rule off' }),
  latency_min_increase_ms: Type.Number({ minimum: 0, default: 20, description: 'and at least this many ms above it (keeps sub-ms LAN jitter out)' }),
  baseline_rounds: Type.Integer({ minimum: 2, maximum: 100000, default: 60, description: 'time constant of the baseline (EWMA over good rounds), in rounds' }),
  baseline_min_rounds: Type.Integer({ minimum: 1, maximum: 100000, default: 10, description: 'good rounds a series needs before the latency rule applies to it' }),
}, { additionalProperties: false, default: {} });

const VantageThresholds = Type.Object({
  bad_fraction: Fraction(0.8, 'a site sees (nearly) everything bad: at least this fraction of its series'),
  min_series: Type.Integer({ minimum: 1, default: 3, description: 'series a site needs before it can be judged' }),
  others_bad_fraction: Fraction('1/2', 'the others who measure the same items see below this fraction of them bad'),
}, { additionalProperties: false, default: {} });

const NetworkThresholds = Type.Object({
  suspected: Fraction('1/3', 'of the network\'s cells (provinces), or of the items it measures, bad'),
  confirmed: Fraction('1/2', 'of its cells or of the items it measures, bad: confirmed'),
  min_cells: Type.Integer({ minimum: 1, default: 3, description: 'the cell clause needs this many cells in the network' }),
  min_items: Type.Integer({ minimum: 1, default: 3, description: 'the item clause needs this many bad items' }),
  destinations: Fraction('1/2', 'and its bad items must lie in at least this fraction of the destination groups it measures (bad concentrated in one group is that group, or the path to it)'),
}, { additionalProperties: false, default: {} });

const DestinationThresholds = Type.Object({
  networks: Type.Integer({ minimum: 1, default: 2, description: 'confirmed when at least this many vantage networks (ISPs) see the group bad' }),
  network_sees: Fraction('1/2', 'a network sees the group bad when at least this fraction of its items there are bad from it'),
  suspected: Fraction('1/3', 'of the group\'s items bad (groups with more than suspected_min_items items)'),
  suspected_min_items: Type.Integer({ minimum: 0, default: 10, description: 'the suspected clause needs more items than this (article: more than 10 VIPs)' }),
  confirmed: Fraction('1/2', 'of the group\'s items bad'),
  min_bad_items: Type.Integer({ minimum: 1, default: 2, description: 'a group fault needs at least this many bad items (one bad item is an item fault)' }),
}, { additionalProperties: false, default: {} });

const CellThresholds = Type.Object({
  bad_fraction: Fraction('1/2', 'a cell is bad when at least this fraction of its series are bad'),
  min_series: Type.Integer({ minimum: 1, default: 3 }),
  item_bad_fraction: Fraction('1/2', 'a cell sees an item bad when at least this fraction of its series to it are bad'),
}, { additionalProperties: false, default: {} });

const ItemThresholds = Type.Object({
  cells: Fraction('1/2', 'an item is bad from a network when more than this fraction of the network\'s cells that measure it see it bad'),
}, { additionalProperties: false, default: {} });

export const ThresholdsSchema = Type.Object({
  vantage: VantageThresholds,
  network: NetworkThresholds,
  destination: DestinationThresholds,
  cell: CellThresholds,
  item: ItemThresholds,
}, { additionalProperties: false, default: {} });

export const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
const HourMinute = Type.String({ pattern: '^([01]\\d|2[0-3]):[0-5]\\d$', description: 'HH:MM, UTC' });

/** A maintenance window: one-off (start, end) or weekly (days, from, to; UTC), for some targets / agents or all. */
export const MaintenanceSchema = Type.Object({
  start: Type.Optional(Type.String({ format: 'date-time' })),
  end: Type.Optional(Type.String({ format: 'date-time' })),
  weekly: Type.Optional(Type.Object({
    days: Type.Array(Type.Enum(WEEKDAYS), { minItems: 1 }),
    from: HourMinute,
    to: HourMinute,
  }, { additionalProperties: false })),
  targets: Type.Optional(PathPatterns),
  agents: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
  labels: Type.Optional(LabelMatchSchema),
  comment: Type.String({ default: '' }),
}, { additionalProperties: false });

export const WhitelistSchema = Type.Object({
  targets: Type.Optional(PathPatterns),
  agents: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
  labels: Type.Optional(LabelMatchSchema),
}, { additionalProperties: false, default: {}, description: 'series that never count (the article\'s 加白): by target, agent, or target/agent labels' });

export const RouteSchema = Type.Object({
  labels: LabelMatchSchema,
  to: RecipientsSchema,
}, { additionalProperties: false, description: 'a cause whose affected targets carry these labels also goes to `to`' });

/**
 * Alerts of the region × region cells: a (source region → target region) pair whose series
 * (agent → target, source region = the agent's region, target region = the target's `region`
 * label, as the mesh aggregates them) are bad in a quorum is one cause of its own.
 */
export const RegionPairsSchema = Type.Object({
  alert: Type.Enum(['down', 'degraded'], { default: 'down', description: 'raise on "down" only, or on "degraded" too (degraded is sent as suspected, down as confirmed)' }),
  degraded: Fraction('1/3', 'the pair is degraded when at least this fraction of its series (agent → target) are bad'),
  down: Fraction('1/2', 'the pair is down when at least this fraction of its series are bad'),
  min_series: Type.Integer({ minimum: 1, default: 3, description: 'series a pair needs before it can be judged' }),
}, { additionalProperties: false });

export const LocalizeScopeSchema = Type.Object({
  name: Type.String({ pattern: '^[-_0-9a-zA-Z.]{1,64}$', description: 'letters, digits, "-", "_", "."' }),
  title: Type.Optional(Type.String()),
  targets: TargetSelectSchema,
  agents: AgentSelectSchema,
  roles: RolesSchema,
  bad: BadRuleSchema,
  raise_after: Type.Integer({ minimum: 1, maximum: 1000, default: 3, description: 'k: a cause is raised once it was inferred in k steps in a row (drops glitches shorter than k-1 steps)' }),
  clear_after: Type.Integer({ minimum: 1, maximum: 1000, default: 3, description: 'h: a raised cause clears after h steps in a row without it' }),
  stale_steps: Type.Integer({ minimum: 1, maximum: 1000, default: 3, description: 'a series whose latest round is older than this many steps is left out' }),
  thresholds: ThresholdsSchema,
  region_pairs: Type.Optional(RegionPairsSchema),
  whitelist: WhitelistSchema,
  maintenance: Type.Array(MaintenanceSchema, { default: [] }),
  to: Type.Optional(RecipientsSchema),
  routes: Type.Array(RouteSchema, { default: [] }),
  notify_clear: Type.Boolean({ default: true, description: 'send "cleared" when a cause ends' }),
  trace_agents: Type.Integer({ minimum: 0, maximum: 2, default: 2, description: 'when a cause is raised, this many of its affected agents (0: none) run mtr toward one affected target as a task (tasks policy, limits and auto_trace apply); its notification waits for the trace' }),
  hold_target_alerts: Type.Boolean({ default: true, description: 'target alerts of series in this scope wait up to raise_after + 1 steps so that a cause explaining them suppresses them' }),
  comment: Type.String({ default: '' }),
}, { additionalProperties: false });

export const LocalizeSectionSchema = Type.Object({
  scopes: Type.Array(LocalizeScopeSchema, { default: [] }),
}, { additionalProperties: false });

export type LocalizeScopeConfig = Static<typeof LocalizeScopeSchema>;
export type LocalizeSection = Static<typeof LocalizeSectionSchema>;
export type Thresholds = Static<typeof ThresholdsSchema>;
export type RegionPairs = Static<typeof RegionPairsSchema>;
export type BadRule = Static<typeof BadRuleSchema>;
export type Roles = Static<typeof RolesSchema>;
export type LabelMatch = Static<typeof LabelMatchSchema>;
export type Maintenance = Static<typeof MaintenanceSchema>;
export type Whitelist = Static<typeof WhitelistSchema>;
