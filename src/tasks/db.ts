/**
 * The tasks' own small SQLite database (`<data_dir>/tasks.sqlite`, mode 600: results name
 * inner addresses of the network): every task with who started it, when and for which
 * agents, and each agent's result. Kept for `tasks.retention_days`.
 */
import Database from 'better-sqlite3';
import { ensurePrivateDatabase, type ModeNote } from '../private-files.ts';
import { resultFromRow, type AgentResult, type ResultRow, type TaskRecord, type TaskSummary } from './record.ts';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS tasks (
  id TEXT PRIMARY KEY, created INTEGER NOT NULL, created_by TEXT NOT NULL, origin TEXT NOT NULL,
  kind TEXT NOT NULL, host TEXT NOT NULL, params TEXT NOT NULL, choice TEXT NOT NULL,
  target TEXT, trace_key TEXT, state TEXT NOT NULL, version INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS tasks_created ON tasks (created);
CREATE INDEX IF NOT EXISTS tasks_trace ON tasks (trace_key, created);
CREATE INDEX IF NOT EXISTS tasks_target ON tasks (target, created);
CREATE TABLE IF NOT EXISTS results (
  task_id TEXT NOT NULL, agent TEXT NOT NULL, status TEXT NOT NULL, queued INTEGER NOT NULL,
  started INTEGER, finished INTEGER, output TEXT, error TEXT, summary TEXT,
  PRIMARY KEY (task_id, agent)
);
`;

interface TaskRow {
  id: string; created: number; created_by: string; origin: TaskRecord['origin']; kind: TaskRecord['kind']; host: string;
  params: string; choice: string; target: string | null; trace_key: string | null; state: TaskRecord['state']; version: number;
}

export interface ListQuery {
  limit: number;
  before?: number;
  kind?: string;
  agent?: string;
  target?: string;
  origin?: string;
}

/**
 * Opens the task database at `file` (':memory:' for tests): created mode 600, and an existing
 * one and its -wal/-shm tightened to 600 (reported through `note`), as every data file is
 * (src/private-files.ts).
 */
export function openTaskDb(file: string, note?: ModeNote) {
  ensurePrivateDatabase(file, note);
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec(SCHEMA);

  const insertTask = db.prepare(`INSERT INTO tasks (id, created, created_by, origin, kind, host, params, choice, target, trace_key, state, version)
    VALUES (@id, @created, @created_by, @origin, @kind, @host, @params, @choice, @target, @trace_key, @state, @version)`);
  const updateTask = db.prepare('UPDATE tasks SET state = ?, version = ? WHERE id = ?');
  const upsertResult = db.prepare(`INSERT INTO results (task_id, agent, status, queued, started, finished, output, error, summary)
    VALUES (@task_id, @agent, @status, @queued, @started, @finished, @output, @error, @summary)
    ON CONFLICT (task_id, agent) DO UPDATE SET status = excluded.status, started = excluded.started,
      finished = excluded.finished, output = excluded.output, error = excluded.error, summary = excluded.summary`);
  const taskById = db.prepare('SELECT * FROM tasks WHERE id = ?');
  const resultsOf = db.prepare('SELECT * FROM results WHERE task_id = ? ORDER BY rowid');

  const resultRow = (taskId: string, r: AgentResult): ResultRow => ({
    task_id: taskId, agent: r.agent, status: r.status, queued: r.queued, started: r.started ?? null, finished: r.finished ?? null,
    output: r.output === undefined ? null : JSON.stringify(r.output), error: r.error ?? null, summary: r.summary ?? null,
  });
  const toRecord = (t: TaskRow): TaskRecord => {
    const rec: TaskRecord = {
      id: t.id, kind: t.kind, params: JSON.parse(t.params) as TaskRecord['params'], host: t.host, origin: t.origin,
      created: t.created, created_by: t.created_by, choice: JSON.parse(t.choice) as TaskRecord['choice'],
      state: t.state, version: t.version, results: (resultsOf.all(t.id) as ResultRow[]).map(resultFromRow),
    };
    if (t.target !== null) rec.target = t.target;
    return rec;
  };

  return {
    /** Stores a new task with its first results, in one transaction. */
    insert: db.transaction((t: TaskRecord, traceKey: string | null) => {
      insertTask.run({ ...t, params: JSON.stringify(t.params), choice: JSON.stringify(t.choice), target: t.target ?? null, trace_key: traceKey });
      for (const r of t.results) upsertResult.run(resultRow(t.id, r));
    }),
    /** Stores a task's new state and the results that changed, in one transaction. */
    update: db.transaction((t: TaskRecord, changed: readonly AgentResult[]) => {
      updateTask.run(t.state, t.version, t.id);
      for (const r of changed) upsertResult.run(resultRow(t.id, r));
    }),
    get(id: string): TaskRecord | undefined {
      const t = taskById.get(id) as TaskRow | undefined;
      return t ? toRecord(t) : undefined;
    },
    /** Tasks newest first, without their outputs. */
    list(q: ListQuery): TaskSummary[] {
      const where: string[] = [];
      const args: unknown[] = [];
      if (q.before !== undefined) { where.push('t.created < ?'); args.push(q.before); }
      if (q.kind) { where.push('t.kind = ?'); args.push(q.kind); }
      if (q.target) { where.push('t.target = ?'); args.push(q.target); }
      if (q.origin) { where.push('t.origin = ?'); args.push(q.origin); }
      if (q.agent) { where.push('EXISTS (SELECT 1 FROM results r WHERE r.task_id = t.id AND r.agent = ?)'); args.push(q.agent); }
      const rows = db.prepare(`SELECT * FROM tasks t ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY t.created DESC, t.id LIMIT ?`).all(...args, q.limit) as TaskRow[];
      const counts = db.prepare('SELECT status, COUNT(*) AS n FROM results WHERE task_id = ? GROUP BY status');
      const summaries = db.prepare('SELECT agent, summary FROM results WHERE task_id = ? AND summary IS NOT NULL');
      return rows.map((t) => {
        const byStatus = Object.fromEntries((counts.all(t.id) as { status: string; n: number }[]).map((c) => [c.status, c.n]));
        const s: TaskSummary = {
          id: t.id, kind: t.kind, host: t.host, origin: t.origin, created: t.created, created_by: t.created_by, state: t.state,
          version: t.version, agents: Object.values(byStatus).reduce((a, b) => a + b, 0), counts: byStatus,
          summaries: Object.fromEntries((summaries.all(t.id) as { agent: string; summary: string }[]).map((r) => [r.agent, r.summary])),
        };
        if (t.target !== null) s.target = t.target;
        return s;
      });
    },
    /** The newest finished task of a trace key created before `before` (the trace to compare with). */
    previousTrace(traceKey: string, before: number): TaskRecord | undefined {
      const t = db.prepare(`SELECT * FROM tasks WHERE trace_key = ? AND created < ? AND state = 'finished' ORDER BY created DESC LIMIT 1`).get(traceKey, before) as TaskRow | undefined;
      return t ? toRecord(t) : undefined;
    },
    /** Time of the newest task of a trace key, or undefined. */
    lastTraceTime(traceKey: string): number | undefined {
      const r = db.prepare('SELECT MAX(created) AS t FROM tasks WHERE trace_key = ?').get(traceKey) as { t: number | null };
      return r.t ?? undefined;
    },
    /** Marks what was queued or running when the server stopped as timed out; returns how many. */
    abandonUnfinished(now: number): number {
      const open = db.prepare(`SELECT DISTINCT task_id FROM results WHERE status IN ('queued', 'running')`).all() as { task_id: string }[];
      db.transaction(() => {
        db.prepare(`UPDATE results SET status = 'timeout', finished = ?, error = 'the server restarted before the result came' WHERE status IN ('queued', 'running')`).run(now);
        db.prepare(`UPDATE tasks SET state = 'finished', version = version + 1 WHERE state = 'running'`).run();
      })();
      return open.length;
    },
    /** Deletes tasks created before `cutoff`; returns how many. */
    prune: db.transaction((cutoff: number): number => {
      db.prepare('DELETE FROM results WHERE task_id IN (SELECT id FROM tasks WHERE created < ?)').run(cutoff);
      return db.prepare('DELETE FROM tasks WHERE created < ?').run(cutoff).changes;
    }),
    close(): void {
      db.close();
    },
  };
}

export type TaskDb = ReturnType<typeof openTaskDb>;
