import Type, { type Static } from 'typebox';
import { NullableNumber } from '../schema.ts';
import { CAUSE_KINDS, CauseSchema, type Cause, type CauseKind } from '../alerts/cause.ts';
import type { SeriesColumns, SeriesMemo } from './memory.ts';

export { CAUSE_KINDS, CauseSchema, type Cause, type CauseKind, type SeriesMemo };

/**
 * Shapes of the localization engine: what one step takes (the latest round of every series of
 * a scope), what it keeps between steps, and what it returns (causes with their evidence, the
 * matrix, the cause explaining each series). Causes and matrix cells are typebox schemas: the
 * API serves them as they are.
 */

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

/** What the engine remembers of one cause between steps. */
export interface CauseMemo {
  cause: Cause;
  /** Steps in a row it was inferred (up to raise_after), and steps in a row it was not. */
  run: number;
  missing: number;
  /**
   * A raised cause: steps in a row it was inferred at another confidence than the one it holds
   * (its confidence changes once that lasted raise_after steps up, or clear_after steps down).
   */
  shift?: number;
}

/** The engine's whole memory; the step function never changes the state it is given. */
export interface LocalizeState {
  series: SeriesColumns;
  causes: Map<string, CauseMemo>;
  /** Time of the last step. */
  time: number;
}

export const CauseEventSchema = Type.Object({
  state: Type.Enum(['raised', 'updated', 'cleared'], { description: 'updated: a raised cause changed its confidence (escalated or de-escalated)' }),
  time: Type.Integer(),
  cause: CauseSchema,
  from: Type.Optional(Type.Enum(['suspected', 'confirmed'], { description: 'updated: the confidence it had before' })),
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
export { seriesKey } from '../probes/round.ts';

/** An agent as the localization sees it: its name, region and labels (the roles are read from them). */
export interface LocalizeAgent {
  name: string;
  region: string;
  labels: Record<string, string>;
}
