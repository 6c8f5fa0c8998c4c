import Type, { type Static } from 'typebox';
import { NullableNumber } from '../schema.ts';

/**
 * A localization cause with its evidence, as alert events carry it (`AlertEvent.cause`) and the
 * API serves it. The localization engine (src/localize/) produces them; docs/localize.md
 * explains every field.
 */

/** Most general first: the order in which causes are inferred. */
export const CAUSE_KINDS = ['vantage', 'network', 'destination', 'region_pair', 'path', 'cell', 'item'] as const;
export type CauseKind = (typeof CAUSE_KINDS)[number];

export const EvidenceCellSchema = Type.Object({
  vantage: Type.String({ description: 'vantage cell, role values joined with " / " (e.g. "telecom / beijing")' }),
  destination: Type.String({ description: 'destination group (e.g. "bj-idc")' }),
  bad: Type.Integer({ description: 'bad series in the cell' }),
  total: Type.Integer(),
});

export const CountSchema = Type.Object({ bad: Type.Integer(), total: Type.Integer() });

/**
 * A path trace attached to a notification: an alert's (`trace: true`) or a cause's evidence
 * trace, run as an mtr task (src/tasks/traces.ts).
 */
export const TraceNoteSchema = Type.Object({
  task: Type.Optional(Type.String({ description: 'task id of the trace, when one ran (GET /api/v1/tasks/{id})' })),
  summary: Type.String({ description: 'where loss starts or that the path is clean, per agent ("loss starts at hop 4, 10.0.3.1"); or why there is no trace' }),
  changes: Type.Array(Type.String(), { description: 'what changed since the previous trace of the same series or cause ("path changed at hop 3")' }),
  url: Type.Optional(Type.String({ description: 'the trace in the UI, when general.public_url is set' })),
  target: Type.Optional(Type.String({ description: 'cause traces: the affected target traced toward' })),
  agents: Type.Optional(Type.Array(Type.String(), { description: 'cause traces: the affected agents that ran it' })),
});
export type TraceNote = Static<typeof TraceNoteSchema>;

export const CauseSchema = Type.Object({
  id: Type.String({ description: 'stable identity: scope/kind/key' }),
  scope: Type.String(),
  kind: Type.Enum(CAUSE_KINDS, { description: 'vantage (our probe), network (e.g. an ISP), destination (e.g. an IDC), region_pair (a source region → target region cell of the mesh, by quorum of its series; only with region_pairs), path (one network to one destination: peering, uplink), cell (e.g. one ISP in one province), item (e.g. one VIP)' }),
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
  peers: Type.Optional(Type.Object({ bad: Type.Integer(), total: Type.Integer() }, { description: 'vantage causes: other sites of the same vantage cell that see it too (at least cell.bad_fraction of their series bad)' })),
  others_bad_pct: Type.Optional(Type.Number({ description: 'vantage causes: percentage of bad series among the other sites measuring the same items' })),
  loss_pct: NullableNumber({ description: 'pooled loss of its bad series\' latest rounds' }),
  median: NullableNumber({ description: 'median of its bad series\' medians (ms)' }),
  bad_cells: Type.Array(EvidenceCellSchema, { description: 'the matrix cells with bad series, worst first (at most 50)' }),
  affected: Type.Record(Type.String(), Type.Record(Type.String(), Type.Integer()), { description: 'per routing label key (e.g. business): value → bad series' }),
  agents: Type.Array(Type.String(), { description: 'vantage causes: the agents of the site' }),
  trace: Type.Optional(TraceNoteSchema),
});
export type Cause = Static<typeof CauseSchema>;

