import type { RegionCell, RegionSnapshot } from '../plan/region.ts';
import { Exposition, escapeLabel, formatValue, labelString } from './exposition.ts';
import { RTT_BOUNDS_S, type ExportState } from './state.ts';

/**
 * The /metrics page: ProberMesh's `prober_*` families for the region aggregates (same names
 * and labels, so its Grafana dashboards work), smokemesh's per-series families with target
 * and agent labels, and smokemesh's own health. docs/metrics.md lists every family.
 */

export interface AgentMetricInfo {
  name: string;
  region: string;
  alive: boolean;
  version?: string;
  /** The address ProberMesh's `ip` label shows (intranet first). */
  ip?: string;
  builtin: boolean;
  /** Rounds waiting in the agent's spool and dropped by its quota or memory bound (remote: last heartbeat; built-in: its outbox). */
  spool_backlog?: number;
  spool_dropped?: number;
  /** Rounds skipped because the previous one was still running (built-in agent). */
  overruns?: number;
  /** Self-upgrade state and whether it carries an error (remote agents that report it). */
  upgrade?: { state: string; error: boolean };
}

/** A rollout (the active one, or else the last), with its agents counted by state. */
export interface RolloutMetricInfo {
  id: number;
  version: string;
  state: string;
  agents: Record<string, number>;
}

export interface HealthFigures {
  rounds_by_agent: Record<string, number>;
  sink_errors: Record<string, number>;
  store: { rounds_written: number; refused: number; write_failures: number; unavailable: boolean; series: number; file_bytes: number };
  /** Failed deliveries per notifier channel, when the alert engine reports them. */
  notifier_failures?: Record<string, number>;
  /** Remote-write endpoints and their counters. */
  remote_write?: { url: string; sent_rounds: number; dropped_rounds: number; failed_requests: number; pending: number }[];
  /** CloudWatch export targets and their counters (data points). */
  cloudwatch?: { region: string; namespace: string; sent: number; dropped: number; failed_requests: number; pending: number; requests: number }[];
  /** Seconds the last region aggregation took. */
  aggregation_seconds?: number;
  /** Rollouts of agent releases (src/server/fleet/). */
  rollouts?: RolloutMetricInfo[];
}

export interface MetricsInput {
  state: ExportState;
  snapshot: RegionSnapshot;
  agents: readonly AgentMetricInfo[];
  /** The probed address of a target (ProberMesh's `target_addr`). */
  hostOf(target: string): string | undefined;
  probeSelf: boolean;
  tasksEnabled: boolean;
  health: HealthFigures;
  /** Per-series families (target/agent labels); default true. */
  series?: boolean;
  /** Per-series RTT histograms (the largest part of the page at mesh scale). */
  seriesHistograms: boolean;
  /** Families rendered elsewhere (fault localization), appended as they are. */
  extra?: string;
}

const ms = (v: number | null) => (v === null ? NaN : v / 1000);

/** Renders the whole page (and `extra`, families other concerns rendered, at the end). */
export function renderMetrics(m: MetricsInput): string {
  const x = new Exposition();
  regionFamilies(x, m);
  httpFamilies(x, m);
  agentFamilies(x, m);
  seriesFamilies(x, m);
  healthFamilies(x, m);
  if (m.extra) x.raw(m.extra);
  return x.text();
}

function pairLabels(c: RegionCell): string {
  return `source_region="${escapeLabel(c.source_region)}",target_region="${escapeLabel(c.target_region)}"`;
}

