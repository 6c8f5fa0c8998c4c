import Type, { type Static } from 'typebox';
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

export const REGION_STATUSES = ['ok', 'degraded', 'down'] as const;
export type RegionStatus = (typeof REGION_STATUSES)[number];
const NullableMs = Type.Union([Type.Number(), Type.Null()]);

/** One agent's view of a target or a target region, pooled over its rounds. */
export const AgentViewSchema = Type.Object({
  agent: Type.String(),
  ok: Type.Boolean(),
  rounds: Type.Integer(),
  sent: Type.Integer(),
  lost: Type.Integer(),
  loss_pct: Type.Number(),
  median: NullableMs,
  jitter: NullableMs,
  min: NullableMs,
  max: NullableMs,
  failed: Type.Integer({ description: 'rounds in which nothing came back' }),
  targets: Type.Array(Type.String(), { description: 'the targets this view covers (one for a per-target cell)' }),
});
export type AgentView = Static<typeof AgentViewSchema>;

/** A region's aggregate toward one target or one target region (ms and percent). */
export const RegionCellSchema = Type.Object({
  probe: Type.String(),
  source_region: Type.String(),
  target: Type.Optional(Type.String({ description: 'the target path (per-target cells); absent for region-pair cells' })),
  target_region: Type.String(),
  status: Type.Enum(REGION_STATUSES),
  agents_total: Type.Integer(),
  agents_ok: Type.Integer(),
  median: NullableMs,
  loss_pct: NullableMs,
  jitter: NullableMs,
  min: NullableMs,
  max: NullableMs,
  loss_pct_all: Type.Union([Type.Number(), Type.Null()], { description: 'pooled over every agent, for comparison with the majority' }),
  failed: Type.Integer({ description: "rounds with no reply at all (ProberMesh's failed)" }),
  phases: Type.Optional(Type.Record(Type.String(), Type.Number(), { description: 'HTTP: mean phases (ms) over successful rounds' })),
  status_code: Type.Optional(Type.Integer({ description: 'HTTP: commonest status' })),
  cert_expiry: Type.Optional(Type.Number({ description: 'HTTP: earliest certificate expiry' })),
  errors: Type.Optional(Type.Record(Type.String(), Type.Integer(), { description: 'failure reasons and their counts' })),
  agents: Type.Array(AgentViewSchema),
});
export type RegionCell = Static<typeof RegionCellSchema>;

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
  /** Which pairs get per-target cells; default all. */
  withTargets?: (probe: string, sourceRegion: string, targetRegion: string) => boolean;
}

/**
 * Computes the region-pair cells, and the per-target cells of the pairs `withTargets`
 * selects (all by default; at mesh scale they are the bulk of the work, so the server
 * builds them only where they are shown).
 */
export function aggregateRegions(input: RegionInput): RegionSnapshot {
  const rule = input.rule ?? DEFAULT_RULE;
  const tregions = new Map<string, string>();
  interface PairAcc { probe: string; source: string; tregion: string; byAgent: Map<string, AgentAcc>; rounds: Round[]; perTarget?: Map<string, Round[]> }
  // probe → source region → target region: nested maps, no per-round key strings.
  const index = new Map<string, Map<string, Map<string, PairAcc>>>();
  const all: PairAcc[] = [];
  for (const r of input.rounds) {
    const source = input.agents.get(r.agent);
    if (source === undefined) continue;
    if (input.now - r.time > rule.stale_steps * r.step * 1000) continue;
    let tregion = tregions.get(r.target);
    if (tregion === undefined) tregions.set(r.target, (tregion = input.targetRegion(r.target) ?? ''));
    let bySource = index.get(r.probe);
    if (!bySource) index.set(r.probe, (bySource = new Map()));
    let byTarget = bySource.get(source);
    if (!byTarget) bySource.set(source, (byTarget = new Map()));
    let p = byTarget.get(tregion);
    if (!p) {
      p = { probe: r.probe, source, tregion, byAgent: new Map(), rounds: [] };
      if (!input.withTargets || input.withTargets(r.probe, source, tregion)) p.perTarget = new Map();
      byTarget.set(tregion, p);
      all.push(p);
    }
    if (p.perTarget) {
      const list = p.perTarget.get(r.target);
      if (list) list.push(r);
      else p.perTarget.set(r.target, [r]);
    }
    if (!tregion) continue;
    let a = p.byAgent.get(r.agent);
    if (!a) p.byAgent.set(r.agent, (a = newAcc(r.agent)));
    addRound(a, r);
    if (r.probe === 'http' || r.probe === 'dns') p.rounds.push(r);
  }
  const targets: RegionCell[] = [];
  const pairs: RegionCell[] = [];
  for (const p of all) {
    for (const [target, rounds] of p.perTarget ?? []) {
      const c = cell(rounds.map((r) => addRound(newAcc(r.agent), r)), rounds, rule) as RegionCell;
      c.probe = p.probe;
      c.source_region = p.source;
      c.target = target;
      c.target_region = p.tregion;
      targets.push(c);
    }
    if (!p.tregion) continue;
    const c = cell([...p.byAgent.values()], p.rounds, rule) as RegionCell;
    c.probe = p.probe;
    c.source_region = p.source;
    c.target_region = p.tregion;
    pairs.push(c);
  }
  return { time: input.now, targets, pairs };
}

