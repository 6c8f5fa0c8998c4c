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
