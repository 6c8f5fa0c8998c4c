import { smokepingMedian, type Round } from '../probes/round.ts';

/**
 * Region aggregation: the latest round of every series is reduced per (source region,
 * target) and per (source region, target region). The rule is documented in docs/mesh.md:
 * each live agent of the source region is judged on its own pooled loss; the region takes
 * the verdict of the strict majority of its agents and reports the figures of that majority,
 * so one agent with a broken uplink neither turns the region red nor skews its numbers.
 */

export interface RegionRule {
  /** An agent is bad toward a target (or target region) when its pooled loss reaches this. */
  bad_loss_pct: number;
  /** Rounds older than this many of their steps are ignored (an agent that stopped reporting). */
  stale_steps: number;
}
export const DEFAULT_RULE: RegionRule = { bad_loss_pct: 20, stale_steps: 3 };

export type RegionStatus = 'ok' | 'degraded' | 'down';

/** One agent's view of a target or a target region, pooled over its rounds. */
export interface AgentView {
  agent: string;
  ok: boolean;
  rounds: number;
  sent: number;
  lost: number;
  loss_pct: number;
  median: number | null;
  jitter: number | null;
  min: number | null;
  max: number | null;
  /** Rounds in which nothing came back. */
  failed: number;
  /** The targets this view covers (one for a per-target cell). */
  targets: string[];
}

/** A region's aggregate toward one target or one target region. */
export interface RegionCell {
  probe: string;
  source_region: string;
  /** The target path (per-target cells) or undefined (region-pair cells). */
  target?: string;
  target_region: string;
  status: RegionStatus;
  agents_total: number;
  agents_ok: number;
  /** Figures of the agents that carry the verdict (see docs/mesh.md); ms and percent. */
  median: number | null;
  loss_pct: number | null;
  jitter: number | null;
  min: number | null;
  max: number | null;
  /** Pooled over every agent, for comparison with the majority's figure. */
  loss_pct_all: number | null;
  /** Rounds with no reply at all (ProberMesh's `failed`). */
  failed: number;
  /** HTTP: mean phases (ms) over successful rounds, commonest status, earliest cert expiry, failure reasons. */
  phases?: Record<string, number>;
  status_code?: number;
  cert_expiry?: number;
  errors?: Record<string, number>;
  agents: AgentView[];
}

export interface RegionSnapshot {
  time: number;
  /** Per (probe, source region, target). */
  targets: RegionCell[];
  /** Per (probe, source region, target region). */
  pairs: RegionCell[];
}

export interface RegionInput {
  /** The latest round of each series. */
  rounds: Iterable<Round>;
  /** Live agents and their regions; rounds of other agents are ignored. */
  agents: ReadonlyMap<string, string>;
  /** The region a target stands in (its `region` label), or undefined. */
  targetRegion(target: string): string | undefined;
  now: number;
  rule?: RegionRule;
}

/** Computes every per-target and per-region-pair cell from the latest rounds. */
export function aggregateRegions(input: RegionInput): RegionSnapshot {
  const rule = input.rule ?? DEFAULT_RULE;
  // probe \0 source \0 target → agent → round
  const perTarget = new Map<string, { probe: string; source: string; target: string; tregion: string; rounds: Round[] }>();
  for (const r of input.rounds) {
    const source = input.agents.get(r.agent);
    if (source === undefined) continue;
    if (input.now - r.time > rule.stale_steps * r.step * 1000) continue;
    const key = `${r.probe}\0${source}\0${r.target}`;
    let g = perTarget.get(key);
    if (!g) perTarget.set(key, (g = { probe: r.probe, source, target: r.target, tregion: input.targetRegion(r.target) ?? '', rounds: [] }));
    g.rounds.push(r);
  }
  const targets: RegionCell[] = [];
  const pairRounds = new Map<string, { probe: string; source: string; tregion: string; byAgent: Map<string, Round[]> }>();
  for (const g of perTarget.values()) {
    const byAgent = new Map<string, Round[]>();
    for (const r of g.rounds) byAgent.set(r.agent, [r]);
    targets.push({ ...cell(byAgent, rule), probe: g.probe, source_region: g.source, target: g.target, target_region: g.tregion });
    if (!g.tregion) continue;
    const key = `${g.probe}\0${g.source}\0${g.tregion}`;
    let p = pairRounds.get(key);
    if (!p) pairRounds.set(key, (p = { probe: g.probe, source: g.source, tregion: g.tregion, byAgent: new Map() }));
    for (const r of g.rounds) {
      const list = p.byAgent.get(r.agent);
      if (list) list.push(r);
      else p.byAgent.set(r.agent, [r]);
    }
  }
  const pairs: RegionCell[] = [];
  for (const p of pairRounds.values()) {
    pairs.push({ ...cell(p.byAgent, rule), probe: p.probe, source_region: p.source, target_region: p.tregion });
  }
  return { time: input.now, targets, pairs };
}

