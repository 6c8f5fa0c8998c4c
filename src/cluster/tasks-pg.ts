/**
 * The shared tasks' tables in the cluster's database (src/tasks/shared.ts says how they are
 * used): every task, each agent's part of it (status, result), and what the servers saw of
 * the agents (`smokemesh_agents_seen`, written in batches by src/cluster/agents.ts; its address
 * and version columns are added by agents-pg.ts, its change number and tombstones by
 * agents-seen-pg.ts). Times are
 * taken on the database's clock, so the servers' clocks may disagree. Also the retention of
 * the shared alert history. Functions take a client inside the caller's transaction.
 */
import type pg from 'pg';
import type { ListQuery } from '../tasks/db.ts';
import { resultFromRow, type AgentResult, type ResultRow, type ResultStatus, type TaskRecord, type TaskSummary } from '../tasks/record.ts';
import type { ClaimedPart, OpenPart, SharedTaskDb } from '../tasks/shared.ts';
import type { TaskKindName, TaskReport } from '../tasks/task.ts';
import type { SightingFacts } from './sightings.ts';

export const TASKS_SCHEMA = `
CREATE TABLE IF NOT EXISTS smokemesh_tasks (
  id text PRIMARY KEY,
  home text NOT NULL,
  created bigint NOT NULL,
  created_by text NOT NULL,
  origin text NOT NULL,
  kind text NOT NULL,
  host text NOT NULL,
  params text NOT NULL,
  choice text NOT NULL,
  target text,
  trace_key text,
  timeout_ms bigint NOT NULL,
  state text NOT NULL,
  version bigint NOT NULL
);
CREATE INDEX IF NOT EXISTS smokemesh_tasks_created ON smokemesh_tasks (created);
CREATE INDEX IF NOT EXISTS smokemesh_tasks_trace ON smokemesh_tasks (trace_key, created);
CREATE TABLE IF NOT EXISTS smokemesh_task_parts (
  task_id text NOT NULL,
  ord integer NOT NULL,
  agent text NOT NULL,
  status text NOT NULL,
  queued bigint NOT NULL,
  started bigint,
  finished bigint,
  output text,
  error text,
  summary text,
  server text,
  PRIMARY KEY (task_id, agent)
);
CREATE INDEX IF NOT EXISTS smokemesh_task_parts_agent ON smokemesh_task_parts (agent, queued);
CREATE INDEX IF NOT EXISTS smokemesh_task_parts_open ON smokemesh_task_parts (agent, queued) WHERE status IN ('queued', 'running');
CREATE TABLE IF NOT EXISTS smokemesh_agents_seen (
  agent text NOT NULL,
  server text NOT NULL,
  seen_at timestamptz NOT NULL,
  written_at timestamptz NOT NULL,
  polling boolean NOT NULL,
  polled_at timestamptz,
  region text NOT NULL,
  labels jsonb NOT NULL,
  builtin boolean NOT NULL,
  PRIMARY KEY (agent, server)
);
`;

/** The database's time, ms since the epoch. */
const NOW = 'floor(extract(epoch from clock_timestamp()) * 1000)::float8';
const ms = (col: string) => `floor(extract(epoch from ${col}) * 1000)::float8`;
/** The first key of the advisory locks that serialise traces of one key (the second is the key's hash). */
const TRACE_LOCK = 0x736d74;
/** Rows one statement of the retention deletes at most (short transactions, no long lock). */
const PRUNE_BATCH = 5000;

interface TaskRow {
  id: string; created: number; created_by: string; origin: TaskRecord['origin']; kind: TaskKindName; host: string;
  params: string; choice: string; target: string | null; state: TaskRecord['state']; version: number; timeout_ms: number;
}
const TASK_COLUMNS = 'id, created::float8 AS created, created_by, origin, kind, host, params, choice, target, state, version::float8 AS version, timeout_ms::float8 AS timeout_ms';
const PART_COLUMNS = 'task_id, agent, status, queued::float8 AS queued, started::float8 AS started, finished::float8 AS finished, output, error, summary';

/** A trace key as PostgreSQL text, which cannot hold the NUL that separates its parts: its JSON form (one text per key). */
function keyText(k: string): string {
  return JSON.stringify(k);
}

