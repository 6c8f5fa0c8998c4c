import Type, { type Static } from 'typebox';
import { EventRowSchema, type AlertDb, type EventRow } from '../../alerts/db.ts';
import { CauseSchema, MatrixCellSchema, seriesKey } from '../../localize/types.ts';
import type { LocalizeService } from '../../localize/service.ts';
import { NullableNumber } from '../../schema.ts';
import type { RouteModule } from '../context.ts';
import { ErrorSchema } from '../api/schemas.ts';
import { errorBody } from '../../errors.ts';

/** A notification a cause suppressed, as the API lists it under the cause. */
const SuppressedSchema = Type.Object({
  id: Type.String(),
  time: Type.Integer(),
  target: Type.String(),
  agent: Type.String(),
  alert: Type.String(),
  state: Type.String(),
});

const Counts = Type.Object({
  series: Type.Integer(), bad: Type.Integer(), excluded: Type.Integer({ description: 'whitelisted or in maintenance' }),
  stale: Type.Integer(), unlabelled: Type.Integer({ description: 'missing a role label' }), unexplained: Type.Integer({ description: 'bad series no raised cause explains' }),
});

const ScopeSchema = Type.Object({
  name: Type.String(),
  title: Type.String(),
  comment: Type.String(),
  step_s: Type.Number({ description: 'seconds between steps: the smallest step of its targets' }),
  targets: Type.Integer({ description: 'probed targets in the scope' }),
  roles: Type.Object({ vantage: Type.Array(Type.String()), destination: Type.Array(Type.String()), item: Type.String(), site: Type.String() }),
  raise_after: Type.Integer(),
  clear_after: Type.Integer(),
  last_step: NullableNumber({ description: 'time of the last step (ms)' }),
  took_s: NullableNumber({ description: 'seconds the last step took' }),
  counts: Type.Union([Counts, Type.Null()]),
  causes: Type.Array(Type.Object({
    ...CauseSchema.properties,
    suppressed: Type.Object({ count: Type.Integer(), recent: Type.Array(SuppressedSchema) }, { description: 'target alerts recorded as suppressed by this cause, newest first' }),
  }), { description: 'raised causes and pending ones (raised: null), most general first' }),
  matrix: Type.Object({
    rows: Type.Array(Type.String(), { description: 'vantage cells' }),
    columns: Type.Array(Type.String(), { description: 'destination groups' }),
    cells: Type.Array(MatrixCellSchema),
  }),
});

const CellSeriesSchema = Type.Object({
  target: Type.String(),
  agent: Type.String(),
  time: Type.Integer(),
  loss_pct: Type.Number(),
  median: NullableNumber(),
  bad: Type.Boolean(),
  explained_by: Type.Union([Type.String(), Type.Null()]),
});

/** A cause event (raised, cleared) as the history lists it. */
const CauseEventSchema = Type.Object({
  id: Type.String(),
  time: EventRowSchema.properties.time,
  state: EventRowSchema.properties.state,
  muted_by: EventRowSchema.properties.muted_by,
  cause: Type.Union([CauseSchema, Type.Null()]),
});

const ScopeQuery = Type.Object({ scope: Type.Optional(Type.String({ minLength: 1 })), matrix: Type.Enum(['0', '1'], { default: '1', description: '0 leaves the matrix out' }) });
const HistoryQuery = Type.Object({
  scope: Type.Optional(Type.String({ minLength: 1 })),
  before: Type.Optional(Type.Integer({ minimum: 0 })),
  limit: Type.Integer({ minimum: 1, maximum: 5000, default: 200 }),
});
const CellQuery = Type.Object({ scope: Type.String({ minLength: 1 }), row: Type.String(), column: Type.String() });
const SuppressedQuery = Type.Object({ cause: Type.String({ minLength: 1 }), limit: Type.Integer({ minimum: 1, maximum: 5000, default: 200 }) });

const brief = (e: EventRow): Static<typeof SuppressedSchema> => ({ id: e.id, time: e.time, target: e.target, agent: e.agent, alert: e.alert, state: e.state });

