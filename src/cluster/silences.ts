/**
 * Silences shared among the servers of a cluster: every server keeps its own copy (its alert
 * database, which its engine reads) and brings it in line with the shared table at each
 * heartbeat. Pure decision over the two lists.
 */
import type { Silence } from '../alerts/db.ts';

/**
 * What to change locally: shared silences missing or different here are saved; silences
 * deleted on any server are removed. A local silence the shared table does not know yet (made
 * here a moment ago, still on its way) is left alone.
 */
export function reconcileSilences(local: readonly Silence[], shared: readonly Silence[], deleted: readonly string[]): { save: Silence[]; remove: string[] } {
  const here = new Map(local.map((s) => [s.id, JSON.stringify(s)]));
  const save = shared.filter((s) => here.get(s.id) !== JSON.stringify(s));
  const remove = deleted.filter((id) => here.has(id));
  return { save, remove };
}