type CellFigures = Omit<RegionCell, 'probe' | 'source_region' | 'target' | 'target_region'>;

/** One agent's rounds toward a target or a target region, pooled as they come. */
interface AgentAcc {
  agent: string;
  rounds: number;
  sent: number;
  lost: number;
  failed: number;
  medians: number[];
  jitters: number[];
  min: number | null;
  max: number | null;
  targets: string[];
}

function newAcc(agent: string): AgentAcc {
  return { agent, rounds: 0, sent: 0, lost: 0, failed: 0, medians: [], jitters: [], min: null, max: null, targets: [] };
}

function addRound(a: AgentAcc, r: Round): AgentAcc {
  a.rounds++;
  a.sent += r.sent;
  a.lost += r.loss;
  if (r.rtts.length === 0) a.failed++;
  if (r.median !== null) a.medians.push(r.median);
  if (r.stddev !== null) a.jitters.push(r.stddev);
  if (r.min !== null && (a.min === null || r.min < a.min)) a.min = r.min;
  if (r.max !== null && (a.max === null || r.max > a.max)) a.max = r.max;
  a.targets.push(r.target);
  return a;
}

/** The majority rule over the agents' views. */
function cell(accs: AgentAcc[], rounds: readonly Round[], rule: RegionRule): CellFigures {
  const views = accs.map((a) => agentView(a, rule)).sort((a, b) => (a.agent < b.agent ? -1 : a.agent > b.agent ? 1 : 0));
  const total = views.length;
  let ok = 0;
  for (const v of views) if (v.ok) ok++;
  const status: RegionStatus = ok * 2 > total ? 'ok' : (total - ok) * 2 > total ? 'down' : 'degraded';
  const counted = status === 'ok' ? views.filter((v) => v.ok) : status === 'down' ? views.filter((v) => !v.ok) : views;
  let failed = 0;
  for (const v of views) failed += v.failed;
  const c: CellFigures = {
    status, agents_total: total, agents_ok: ok,
    median: medianOf(counted.map((v) => v.median)),
    loss_pct: pooledLoss(counted),
    jitter: medianOf(counted.map((v) => v.jitter)),
    min: minOf(counted.map((v) => v.min)),
    max: maxOf(counted.map((v) => v.max)),
    loss_pct_all: pooledLoss(views),
    failed,
    agents: views,
  };
  if (rounds[0]?.probe === 'http' || rounds[0]?.probe === 'dns') Object.assign(c, httpFigures(rounds));
  return c;
}

function agentView(a: AgentAcc, rule: RegionRule): AgentView {
  const loss = a.sent === 0 ? 100 : (100 * a.lost) / a.sent;
  return {
    agent: a.agent, rounds: a.rounds, sent: a.sent, lost: a.lost, loss_pct: loss, failed: a.failed,
    ok: a.sent > 0 && loss < rule.bad_loss_pct,
    median: medianOf(a.medians),
    jitter: medianOf(a.jitters),
    min: a.min,
    max: a.max,
    targets: a.targets,
  };
}

/** ProberMesh's HTTP reduction: phases averaged over successful rounds only, failures counted by reason. */
function httpFigures(rounds: readonly Round[]): Pick<CellFigures, 'phases' | 'status_code' | 'cert_expiry' | 'errors'> {
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
function medianOf(values: readonly (number | null)[]): number | null {
  if (values.length === 1) return values[0]!;
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