/** GET /api/v1/localize (scopes, matrix, causes with evidence and the alerts they suppressed), its history, a cell's series. */
export function localizeRoutes(service: LocalizeService, db: AlertDb): RouteModule {
  return (app) => {
    const tags = ['localize'];
    app.get('/api/v1/localize', {
      schema: {
        summary: 'Fault localization: every scope with its matrix, its causes (evidence, suppressed target alerts) and counts',
        description: 'docs/localize.md explains the roles, the rules and every evidence field.',
        tags, querystring: ScopeQuery,
        response: { 200: Type.Object({ scopes: Type.Array(ScopeSchema) }), 400: ErrorSchema },
      },
    }, async (req) => {
      const q = req.query as Static<typeof ScopeQuery>;
      const scopes = service.list().filter((s) => !q.scope || s.config.name === q.scope).map((s) => {
        const last = s.last;
        const cells = q.matrix === '0' ? [] : last?.matrix ?? [];
        return {
          name: s.config.name, title: s.config.title ?? s.config.name, comment: s.config.comment,
          step_s: s.stepMs / 1000, targets: s.targets, roles: s.config.roles, raise_after: s.config.raise_after, clear_after: s.config.clear_after,
          last_step: last ? last.state.time : null, took_s: s.took ?? null, counts: last?.counts ?? null,
          causes: (last?.causes ?? []).map((c) => {
            const muted = db.events({ muted_by: `cause:${c.id}`, limit: 20 });
            const trace = service.traceOf(c.id);
            return { ...c, ...(trace ? { trace } : {}), suppressed: { count: db.countMuted(`cause:${c.id}`), recent: muted.map(brief) } };
          }),
          matrix: { rows: [...new Set(cells.map((c) => c.row))].sort(), columns: [...new Set(cells.map((c) => c.column))].sort(), cells },
        };
      });
      return { scopes };
    });

    app.get('/api/v1/localize/history', {
      schema: {
        summary: 'Cause events (raised, cleared), newest first, each with its evidence',
        tags, querystring: HistoryQuery,
        response: { 200: Type.Object({ events: Type.Array(CauseEventSchema) }), 400: ErrorSchema },
      },
    }, async (req) => {
      const q = req.query as Static<typeof HistoryQuery>;
      const rows = db.events({ agent: '*', alertPrefix: q.scope ? `${q.scope}.` : '', type: 'localize', limit: q.limit, ...(q.before !== undefined ? { before: q.before } : {}) });
      return { events: rows.map((r) => ({ id: r.id, time: r.time, state: r.state, muted_by: r.muted_by, cause: r.event.cause ?? null })) };
    });

    app.get('/api/v1/localize/cell', {
      schema: {
        summary: 'The series behind one matrix cell: latest round, verdict, and the cause explaining each',
        tags, querystring: CellQuery,
        response: { 200: Type.Object({ scope: Type.String(), row: Type.String(), column: Type.String(), series: Type.Array(CellSeriesSchema) }), 400: ErrorSchema, 404: ErrorSchema },
      },
    }, async (req, reply) => {
      const q = req.query as Static<typeof CellQuery>;
      const scope = service.list().find((s) => s.config.name === q.scope);
      if (!scope) return reply.code(404).send(errorBody('SMOKEMESH_E_NOT_FOUND', `no localization scope "${q.scope}"; GET /api/v1/localize lists them`));
      const explain = scope.last?.explain;
      const series = service.cellSeries(q.scope, q.row, q.column).map((s) => ({
        target: s.target, agent: s.agent, time: s.time, loss_pct: s.loss_pct, median: s.median, bad: s.bad,
        explained_by: explain?.get(seriesKey(s.target, s.agent)) ?? null,
      }));
      return { scope: q.scope, row: q.row, column: q.column, series };
    });

    app.get('/api/v1/localize/suppressed', {
      schema: {
        summary: 'Target alerts a cause suppressed (recorded, not sent), newest first',
        tags, querystring: SuppressedQuery,
        response: { 200: Type.Object({ cause: Type.String(), events: Type.Array(SuppressedSchema) }), 400: ErrorSchema },
      },
    }, async (req) => {
      const q = req.query as Static<typeof SuppressedQuery>;
      return { cause: q.cause, events: db.events({ muted_by: `cause:${q.cause}`, limit: q.limit }).map(brief) };
    });
  };
}
