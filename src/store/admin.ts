import type Database from 'better-sqlite3';
import { trimTrailingSlashes } from '../config/tree.ts';
import { SmokemeshError } from '../errors.ts';
import { fromRow, mergeBucket, seal, toRow, type BucketRow } from './bucket.ts';
import type { SeriesRow } from './raw.ts';
import { addToPacks, deleteSeriesBuckets, readBuckets, statementCache } from './tier-rows.ts';
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
    const prep = statementCache(db);
    for (const id of ids) {
      prep('DELETE FROM raw WHERE series = ?').run(id);
      for (const t of tiers) deleteSeriesBuckets(prep, t, id);
      prep('DELETE FROM series WHERE id = ?').run(id);
    }
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

/**
 * Merges series `s` into `into`: raw rounds (the destination's kept on a tie), then per tier
 * every bucket of `s` added to the destination's. A bucket that either side had sealed is
 * sealed (and packed) again after the merge; two open ones stay open.
 */
function mergeInto(db: Database.Database, tiers: readonly Tier[], s: SeriesRow, into: SeriesRow): void {
  const prep = statementCache(db);
  db.prepare('INSERT OR IGNORE INTO raw (series, time, step, sent, rtts, extra) SELECT ?, time, step, sent, rtts, extra FROM raw WHERE series = ?').run(into.id, s.id);
  for (const t of tiers) {
    const mine = new Map(readBuckets(prep, t, into.id).map((r) => [r.b, r]));
    const open: Array<BucketRow & { b: number }> = [];
    const sealed: Array<BucketRow & { b: number }> = [];
    for (const row of readBuckets(prep, t, s.id)) {
      const other = mine.get(row.b);
      const state = fromRow(row);
      if (other) {
        const merged = fromRow(other);
        mergeBucket(merged, state);
        if (row.packed || other.packed) seal(merged);
        (row.packed || other.packed ? sealed : open).push({ ...toRow(merged), b: row.b });
        // Moved to the pack below: the destination's open row would hold it twice.
        if (!other.packed && row.packed) prep(`DELETE FROM ${t.table} WHERE series = ? AND b = ?`).run(into.id, row.b);
      } else {
        (row.packed ? sealed : open).push({ ...toRow(state), b: row.b });
      }
    }
    const put = prep(`INSERT OR REPLACE INTO ${t.table} (series, b, rounds, sent, lost, n, min, max, mean, median, stddev, sketch, q, extra)
      VALUES (@series, @b, @rounds, @sent, @lost, @n, @min, @max, @mean, @median, @stddev, @sketch, @q, @extra)`);
    for (const row of open) put.run({ series: into.id, ...row });
    if (sealed.length) addToPacks(prep, t, into.id, sealed);
    deleteSeriesBuckets(prep, t, s.id);
  }
  db.prepare('DELETE FROM raw WHERE series = ?').run(s.id);
  db.prepare('UPDATE series SET first = min(first, ?), last = max(last, ?) WHERE id = ?').run(s.first, s.last, into.id);
  db.prepare('DELETE FROM series WHERE id = ?').run(s.id);
}