async function toRecord(c: pg.PoolClient, t: TaskRow): Promise<TaskRecord> {
  const parts = await c.query(`SELECT ${PART_COLUMNS} FROM smokemesh_task_parts WHERE task_id = $1 ORDER BY ord`, [t.id]);
  const rec: TaskRecord = {
    id: t.id, kind: t.kind, params: JSON.parse(t.params) as TaskRecord['params'], host: t.host, origin: t.origin, created: t.created,
    created_by: t.created_by, choice: JSON.parse(t.choice) as TaskRecord['choice'], state: t.state, version: t.version,
    results: (parts.rows as ResultRow[]).map(resultFromRow),
  };
  if (t.target !== null) rec.target = t.target;
  return rec;
}

/** Writes a part's status and result. */
async function savePart(c: pg.PoolClient, taskId: string, r: AgentResult, onlyFrom?: ResultStatus): Promise<boolean> {
  const done = await c.query(`UPDATE smokemesh_task_parts SET status = $3, started = $4, finished = $5, output = $6, error = $7, summary = $8
    WHERE task_id = $1 AND agent = $2 ${onlyFrom ? 'AND status = $9' : ''}`,
  [taskId, r.agent, r.status, r.started ?? null, r.finished ?? null, r.output === undefined ? null : JSON.stringify(r.output), r.error ?? null, r.summary ?? null,
    ...(onlyFrom ? [onlyFrom] : [])]);
  return done.rowCount === 1;
}

/** A new version of each task, finished once none of its parts is queued or running. */
async function bump(c: pg.PoolClient, ids: readonly string[]): Promise<void> {
  if (!ids.length) return;
  await c.query(`UPDATE smokemesh_tasks t SET version = version + 1, state = CASE WHEN EXISTS (
      SELECT 1 FROM smokemesh_task_parts p WHERE p.task_id = t.id AND p.status IN ('queued', 'running')) THEN 'running' ELSE 'finished' END
    WHERE id = ANY($1::text[])`, [[...new Set(ids)]]);
}