function regionFamilies(x: Exposition, m: MetricsInput): void {
  const icmp = m.snapshot.pairs.filter((c) => c.probe === 'icmp');
  x.family('prober_icmp_failed', 'gauge', 'ICMP rounds with no reply at all in the latest step, per region pair (every live agent of the source region)');
  for (const c of icmp) x.sample('prober_icmp_failed', `{${pairLabels(c)}}`, c.failed);
  x.family('prober_icmp_duration_seconds', 'gauge', 'Region pair RTT by phase: rtt = median of the majority agents\' medians, min and max over them');
  for (const c of icmp) {
    const l = pairLabels(c);
    x.sample('prober_icmp_duration_seconds', `{${l},phase="rtt"}`, ms(c.median));
    x.sample('prober_icmp_duration_seconds', `{${l},phase="min"}`, ms(c.min));
    x.sample('prober_icmp_duration_seconds', `{${l},phase="max"}`, ms(c.max));
  }
  x.family('prober_icmp_packet_loss_rate', 'gauge', 'Region pair packet loss (0-1), pooled over the agents that carry the region verdict');
  for (const c of icmp) x.sample('prober_icmp_packet_loss_rate', `{${pairLabels(c)}}`, c.loss_pct === null ? NaN : c.loss_pct / 100);
  x.family('prober_icmp_jitter_stddev_seconds', 'gauge', 'Region pair jitter: median of the majority agents\' RTT standard deviations');
  for (const c of icmp) x.sample('prober_icmp_jitter_stddev_seconds', `{${pairLabels(c)}}`, ms(c.jitter));
  x.family('prober_icmp_duration_seconds_total', 'histogram', 'Every ICMP RTT received, per region pair, since the server started');
  for (const h of m.state.regionHist.values()) {
    if (h.probe !== 'icmp') continue;
    x.histogram('prober_icmp_duration_seconds_total', `source_region="${escapeLabel(h.source)}",target_region="${escapeLabel(h.target)}"`, RTT_BOUNDS_S, h.hist.counts, h.hist.sum);
  }
  x.family('prober_server_probe_self_enabled', 'gauge', '1 when a mesh group has self_region on (agents also probe their own region)');
  x.sample('prober_server_probe_self_enabled', '', m.probeSelf ? 1 : 0);
  x.family('prober_server_task_enabled', 'gauge', '1 when on-demand diagnostic tasks are enabled on this server');
  x.sample('prober_server_task_enabled', '', m.tasksEnabled ? 1 : 0);

  // Every probe type, region verdicts included (ProberMesh has no such families). Each
  // family's samples stay together, as the text format requires.
  const pairs = m.snapshot.pairs;
  const l = (c: RegionCell) => `probe="${c.probe}",${pairLabels(c)}`;
  x.family('smokemesh_region_healthy', 'gauge', 'Region pair verdict: 1 ok (a strict majority of the source region\'s live agents is fine), 0.5 degraded (tie), 0 down');
  for (const c of pairs) x.sample('smokemesh_region_healthy', `{${l(c)}}`, c.status === 'ok' ? 1 : c.status === 'degraded' ? 0.5 : 0);
  x.family('smokemesh_region_agents', 'gauge', 'Live agents of the source region reporting on the pair (state="total") and those fine (state="ok")');
  for (const c of pairs) {
    x.sample('smokemesh_region_agents', `{${l(c)},state="total"}`, c.agents_total);
    x.sample('smokemesh_region_agents', `{${l(c)},state="ok"}`, c.agents_ok);
  }
  x.family('smokemesh_region_loss_ratio', 'gauge', 'Region pair loss (0-1) by the majority rule, every probe type');
  for (const c of pairs) x.sample('smokemesh_region_loss_ratio', `{${l(c)}}`, c.loss_pct === null ? NaN : c.loss_pct / 100);
  x.family('smokemesh_region_rtt_seconds', 'gauge', 'Region pair RTT: median of the majority agents\' medians, every probe type');
  for (const c of pairs) x.sample('smokemesh_region_rtt_seconds', `{${l(c)}}`, ms(c.median));
}

function httpFamilies(x: Exposition, m: MetricsInput): void {
  const cells = m.snapshot.targets.filter((c) => c.probe === 'http');
  const lab = (c: RegionCell) => `${pairLabels(c)},target_addr="${escapeLabel(m.hostOf(c.target!) ?? c.target!)}"`;
  x.family('prober_http_failed', 'gauge', 'HTTP rounds of the source region that failed, by reason, in the latest step');
  for (const c of cells) for (const [reason, n] of Object.entries(c.errors ?? {})) x.sample('prober_http_failed', `{${lab(c)},failed_reason="${escapeLabel(reason)}"}`, n);
  x.family('prober_http_duration_seconds', 'gauge', 'HTTP phases (blackbox_exporter names) averaged over the source region\'s successful rounds');
  for (const c of cells) for (const [phase, v] of Object.entries(c.phases ?? {})) x.sample('prober_http_duration_seconds', `{${lab(c)},phase="${escapeLabel(phase)}"}`, v / 1000);
  x.family('prober_http_ssl_earliest_cert_expiry', 'gauge', 'Earliest certificate expiry of the chain, seconds since the epoch');
  for (const c of cells) if (c.cert_expiry !== undefined) x.sample('prober_http_ssl_earliest_cert_expiry', `{${lab(c)}}`, c.cert_expiry);
  x.family('prober_http_status_code', 'gauge', 'Commonest HTTP status code the source region got in the latest step');
  for (const c of cells) if (c.status_code !== undefined) x.sample('prober_http_status_code', `{${lab(c)}}`, c.status_code);
}

