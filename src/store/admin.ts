import type Database from 'better-sqlite3';
import { trimTrailingSlashes } from '../config/tree.ts';
import { SmokemeshError } from '../errors.ts';
import { fromRow, mergeBucket, toRow, type BucketRow } from './bucket.ts';
import type { SeriesRow } from './raw.ts';
import type { Tier } from './tiers.ts';

/**
 * History administration: prune and rename. Each runs in one transaction, so a crash or an
 * error leaves the history as it was.
 */

/** Normalises a target path: leading '/', no trailing '/'; '/' alone means every target. */
export function normalisePath(path: string): string {
  const p = path.trim();
  if (!p.startsWith('/')) throw new SmokemeshError('SMOKEMESH_E_USAGE', `target path "${path}" must start with "/" (e.g. /Group/host)`);
  return p.length > 1 ? trimTrailingSlashes(p) : p;
}

/** Series whose target is `path` or lies under it. */
function seriesUnder(db: Database.Database, path: string): SeriesRow[] {
  if (path === '/') return db.prepare('SELECT * FROM series').all() as SeriesRow[];
  return db.prepare("SELECT * FROM series WHERE target = @p OR substr(target, 1, length(@p) + 1) = @p || '/'")
    .all({ p: path }) as SeriesRow[];
}

/** Deletes every series under the given paths (all agents); returns how many. */
export function pruneSeries(db: Database.Database, tiers: readonly Tier[], paths: string[]): number {
  const norm = paths.map(normalisePath);
  return db.transaction(() => {
    const ids = new Set<number>();
    for (const p of norm) for (const s of seriesUnder(db, p)) ids.add(s.id);
    const stmts = [db.prepare('DELETE FROM raw WHERE series = ?'), ...tiers.map((t) => db.prepare(`DELETE FROM ${t.table} WHERE series = ?`)), db.prepare('DELETE FROM series WHERE id = ?')];
    for (const id of ids) for (const st of stmts) st.run(id);
    return ids.size;
  }).immediate();
}

/**
 * Moves the history of `from` (and of targets under it) to `to`, for every agent. When the
 * destination already has history for an agent (the target was renamed in the config before
 * this ran), the two are merged: raw rounds by time (the destination's kept on a tie) and
 * buckets by adding them up.
 */
export function renameSeries(db: Database.Database, tiers: readonly Tier[], from: string, to: string): number {
  const src = normalisePath(from);
  const dst = normalisePath(to);
  if (src === '/' || dst === '/') throw new SmokemeshError('SMOKEMESH_E_USAGE', 'cannot rename the root "/"; name a target or group');
  if (dst === src || dst.startsWith(src + '/')) throw new SmokemeshError('SMOKEMESH_E_USAGE', `cannot rename "${src}" to "${dst}": the destination lies within the source`);
  return db.transaction(() => {
    const moved = seriesUnder(db, src);
    const find = db.prepare('SELECT * FROM series WHERE target = ? AND agent = ?');
    for (const s of moved) {
      const target = dst + s.target.slice(src.length);
      const existing = find.get(target, s.agent) as SeriesRow | undefined;
      if (!existing) {
        db.prepare('UPDATE series SET target = ? WHERE id = ?').run(target, s.id);
        continue;
      }
      mergeInto(db, tiers, s, existing);
    }
    return moved.length;
  }).immediate();
}

function mergeInto(db: Database.Database, tiers: readonly Tier[], s: SeriesRow, into: SeriesRow): void {
  db.prepare('INSERT OR IGNORE INTO raw (series, time, step, sent, rtts, extra) SELECT ?, time, step, sent, rtts, extra FROM raw WHERE series = ?').run(into.id, s.id);
  for (const t of tiers) {
    const rows = db.prepare(`SELECT * FROM ${t.table} WHERE series = ?`).all(s.id) as Array<BucketRow & { b: number }>;
    const get = db.prepare(`SELECT * FROM ${t.table} WHERE series = ? AND b = ?`);
    const put = db.prepare(`INSERT OR REPLACE INTO ${t.table} (series, b, rounds, sent, lost, n, min, max, mean, median, stddev, sketch, q, extra)
      VALUES (@series, @b, @rounds, @sent, @lost, @n, @min, @max, @mean, @median, @stddev, @sketch, @q, @extra)`);
    for (const row of rows) {
      const state = fromRow(row);
      const other = get.get(into.id, row.b) as BucketRow | undefined;
      if (other) {
        const merged = fromRow(other);
        mergeBucket(merged, state);
        put.run({ series: into.id, b: row.b, ...toRow(merged) });
      } else {
        put.run({ series: into.id, b: row.b, ...toRow(state) });
      }
    }
    db.prepare(`DELETE FROM ${t.table} WHERE series = ?`).run(s.id);
  }
  db.prepare('DELETE FROM raw WHERE series = ?').run(s.id);
  db.prepare('UPDATE series SET first = min(first, ?), last = max(last, ?) WHERE id = ?').run(s.first, s.last, into.id);
  db.prepare('DELETE FROM series WHERE id = ?').run(s.id);
}
