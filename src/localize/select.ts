/**
 * Which series a scope holds and which it leaves out: path patterns, label matchers, the
 * whitelist and maintenance windows. Plain functions over plain data; no regular expressions
 * (patterns come from the config and are matched segment by segment in linear time).
 */
import { WEEKDAYS, type LabelMatch, type Maintenance, type Roles, type Whitelist } from '../config/localize-schema.ts';
import type { SeriesInput } from './types.ts';

/** A fraction as an exact ratio: `"1/3"` → {num: 1, den: 3}; 0.5 → {num: 0.5, den: 1}. */
export interface Ratio { num: number; den: number }

/** Reads a fraction of the config (a number or "a/b"). */
export function ratio(v: number | string): Ratio {
  if (typeof v === 'number') return { num: v, den: 1 };
  const [a, b] = v.split('/').map((s) => Number(s.trim()));
  return { num: a!, den: b! };
}

/** count / total ≥ r, computed without rounding (a third of 3 is a third). */
export function atLeast(count: number, total: number, r: Ratio): boolean {
  return total > 0 && count * r.den >= r.num * total;
}

/** count / total > r. */
export function moreThan(count: number, total: number, r: Ratio): boolean {
  return total > 0 && count * r.den > r.num * total;
}

/** True when every key of `m` is in `labels` with one of its values. */
export function labelsMatch(m: LabelMatch | undefined, labels: Readonly<Record<string, string>>): boolean {
  if (!m) return true;
  for (const [k, want] of Object.entries(m)) {
    const v = labels[k];
    if (v === undefined) return false;
    if (Array.isArray(want) ? !want.includes(v) : want !== v) return false;
  }
  return true;
}

/**
 * Matches a target path against `/exact`, `/a/*\/c` (`*` = one segment) or `/a/**` (the
 * subtree, `/a` itself included).
 */
export function pathMatches(pattern: string, path: string): boolean {
  const p = pattern.split('/').filter(Boolean);
  const s = path.split('/').filter(Boolean);
  for (let i = 0; i < p.length; i++) {
    if (p[i] === '**' && i === p.length - 1) return true;
    if (i >= s.length) return false;
    if (p[i] !== '*' && p[i] !== s[i]) return false;
  }
  return p.length === s.length;
}

export const anyPath = (patterns: readonly string[] | undefined, path: string): boolean => !!patterns?.some((p) => pathMatches(p, path));

/** Whether the whitelist leaves this series out. */
export function whitelisted(w: Whitelist, target: string, agent: string, targetLabels: Readonly<Record<string, string>>, agentLabels: Readonly<Record<string, string>>): boolean {
  if (anyPath(w.targets, target)) return true;
  if (w.agents?.includes(agent)) return true;
  if (w.labels && Object.keys(w.labels).length && (labelsMatch(w.labels, targetLabels) || labelsMatch(w.labels, agentLabels))) return true;
  return false;
}

/** Whether a maintenance window is open at `now` (ms). Weekly windows are in UTC and may wrap midnight. */
export function windowOpen(m: Maintenance, now: number): boolean {
  if (m.start !== undefined || m.end !== undefined) {
    const from = m.start !== undefined ? Date.parse(m.start) : -Infinity;
    const to = m.end !== undefined ? Date.parse(m.end) : Infinity;
    if (!(now >= from && now < to)) return false;
    if (!m.weekly) return true;
  }
  if (!m.weekly) return false;
  const d = new Date(now);
  const minute = d.getUTCHours() * 60 + d.getUTCMinutes();
  const [fh, fm] = m.weekly.from.split(':').map(Number);
  const [th, tm] = m.weekly.to.split(':').map(Number);
  const from = fh! * 60 + fm!;
  const to = th! * 60 + tm!;
  const today = WEEKDAYS[d.getUTCDay()]!;
  const yesterday = WEEKDAYS[(d.getUTCDay() + 6) % 7]!;
  if (from <= to) return m.weekly.days.includes(today) && minute >= from && minute < to;
  // Wraps midnight: open from `from` on a listed day until `to` on the next day.
  return (m.weekly.days.includes(today) && minute >= from) || (m.weekly.days.includes(yesterday) && minute < to);
}

/** Whether a window open now covers this series (no criterion = every series of the scope). */
export function inMaintenance(list: readonly Maintenance[], now: number, target: string, agent: string, targetLabels: Readonly<Record<string, string>>, agentLabels: Readonly<Record<string, string>>): boolean {
  for (const m of list) {
    if (!windowOpen(m, now)) continue;
    if (m.targets && !anyPath(m.targets, target)) continue;
    if (m.agents && !m.agents.includes(agent)) continue;
    if (m.labels && !(labelsMatch(m.labels, targetLabels) || labelsMatch(m.labels, agentLabels))) continue;
    return true;
  }
  return false;
}

/** The vantage role values of a series (agent labels; "agent" and "region" always exist); undefined where a label is missing. */
export function vantageOf(roles: Roles, s: Pick<SeriesInput, 'agent' | 'agentLabels' | 'agentRegion'>): (string | undefined)[] {
  return roles.vantage.map((k) => (k === 'agent' ? s.agent : k === 'region' ? (s.agentLabels.region ?? s.agentRegion) : s.agentLabels[k]));
}

/** The destination role values of a series (target labels; "path" = the target's parent group). */
export function destinationOf(roles: Roles, s: Pick<SeriesInput, 'target' | 'targetLabels'>): (string | undefined)[] {
  return roles.destination.map((k) => (k === 'path' ? parentOf(s.target) : s.targetLabels[k]));
}

/** The parent group of a target path: `/IDC/bj/vip1` → `/IDC/bj`. */
export const parentOf = (path: string): string => path.slice(0, Math.max(1, path.lastIndexOf('/'))) || '/';