/** The shared task tables through a transaction runner (ClusterDb.transaction). */
export function pgTaskDb(tx: <T>(what: string, fn: (c: pg.PoolClient) => Promise<T>) => Promise<T>): SharedTaskDb {
  return {
    create: (home, agents, traceKey, timeoutMs, decide) => tx('recording a task', async (c) => {
      const now = ((await c.query(`SELECT ${NOW} AS now`)).rows[0] as { now: number }).now;
      let lastTrace: number | undefined;
      if (traceKey !== null) {
        // Servers tracing the same key at once take turns: each sees the trace the other made.
        await c.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [TRACE_LOCK, keyText(traceKey)]);
        const t = await c.query('SELECT max(created)::float8 AS t FROM smokemesh_tasks WHERE trace_key = $1', [keyText(traceKey)]);
        lastTrace = (t.rows[0] as { t: number | null }).t ?? undefined;
      }
      // Given in the last minute: parts queued then, not those answered at once (refused, agent down: finished when queued).
      const l = await c.query(`SELECT agent, count(*) FILTER (WHERE queued > $2 AND NOT (status IN ('refused', 'agent_down') AND finished = queued AND started IS NULL))::int AS last_minute,
          count(*) FILTER (WHERE status = 'queued')::int AS queued
        FROM smokemesh_task_parts WHERE agent = ANY($1::text[]) AND (queued > $2 OR status = 'queued') GROUP BY agent`, [agents, now - 60_000]);
      const load = new Map((l.rows as { agent: string; last_minute: number; queued: number }[]).map((x) => [x.agent, { lastMinute: x.last_minute, queued: x.queued }]));
      const rec = decide(now, load, lastTrace);
      if (!rec) return undefined;
      await c.query(`INSERT INTO smokemesh_tasks (id, home, created, created_by, origin, kind, host, params, choice, target, trace_key, timeout_ms, state, version)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
      [rec.id, home, rec.created, rec.created_by ?? null, rec.origin, rec.kind, rec.host, JSON.stringify(rec.params), JSON.stringify(rec.choice), rec.target ?? null, traceKey === null ? null : keyText(traceKey), timeoutMs, rec.state, rec.version]);
      await c.query(`INSERT INTO smokemesh_task_parts (task_id, ord, agent, status, queued, finished, error)
        SELECT $1, * FROM unnest($2::int[], $3::text[], $4::text[], $5::bigint[], $6::bigint[], $7::text[])`,
      [rec.id, rec.results.map((_, i) => i), rec.results.map((r) => r.agent), rec.results.map((r) => r.status), rec.results.map((r) => r.queued),
        rec.results.map((r) => r.finished ?? null), rec.results.map((r) => r.error ?? null)]);
      return rec;
    }),

    get: (id) => tx('reading a task', async (c) => {
      const t = await c.query(`SELECT ${TASK_COLUMNS} FROM smokemesh_tasks WHERE id = $1`, [id]);
      return t.rows[0] ? toRecord(c, t.rows[0] as TaskRow) : undefined;
    }),

    version: (id) => tx('reading a task', async (c) => {
      const t = await c.query('SELECT version::float8 AS version FROM smokemesh_tasks WHERE id = $1', [id]);
      return (t.rows[0] as { version: number } | undefined)?.version;
    }),

    list: (q: ListQuery) => tx('listing tasks', async (c) => {
      const where: string[] = [];
      const args: unknown[] = [];
      const arg = (v: unknown) => (args.push(v), `$${args.length}`);
      if (q.before !== undefined) where.push(`t.created < ${arg(q.before)}`);
      if (q.kind) where.push(`t.kind = ${arg(q.kind)}`);
      if (q.target) where.push(`t.target = ${arg(q.target)}`);
      if (q.origin) where.push(`t.origin = ${arg(q.origin)}`);
      if (q.agent) where.push(`EXISTS (SELECT 1 FROM smokemesh_task_parts p WHERE p.task_id = t.id AND p.agent = ${arg(q.agent)})`);
      const r = await c.query(`SELECT ${TASK_COLUMNS} FROM smokemesh_tasks t ${where.length ? 'WHERE ' + where.join(' AND ') : ''}
        ORDER BY t.created DESC, t.id LIMIT ${arg(q.limit)}`, args);
      const tasks = r.rows as TaskRow[];
      const parts = await c.query('SELECT task_id, agent, status, summary FROM smokemesh_task_parts WHERE task_id = ANY($1::text[])', [tasks.map((t) => t.id)]);
      const byTask = new Map<string, { agent: string; status: string; summary: string | null }[]>();
      for (const p of parts.rows as { task_id: string; agent: string; status: string; summary: string | null }[]) {
        if (!byTask.has(p.task_id)) byTask.set(p.task_id, []);
        byTask.get(p.task_id)!.push(p);
      }
      return tasks.map((t): TaskSummary => {
        const ps = byTask.get(t.id) ?? [];
        const counts: Record<string, number> = {};
        for (const p of ps) counts[p.status] = (counts[p.status] ?? 0) + 1;
        const s: TaskSummary = {
          id: t.id, kind: t.kind, host: t.host, origin: t.origin, created: t.created, created_by: t.created_by, state: t.state, version: t.version,
          agents: ps.length, counts, summaries: Object.fromEntries(ps.filter((p) => p.summary !== null).map((p) => [p.agent, p.summary!])),
        };
        if (t.target !== null) s.target = t.target;
        return s;
      });
    }),

    previousTrace: (traceKey, before) => tx('reading a trace', async (c) => {
      const t = await c.query(`SELECT ${TASK_COLUMNS} FROM smokemesh_tasks WHERE trace_key = $1 AND created < $2 AND state = 'finished' ORDER BY created DESC LIMIT 1`, [keyText(traceKey), before]);
      return t.rows[0] ? toRecord(c, t.rows[0] as TaskRow) : undefined;
    }),

    lastTraceTime: (traceKey) => tx('reading a trace', async (c) => {
      const t = await c.query('SELECT max(created)::float8 AS t FROM smokemesh_tasks WHERE trace_key = $1', [keyText(traceKey)]);
      return (t.rows[0] as { t: number | null }).t ?? undefined;
    }),

    queued: () => tx('looking for queued tasks', async (c) => {
      const r = await c.query(`SELECT DISTINCT agent FROM smokemesh_task_parts WHERE status = 'queued'`);
      return (r.rows as { agent: string }[]).map((x) => x.agent);
    }),

    claim: (agent, server, concurrency) => tx('handing out tasks', async (c) => {
      const running = await c.query(`SELECT count(*)::int AS n FROM smokemesh_task_parts WHERE agent = $1 AND status = 'running'`, [agent]);
      const free = concurrency - (running.rows[0] as { n: number }).n;
      if (free <= 0) return [];
      const r = await c.query(`UPDATE smokemesh_task_parts p SET status = 'running', started = ${NOW}, server = $2 FROM smokemesh_tasks t
        WHERE t.id = p.task_id AND p.agent = $1 AND p.task_id IN (
          SELECT task_id FROM smokemesh_task_parts WHERE agent = $1 AND status = 'queued' ORDER BY queued, task_id LIMIT $3 FOR UPDATE SKIP LOCKED)
        RETURNING p.task_id, p.queued::float8 AS queued, t.kind, t.params, t.timeout_ms::float8 AS timeout_ms`, [agent, server, free]);
      const rows = (r.rows as { task_id: string; queued: number; kind: TaskKindName; params: string; timeout_ms: number }[])
        .sort((a, b) => a.queued - b.queued || a.task_id.localeCompare(b.task_id));
      await bump(c, rows.map((x) => x.task_id));
      return rows.map((x): ClaimedPart => ({ id: x.task_id, kind: x.kind, params: JSON.parse(x.params) as Record<string, unknown>, timeoutMs: x.timeout_ms }));
    }),

    report: (agent, rep: TaskReport, apply) => tx('recording a task result', async (c) => {
      const r = await c.query(`SELECT p.task_id, p.agent, p.status, p.queued::float8 AS queued, p.started::float8 AS started, p.finished::float8 AS finished,
          p.output, p.error, p.summary, t.kind, ${NOW} AS now
        FROM smokemesh_task_parts p JOIN smokemesh_tasks t ON t.id = p.task_id WHERE p.task_id = $1 AND p.agent = $2 FOR UPDATE OF p`, [rep.id, agent]);
      const row = r.rows[0] as (ResultRow & { kind: TaskKindName; now: number }) | undefined;
      if (!row) return `no task ${rep.id} for agent "${agent}"`;
      const result = resultFromRow(row);
      const why = apply(row.kind, result, row.now);
      if (why) return why;
      await savePart(c, rep.id, result);
      await bump(c, [rep.id]);
      return undefined;
    }),

    open: () => tx('reading unfinished tasks', async (c) => {
      const r = await c.query(`SELECT ${PART_COLUMNS.split(', ').map((x) => 'p.' + x).join(', ')}, t.timeout_ms::float8 AS timeout_ms, ${NOW} AS now
        FROM smokemesh_task_parts p JOIN smokemesh_tasks t ON t.id = p.task_id WHERE p.status IN ('queued', 'running')`);
      const rows = r.rows as (ResultRow & { timeout_ms: number; now: number })[];
      const now = rows[0]?.now ?? ((await c.query(`SELECT ${NOW} AS now`)).rows[0] as { now: number }).now;
      return { now, parts: rows.map((x): OpenPart => ({ taskId: x.task_id, timeoutMs: x.timeout_ms, result: resultFromRow(x) })) };
    }),

    finalize: (changes) => tx('recording task deadlines', async (c) => {
      const changed: string[] = [];
      for (const ch of changes) if (await savePart(c, ch.taskId, ch.result, ch.from)) changed.push(ch.taskId);
      await bump(c, changed);
      return changed.length;
    }),

    prune: async (cutoff) => {
      let n = 0;
      for (;;) {
        const done = await tx('pruning old tasks', async (c) => {
          const ids = await c.query('DELETE FROM smokemesh_tasks WHERE id IN (SELECT id FROM smokemesh_tasks WHERE created < $1 LIMIT $2) RETURNING id', [cutoff, PRUNE_BATCH]);
          const gone = (ids.rows as { id: string }[]).map((x) => x.id);
          await c.query('DELETE FROM smokemesh_task_parts WHERE task_id = ANY($1::text[])', [gone]);
          return gone.length;
        });
        n += done;
        if (done < PRUNE_BATCH) return n;
      }
    },
  };
}

/** One agent as a server saw it, to be written. */
export interface SightingRow extends SightingFacts {
  agent: string;
  /** ms before the write: when the agent was last heard from. */
  seenAgoMs: number;
  /** ms before the write: when it last polled for tasks here (null: never). */
  polledAgoMs: number | null;
}

/** What the cluster's servers wrote of an agent, with ages on the database's clock. */
export interface SightingRead extends SightingFacts {
  agent: string;
  server: string;
  /** ms ago: the write, the agent heard from, the last task poll (null: never). */
  written_ago: number;
  seen_ago: number;
  polled_at: number | null;
  /** The database's time of the read. */
  now: number;
}

/**
 * Records (upserts) what `server` sees of these agents, in one statement, each row with the
 * next change number (agents-seen-pg.ts: its statement trigger makes writers take turns first).
 */
export async function writeSightings(c: pg.PoolClient, server: string, rows: readonly SightingRow[]): Promise<void> {
  if (!rows.length) return;
  await c.query(`INSERT INTO smokemesh_agents_seen (agent, server, seen_at, written_at, polling, polled_at, region, labels, builtin, intranet, public, version, change)
    SELECT a, $1, clock_timestamp() - make_interval(secs => s / 1000), clock_timestamp(), p,
      CASE WHEN pa IS NULL THEN NULL ELSE clock_timestamp() - make_interval(secs => pa / 1000) END, r, l, b, ia, pu, v, nextval('smokemesh_agents_seen_change')
    FROM unnest($2::text[], $3::float8[], $4::bool[], $5::float8[], $6::text[], $7::jsonb[], $8::bool[], $9::text[], $10::text[], $11::text[]) AS x(a, s, p, pa, r, l, b, ia, pu, v)
    ON CONFLICT (agent, server) DO UPDATE SET seen_at = excluded.seen_at, written_at = excluded.written_at, polling = excluded.polling,
      polled_at = COALESCE(excluded.polled_at, smokemesh_agents_seen.polled_at), region = excluded.region, labels = excluded.labels, builtin = excluded.builtin,
      intranet = excluded.intranet, public = excluded.public, version = excluded.version, change = excluded.change`,
  [server, rows.map((r) => r.agent), rows.map((r) => r.seenAgoMs), rows.map((r) => r.polling), rows.map((r) => r.polledAgoMs),
    rows.map((r) => r.region), rows.map((r) => JSON.stringify(r.labels)), rows.map((r) => r.builtin),
    rows.map((r) => r.intranet), rows.map((r) => r.public), rows.map((r) => r.version)]);
}

/** Every server's rows of these agents (all agents when `names` is undefined). */
export async function readSightings(c: pg.PoolClient, names?: readonly string[]): Promise<SightingRead[]> {
  const cols = `agent, server, ${ms('clock_timestamp()')} - ${ms('written_at')} AS written_ago, ${ms('clock_timestamp()')} - ${ms('seen_at')} AS seen_ago,
    ${ms('polled_at')} AS polled_at, polling, region, labels, builtin, intranet, public, version, ${NOW} AS now`;
  const r = names
    ? await c.query(`SELECT ${cols} FROM smokemesh_agents_seen WHERE agent = ANY($1::text[])`, [names])
    : await c.query(`SELECT ${cols} FROM smokemesh_agents_seen`);
  return r.rows as SightingRead[];
}

/** Forgets rows not written for `olderThanMs` (an agent removed, a server gone for good). */
export async function pruneSightings(c: pg.PoolClient, olderThanMs: number): Promise<number> {
  const r = await c.query(`DELETE FROM smokemesh_agents_seen WHERE written_at < clock_timestamp() - make_interval(secs => $1::float8 / 1000)`, [olderThanMs]);
  return r.rowCount ?? 0;
}

/**
 * Deletes one batch of the shared alert history older than `cutoff` (ms): deliveries of old
 * events first, then old events without deliveries left. Returns the rows deleted; call again
 * until it returns 0. Idempotent: any server may run it at any time.
 */
export async function pruneHistoryBatch(c: pg.PoolClient, cutoff: number, batch = PRUNE_BATCH): Promise<number> {
  const d = await c.query(`DELETE FROM smokemesh_alert_deliveries WHERE id IN (
    SELECT d.id FROM smokemesh_alert_deliveries d JOIN smokemesh_alert_events e ON e.id = d.event_id WHERE e.time < $1 LIMIT $2)`, [cutoff, batch]);
  const e = await c.query(`DELETE FROM smokemesh_alert_events WHERE id IN (
    SELECT e.id FROM smokemesh_alert_events e WHERE e.time < $1
      AND NOT EXISTS (SELECT 1 FROM smokemesh_alert_deliveries d WHERE d.event_id = e.id) LIMIT $2)`, [cutoff, batch]);
  return (d.rowCount ?? 0) + (e.rowCount ?? 0);
}
