import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import type { Proc } from './agents-kit.ts';
import { startPostgres, type Postgres } from './postgres.ts';
import { startVictoria, type Victoria } from './victoria.ts';

/** The head of a cluster server's config in the cluster tests: general, a VictoriaMetrics store and the cluster section. */
export interface ClusterServerHead {
  id: string;
  port: number;
  dataDir: string;
  step: number;
  pings: number;
  vmUrl: string;
  pgUrl: string;
  heartbeatS?: number;
  /** Omitted: the default (3 × heartbeat_s). */
  deadAfterS?: number;
}

/** YAML of general, store and cluster for one server of a test cluster (the rest of the file follows it). */
export function clusterServerHead(o: ClusterServerHead): string {
  return `general:
  step: ${o.step}
  pings: ${o.pings}
  listen: 127.0.0.1:${o.port}
  data_dir: ${o.dataDir}
  agent_name: srv-${o.id}
store:
  backend: victoriametrics
  url: ${o.vmUrl}
cluster:
  coordination: ${o.pgUrl}
  server_id: ${o.id}
  heartbeat_s: ${o.heartbeatS ?? 1}
${o.deadAfterS === undefined ? '' : `  dead_after_s: ${o.deadAfterS}\n`}`;
}

/** What every cluster test starts with: a temporary folder, one VictoriaMetrics, one PostgreSQL, and the processes to stop. */
export interface ClusterBackends {
  dir: string;
  vm: Victoria;
  pg: Postgres;
  /** Servers and agents the test starts: killed when it ends. */
  procs: Proc[];
}

/**
 * Starts a cluster test's backends; when the test ends, kills its processes, stops PostgreSQL
 * and VictoriaMetrics and removes the folder (in that order).
 */
export async function clusterBackends(t: TestContext, prefix: string): Promise<ClusterBackends> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const procs: Proc[] = [];
  const vm = await startVictoria();
  const pg = await startPostgres();
  t.after(async () => {
    for (const p of procs) await p.stop('SIGKILL');
    await pg.stop();
    await vm.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  return { dir, vm, pg, procs };
}