type CellFigures = Omit<RegionCell, 'probe' | 'source_region' | 'target' | 'target_region'>;

/** The majority rule over the agents' views. */
function cell(byAgent: Map<string, Round[]>, rule: RegionRule): CellFigures {
  const views = [...byAgent].map(([agent, rounds]) => agentView(agent, rounds, rule)).sort((a, b) => a.agent.localeCompare(b.agent));
  const total = views.length;
  const ok = views.filter((v) => v.ok).length;
  const status: RegionStatus = ok * 2 > total ? 'ok' : (total - ok) * 2 > total ? 'down' : 'degraded';
  const counted = status === 'ok' ? views.filter((v) => v.ok) : status === 'down' ? views.filter((v) => !v.ok) : views;
  const c: CellFigures = {
    status, agents_total: total, agents_ok: ok,
    median: medianOf(counted.map((v) => v.median)),
    loss_pct: pooledLoss(counted),
    jitter: medianOf(counted.map((v) => v.jitter)),
    min: minOf(counted.map((v) => v.min)),
    max: maxOf(counted.map((v) => v.max)),
    loss_pct_all: pooledLoss(views),
    failed: views.reduce((a, v) => a + v.failed, 0),
    agents: views,
  };
  const all = [...byAgent.values()].flat();
  if (all.some((r) => r.phases || r.status !== undefined || r.error !== undefined)) Object.assign(c, httpFigures(all));
  return c;
}

function agentView(agent: string, rounds: Round[], rule: RegionRule): AgentView {
  let sent = 0;
  let lost = 0;
  let failed = 0;
  for (const r of rounds) {
    sent += r.sent;
    lost += r.loss;
    if (r.rtts.length === 0) failed++;
  }
  const loss = sent === 0 ? 100 : (100 * lost) / sent;
  return {
    agent, rounds: rounds.length, sent, lost, loss_pct: loss, failed,
    ok: sent > 0 && loss < rule.bad_loss_pct,
    median: medianOf(rounds.map((r) => r.median)),
    jitter: medianOf(rounds.map((r) => r.stddev)),
    min: minOf(rounds.map((r) => r.min)),
    max: maxOf(rounds.map((r) => r.max)),
    targets: rounds.map((r) => r.target),
  };
}

/** ProberMesh's HTTP reduction: phases averaged over successful rounds only, failures counted by reason. */
function httpFigures(rounds: Round[]): Pick<CellFigures, 'phases' | 'status_code' | 'cert_expiry' | 'errors'> {
  const sums: Record<string, number> = {};
  const counts: Record<string, number> = {};
  const statuses = new Map<number, number>();
  const errors: Record<string, number> = {};
  let cert: number | undefined;
  for (const r of rounds) {
    if (r.error !== undefined && r.rtts.length === 0) errors[r.error] = (errors[r.error] ?? 0) + 1;
    if (r.status !== undefined) statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
    if (r.cert_expiry !== undefined) cert = cert === undefined ? r.cert_expiry : Math.min(cert, r.cert_expiry);
    if (r.rtts.length === 0 || !r.phases) continue;
    for (const [k, v] of Object.entries(r.phases)) {
      sums[k] = (sums[k] ?? 0) + v;
      counts[k] = (counts[k] ?? 0) + 1;
    }
  }
  const out: Pick<CellFigures, 'phases' | 'status_code' | 'cert_expiry' | 'errors'> = {
    phases: Object.fromEntries(Object.keys(sums).map((k) => [k, sums[k]! / counts[k]!])),
    errors,
  };
  let best = -1;
  for (const [s, n] of statuses) if (n > best || (n === best && s < out.status_code!)) { best = n; out.status_code = s; }
  if (cert !== undefined) out.cert_expiry = cert;
  return out;
}

function pooledLoss(views: readonly AgentView[]): number | null {
  let sent = 0;
  let lost = 0;
  for (const v of views) {
    sent += v.sent;
    lost += v.lost;
  }
  return sent === 0 ? null : (100 * lost) / sent;
}

/** SmokePing's median (upper median for even counts) of the non-null values. */
function medianOf(values: (number | null)[]): number | null {
  return smokepingMedian(values.filter((v): v is number => v !== null).sort((a, b) => a - b));
}
function minOf(values: (number | null)[]): number | null {
  let m: number | null = null;
  for (const v of values) if (v !== null && (m === null || v < m)) m = v;
  return m;
}
function maxOf(values: (number | null)[]): number | null {
  let m: number | null = null;
  for (const v of values) if (v !== null && (m === null || v > m)) m = v;
  return m;
}
