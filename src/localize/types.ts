import Type, { type Static } from 'typebox';
import { NullableNumber } from '../schema.ts';
import type { SeriesColumns } from './memory.ts';

/**
 * Shapes of the localization engine: what one step takes (the latest round of every series of
 * a scope), what it keeps between steps, and what it returns (causes with their evidence, the
 * matrix, the cause explaining each series). Causes and matrix cells are typebox schemas: the
 * API serves them as they are.
 */

/** Most general first: the order in which causes are inferred. */
export const CAUSE_KINDS = ['vantage', 'network', 'destination', 'path', 'cell', 'item'] as const;
export type CauseKind = (typeof CAUSE_KINDS)[number];

/** The latest round of one series (target × agent) with the labels its roles are read from. */
export interface SeriesInput {
  target: string;
  agent: string;
  /** seriesKey(target, agent), when the caller keeps it (a kept string hashes once, not every step). */
  key?: string;
  /** Target labels; `path` (the target path) is implied. */
  targetLabels: Readonly<Record<string, string>>;
  /** Agent labels; `agent` and `region` are implied. */
  agentLabels: Readonly<Record<string, string>>;
  agentRegion: string;
  /** The round: start time (ms), step (s), pings sent and lost, median RTT (ms). */
  time: number;
  step: number;
  sent: number;
  lost: number;
  median: number | null;
}

/** What the engine remembers of one series between steps. */
export interface SeriesMemo {
  /** Time of the newest round already counted (a round is counted once). */
  last: number;
  /** Baseline median (EWMA of good rounds), null until the first good round. */
  base: number | null;
  /** Good rounds the baseline has seen. */
  samples: number;
  /** Whether the newest counted round was bad, and why. */
  bad: false | 'loss' | 'latency';
  /** Start of the current run of bad rounds, or null when the latest round is good. */
  badSince: number | null;
}

/** What the engine remembers of one cause between steps. */
export interface CauseMemo {
  cause: Cause;
  /** Steps in a row it was inferred (up to raise_after), and steps in a row it was not. */
  run: number;
  missing: number;
}

/** The engine's whole memory; the step function never changes the state it is given. */
export interface LocalizeState {
  series: SeriesColumns;
  causes: Map<string, CauseMemo>;
  /** Time of the last step. */
  time: number;
}

export const EvidenceCellSchema = Type.Object({
  vantage: Type.String({ description: 'vantage cell, role values joined with " / " (e.g. "telecom / beijing")' }),
  destination: Type.String({ description: 'destination group (e.g. "bj-idc")' }),
  bad: Type.Integer({ description: 'bad series in the cell' }),
  total: Type.Integer(),
});

export const CountSchema = Type.Object({ bad: Type.Integer(), total: Type.Integer() });

export const CauseSchema = Type.Object({
  id: Type.String({ description: 'stable identity: scope/kind/key' }),
  scope: Type.String(),
  kind: Type.Enum(CAUSE_KINDS, { description: 'vantage (our probe), network (e.g. an ISP), destination (e.g. an IDC), path (one network to one destination: peering, uplink), cell (e.g. one ISP in one province), item (e.g. one VIP)' }),
  key: Type.Record(Type.String(), Type.String(), { description: 'the role values that name it, e.g. {"idc": "bj-1"}' }),
  title: Type.String({ description: 'e.g. "destination idc=bj-1"' }),
  confidence: Type.Enum(['suspected', 'confirmed']),
  rule: Type.String({ description: 'the clause that fired, with its figures' }),
  first_bad: Type.Integer({ description: 'start of the earliest current bad run among its series (ms)' }),
  inferred_since: Type.Integer({ description: 'first step of the current run of steps it was inferred in (ms)' }),
  raised: NullableNumber({ description: 'when it was raised (ms); null while still pending (inferred fewer than raise_after steps)' }),
  last_seen: Type.Integer({ description: 'last step it was inferred in (ms)' }),
  series: CountSchema,
  items: Type.Optional(CountSchema),
  cells_count: Type.Optional(Type.Object({ bad: Type.Integer(), total: Type.Integer() }, { description: 'vantage cells (network causes)' })),
  networks: Type.Optional(Type.Object({ seeing: Type.Array(Type.String()), total: Type.Integer() }, { description: 'vantage networks that see it bad, of those measuring it' })),
  peers: Type.Optional(Type.Object({ bad: Type.Integer(), total: Type.Integer() }, { description: 'vantage causes: other sites of the same vantage cell that see everything bad too' })),
  others_bad_pct: Type.Optional(Type.Number({ description: 'vantage causes: percentage of bad series among the other sites measuring the same items' })),
  loss_pct: NullableNumber({ description: 'pooled loss of its bad series\' latest rounds' }),
  median: NullableNumber({ description: 'median of its bad series\' medians (ms)' }),
  bad_cells: Type.Array(EvidenceCellSchema, { description: 'the matrix cells with bad series, worst first (at most 50)' }),
  affected: Type.Record(Type.String(), Type.Record(Type.String(), Type.Integer()), { description: 'per routing label key (e.g. business): value → bad series' }),
  agents: Type.Array(Type.String(), { description: 'vantage causes: the agents of the site' }),
});
export type Cause = Static<typeof CauseSchema>;

export const CauseEventSchema = Type.Object({
  state: Type.Enum(['raised', 'cleared']),
  time: Type.Integer(),
  cause: CauseSchema,
});
export type CauseEvent = Static<typeof CauseEventSchema>;

export const MatrixCellSchema = Type.Object({
  row: Type.String({ description: 'vantage cell' }),
  column: Type.String({ description: 'destination group' }),
  series: Type.Integer(),
  bad: Type.Integer(),
  loss_pct: NullableNumber({ description: 'pooled loss of the latest rounds' }),
  median: NullableNumber({ description: 'median of the series\' medians (ms)' }),
  cause: Type.Optional(Type.String({ description: 'id of the cause explaining most of its bad series' })),
});
export type MatrixCell = Static<typeof MatrixCellSchema>;

/** Everything one step returns. */
export interface StepResult {
  state: LocalizeState;
  /** Raised causes (and pending ones: raised === null), most general first. */
  causes: Cause[];
  events: CauseEvent[];
  /** Series key (`target\0agent`) → id of the raised cause that explains it. */
  explain: Map<string, string>;
  matrix: MatrixCell[];
  counts: { series: number; bad: number; excluded: number; stale: number; unlabelled: number; unexplained: number };
}

/** The key of a series in the state and in `explain`. */
export const seriesKey = (target: string, agent: string): string => `${target}\u0000${agent}`;
