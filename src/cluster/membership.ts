/**
 * The live set of a cluster, from the heartbeats in the shared database: a server is live
 * while its latest heartbeat is at most `deadAfterMs` old, measured on the database's clock
 * (so servers' clocks may disagree). Pure functions over the rows read.
 */

/** One server's row of the heartbeat table. */
export interface ServerBeat {
  server_id: string;
  /** The server's URL as it advertises it (for the status page). */
  url: string;
  /** Last heartbeat, ms since the epoch on the database's clock. */
  beat_at: number;
  /** When this run of the server started (its first heartbeat). */
  started_at: number;
}

/** The ids of the live servers, sorted (every server computes the same list from the same rows). */
export function liveSet(rows: readonly ServerBeat[], dbNow: number, deadAfterMs: number): string[] {
  return rows.filter((r) => dbNow - r.beat_at <= deadAfterMs).map((r) => r.server_id).sort();
}

/** What changed between two live sets: servers that joined and servers that left. */
export function membershipChange(before: readonly string[], after: readonly string[]): { joined: string[]; left: string[] } {
  const b = new Set(before);
  const a = new Set(after);
  return { joined: after.filter((s) => !b.has(s)), left: before.filter((s) => !a.has(s)) };
}