function agentFamilies(x: Exposition, m: MetricsInput): void {
  x.family('prober_agent_is_alive', 'gauge', '1 while the agent is heard from');
  for (const a of m.agents) x.sample('prober_agent_is_alive', labelString({ region: a.region, ip: a.ip ?? '', version: a.version ?? '', agent: a.name }), a.alive ? 1 : 0);
  x.family('prober_server_receive_points', 'counter', 'Rounds received since the server started, per probe type');
  for (const [t, n] of Object.entries(m.state.receivePoints)) x.sample('prober_server_receive_points', `{prober_type="${t}"}`, n);
  x.family('smokemesh_agent_spool_backlog_rounds', 'gauge', 'Rounds waiting in an agent\'s spool (remote: last heartbeat; built-in: its outbox, disk and memory)');
  x.family('smokemesh_agent_spool_dropped_rounds_total', 'counter', 'Rounds an agent dropped: its spool quota was reached, or its spool could not be written and its memory bound was reached');
  x.family('smokemesh_agent_overruns_total', 'counter', 'Rounds skipped because the previous round of the same job was still running');
  for (const a of m.agents) {
    const l = labelString({ agent: a.name });
    if (a.spool_backlog !== undefined) x.sample('smokemesh_agent_spool_backlog_rounds', l, a.spool_backlog);
    if (a.spool_dropped !== undefined) x.sample('smokemesh_agent_spool_dropped_rounds_total', l, a.spool_dropped);
    if (a.overruns !== undefined) x.sample('smokemesh_agent_overruns_total', l, a.overruns);
  }
  x.family('smokemesh_agent_upgrade_state', 'gauge', 'Self-upgrade state a remote agent reports (1 for its state; error="1" when it carries a last error)');
  for (const a of m.agents) {
    if (a.upgrade) x.sample('smokemesh_agent_upgrade_state', labelString({ agent: a.name, version: a.version ?? '', state: a.upgrade.state, error: a.upgrade.error ? '1' : '0' }), 1);
  }
}

function seriesFamilies(x: Exposition, m: MetricsInput): void {
  if (m.series === false) return;
  const list = [...m.state.series.values()];
  const fam = (name: string, help: string, value: (s: (typeof list)[number]) => number) => {
    x.family(name, 'gauge', help);
    // One string per family: far fewer array entries than one per sample at mesh scale.
    let text = '';
    for (const s of list) text += `${name}{${s.labels}} ${formatValue(value(s))}\n`;
    x.raw(text);
  };
  fam('smokemesh_series_loss_ratio', 'Loss of the latest round of the series (0-1)', (s) => (s.round.sent === 0 ? 1 : s.round.loss / s.round.sent));
  fam('smokemesh_series_rtt_median_seconds', 'Median RTT of the latest round (SmokePing\'s median)', (s) => ms(s.round.median));
  fam('smokemesh_series_rtt_stddev_seconds', 'RTT standard deviation of the latest round', (s) => ms(s.round.stddev));
  fam('smokemesh_series_last_round_timestamp_seconds', 'Start of the latest round', (s) => s.round.time / 1000);
  if (!m.seriesHistograms) return;
  x.family('smokemesh_series_rtt_seconds', 'histogram', 'Every RTT received per series since the server started');
  for (const s of list) x.histogram('smokemesh_series_rtt_seconds', s.labels, RTT_BOUNDS_S, s.hist.counts, s.hist.sum);
}

