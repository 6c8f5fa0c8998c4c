/**
 * The `cluster:` section: several smokemesh servers sharing one VictoriaMetrics and one small
 * PostgreSQL database for coordination (membership, alert state). Absent: one server, SQLite
 * coordination-free, exactly as before. check-config and the server read it with the same
 * function.
 */
import Type, { type Static } from 'typebox';
import type { Config } from '../config/loader.ts';
import { collectIssues, type ConfigSection, type IssueAt } from '../config/section.ts';
import { validate } from '../config/validate.ts';
import type { ConfigIssue } from '../errors.ts';

export const ClusterSectionSchema = Type.Object({
  coordination: Type.String({ minLength: 1, description: 'PostgreSQL connection URL shared by every server of the cluster, e.g. postgres://smokemesh@db.example/smokemesh' }),
  server_id: Type.String({ minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9][A-Za-z0-9._:-]*$', description: 'this server\'s name in the cluster; unique among the servers' }),
  heartbeat_s: Type.Number({ minimum: 0.2, maximum: 60, default: 2, description: 'seconds between this server\'s heartbeats in the shared database' }),
  dead_after_s: Type.Optional(Type.Number({ minimum: 0.5, maximum: 600, description: 'a server whose last heartbeat is older is out of the live set (default 3 × heartbeat_s)' })),
  stall_s: Type.Optional(Type.Number({ minimum: 1, maximum: 3600, description: 'heartbeats are written by a thread of their own; they stop when the server\'s main thread has not run for this long, so that a wedged server drops out of the live set (default the larger of 30 and 2 × dead_after_s)' })),
}, { additionalProperties: false });

export type ClusterConfig = Static<typeof ClusterSectionSchema> & { dead_after_s: number; stall_s: number };

/** cluster.stall_s when not given: past any synchronous read of histories we expect, and past dead_after_s. */
export function defaultStallS(deadAfterS: number): number {
  return Math.max(30, 2 * deadAfterS);
}

/**
 * The `cluster:` entry of the list of sections (src/server/config-sections.ts). Beyond the
 * schema: the coordination URL is a postgres:// URL, the store is VictoriaMetrics (the servers
 * must share the history), dead_after_s is longer than a heartbeat, stall_s longer than
 * dead_after_s.
 */
export const clusterSection: ConfigSection = {
  key: 'cluster',
  schema: Type.Optional(Type.Unknown()),
  check: (c) => void readCluster(c.config, c.error),
};

/** The config's cluster settings (undefined: one server); `issues` empty when usable. */
export function parseCluster(config: Config): { cluster: ClusterConfig | undefined; issues: ConfigIssue[] } {
  const { issue, issues } = collectIssues(config);
  const cluster = readCluster(config, issue);
  return { cluster: issues.length ? undefined : cluster, issues };
}

function readCluster(config: Config, issue: IssueAt): ClusterConfig | undefined {
  const raw = config.raw.cluster;
  if (raw === undefined || raw === null) return undefined;
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    issue(['cluster'], 'cluster must be a mapping with coordination: (a postgres:// URL) and server_id:');
    return undefined;
  }
  const section = structuredClone(raw) as ClusterConfig;
  const found = validate(ClusterSectionSchema, section);
  for (const i of found) issue(['cluster', ...i.path], i.message);
  if (found.length) return undefined;
  let url: URL | undefined;
  try {
    url = new URL(section.coordination);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:')) {
    issue(['cluster', 'coordination'], 'expected a PostgreSQL URL: postgres://user[:password]@host[:port]/database');
  }
  if (config.store.backend !== 'victoriametrics') {
    issue(['cluster'], 'several servers share their history through VictoriaMetrics: set store.backend: victoriametrics (docs/scale.md)');
  }
  section.dead_after_s ??= 3 * section.heartbeat_s;
  if (section.dead_after_s <= section.heartbeat_s) issue(['cluster', 'dead_after_s'], `must be longer than heartbeat_s (${section.heartbeat_s}); 3 × heartbeat_s is a good value`);
  section.stall_s ??= defaultStallS(section.dead_after_s);
  if (section.stall_s <= section.dead_after_s) {
    issue(['cluster', 'stall_s'], `must be longer than dead_after_s (${section.dead_after_s}): a shorter bound stops the heartbeats of a main thread busy for less than the others wait; ${defaultStallS(section.dead_after_s)} is a good value`);
  }
  return section;
}
