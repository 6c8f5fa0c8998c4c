/**
 * Which series an evidence trace of a cause starts from: plain functions over the step's
 * explanation map (series → the cause explaining it), no I/O. The service runs the trace.
 */
import { vantageOf } from './select.ts';
import type { Roles } from '../config/localize-schema.ts';
import type { SeriesInput } from './types.ts';

/** Where a cause's evidence trace goes: one affected target and the agents that trace toward it. */
export interface TraceChoice {
  target: string;
  agents: string[];
}

/**
 * The target most of the cause's explained series go to (ties: the first path in order), and
 * up to `max` of the agents whose series toward it the cause explains, from different vantage
 * cells first (two views of one fault say more than two agents of one site). Undefined when the
 * cause explains no series or `max` is 0.
 */
export function traceChoice(causeId: string, explain: ReadonlyMap<string, string>, inputs: readonly SeriesInput[], roles: Roles, max: number): TraceChoice | undefined {
  if (max <= 0) return undefined;
  const byTarget = new Map<string, SeriesInput[]>();
  for (const s of inputs) {
    if (explain.get(s.key ?? `${s.target}\u0000${s.agent}`) !== causeId) continue;
    let list = byTarget.get(s.target);
    if (!list) byTarget.set(s.target, (list = []));
    list.push(s);
  }
  let best: string | undefined;
  for (const [target, list] of byTarget) {
    const n = byTarget.get(best ?? '')?.length ?? 0;
    if (list.length > n || (list.length === n && best !== undefined && target < best)) best = target;
  }
  if (best === undefined) return undefined;
  const series = [...byTarget.get(best)!].sort((a, b) => (a.agent < b.agent ? -1 : a.agent > b.agent ? 1 : 0));
  const agents: string[] = [];
  const cells = new Set<string>();
  for (const s of series) {
    const cell = vantageOf(roles, s).join(' / ');
    if (cells.has(cell)) continue;
    cells.add(cell);
    agents.push(s.agent);
    if (agents.length === max) return { target: best, agents };
  }
  for (const s of series) {
    if (agents.length === max) break;
    if (!agents.includes(s.agent)) agents.push(s.agent);
  }
  return { target: best, agents };
}