function healthFamilies(x: Exposition, m: MetricsInput): void {
  const h = m.health;
  x.family('smokemesh_rounds_ingested_total', 'counter', 'Rounds accepted by the server, per agent');
  for (const [agent, n] of Object.entries(h.rounds_by_agent)) x.sample('smokemesh_rounds_ingested_total', labelString({ agent }), n);
  x.family('smokemesh_sink_errors_total', 'counter', 'Batches a round sink (store, alerts, export) failed to take');
  for (const [sink, n] of Object.entries(h.sink_errors)) x.sample('smokemesh_sink_errors_total', labelString({ sink }), n);
  x.family('smokemesh_store_rounds_written_total', 'counter', 'Rounds written to the store');
  x.sample('smokemesh_store_rounds_written_total', '', h.store.rounds_written);
  x.family('smokemesh_store_refused_rounds_total', 'counter', 'Rounds the store\'s validation refused (out of bounds, outside the time window)');
  x.sample('smokemesh_store_refused_rounds_total', '', h.store.refused);
  x.family('smokemesh_store_write_failures_total', 'counter', 'Writes refused with SMOKEMESH_E_UNAVAILABLE (disk full, locked file, I/O error); the writers kept their rounds');
  x.sample('smokemesh_store_write_failures_total', '', h.store.write_failures);
  x.family('smokemesh_store_unavailable', 'gauge', '1 while the store cannot commit (agents get 503 and keep their rounds)');
  x.sample('smokemesh_store_unavailable', '', h.store.unavailable ? 1 : 0);
  x.family('smokemesh_store_series', 'gauge', 'Series in the store');
  x.sample('smokemesh_store_series', '', h.store.series);
  x.family('smokemesh_store_file_bytes', 'gauge', 'Size of the store\'s database files');
  x.sample('smokemesh_store_file_bytes', '', h.store.file_bytes);
  if (h.notifier_failures) {
    x.family('smokemesh_notifier_failures_total', 'counter', 'Alert deliveries that failed, per notifier channel');
    for (const [channel, n] of Object.entries(h.notifier_failures)) x.sample('smokemesh_notifier_failures_total', labelString({ channel }), n);
  }
  if (h.remote_write?.length) {
    const fam = (name: string, type: 'counter' | 'gauge', help: string, v: (r: NonNullable<HealthFigures['remote_write']>[number]) => number) => {
      x.family(name, type, help);
      for (const r of h.remote_write!) x.sample(name, labelString({ url: r.url }), v(r));
    };
    fam('smokemesh_remote_write_rounds_total', 'counter', 'Rounds sent to the remote-write endpoint', (r) => r.sent_rounds);
    fam('smokemesh_remote_write_dropped_rounds_total', 'counter', 'Rounds dropped (queue bound reached, or refused with a 4xx)', (r) => r.dropped_rounds);
    fam('smokemesh_remote_write_failed_requests_total', 'counter', 'Requests that failed (retried unless 4xx)', (r) => r.failed_requests);
    fam('smokemesh_remote_write_pending_rounds', 'gauge', 'Rounds waiting to be sent', (r) => r.pending);
  }
  if (h.cloudwatch?.length) {
    const fam = (name: string, type: 'counter' | 'gauge', help: string, v: (c: NonNullable<HealthFigures['cloudwatch']>[number]) => number) => {
      x.family(name, type, help);
      for (const c of h.cloudwatch!) x.sample(name, labelString({ region: c.region, namespace: c.namespace }), v(c));
    };
    fam('smokemesh_cloudwatch_datapoints_total', 'counter', 'Data points CloudWatch accepted (PutMetricData)', (c) => c.sent);
    fam('smokemesh_cloudwatch_requests_total', 'counter', 'PutMetricData requests CloudWatch accepted', (c) => c.requests);
    fam('smokemesh_cloudwatch_dropped_datapoints_total', 'counter', 'Data points dropped (queue bound reached, or refused for their content)', (c) => c.dropped);
    fam('smokemesh_cloudwatch_failed_requests_total', 'counter', 'PutMetricData requests that failed (throttled, errors; retried unless refused for their content)', (c) => c.failed_requests);
    fam('smokemesh_cloudwatch_pending_datapoints', 'gauge', 'Data points waiting to be sent', (c) => c.pending);
  }
  if (h.rollouts?.length) {
    x.family('smokemesh_rollout_info', 'gauge', 'The active rollout (or the last one): 1, labelled with its id, version and state');
    x.family('smokemesh_rollout_agents', 'gauge', 'Agents of the rollout in each state');
    for (const r of h.rollouts) {
      x.sample('smokemesh_rollout_info', labelString({ rollout: r.id, version: r.version, state: r.state }), 1);
      for (const [state, n] of Object.entries(r.agents)) x.sample('smokemesh_rollout_agents', labelString({ rollout: r.id, state }), n);
    }
  }
  if (h.aggregation_seconds !== undefined) {
    x.family('smokemesh_region_aggregation_seconds', 'gauge', 'Time the last region aggregation took');
    x.sample('smokemesh_region_aggregation_seconds', '', h.aggregation_seconds);
  }
}
