/**
 * One round of one series through its alerts, as SmokePing's check_alerts does it: the round
 * is appended to the series' history (which starts with the 'S' marker and keeps as many
 * entries as the longest alert of the target needs), then the alerts are tested in ascending
 * priority; edge-triggered ones report raised/cleared, the others every matching round; once
 * a prioritized alert notifies, the other prioritized alerts of the target are suppressed.
 * Beyond SmokePing (off unless configured): `hold_down: N` keeps a raised edge-triggered
 * alert raised until N rounds in a row did not match (SmokePing clears at the first one).
 */
import type { AlertRule } from './config.ts';
import type { History } from './matchers.ts';
import type { HistoryValue } from './pattern.ts';

export interface SeriesState {
  history: History;
  /** SmokePing's prevmatch counter per alert name (absent = 0). */
  counters: Map<string, number>;
  /** Time of the newest round in the history: a resent or late round is not counted twice. */
  last: number;
  /** Alerts held raised by hold_down: clean rounds seen since they stopped matching. */
  holds: Map<string, number>;
  /** Days the certificate of the latest round that reported one has left (HTTPS targets). */
  certDays?: number;
  /**
   * Raised alerts were continued from saved counters (a restart, or a series taken over from
   * another server) and the history read back may be short (the store had not all rounds yet):
   * nothing is judged until the history is as long as the target's longest pattern, so a short
   * history cannot look like a clear.
   */
  resumed?: boolean;
}

export interface Outcome {
  rule: AlertRule;
  state: 'raised' | 'cleared' | 'firing';
  /** True when a higher-priority alert of the target already notified this round. */
  suppressed: boolean;
}

// SmokePing's counter grows without bound while an alert matches; the cap keeps it finite.
const COUNTER_CAP = 1e12;

/** Alerts in SmokePing's checking order: ascending priority (none = 0), stable otherwise. */
export function orderRules(rules: AlertRule[]): AlertRule[] {
  return rules.map((r, i) => ({ r, i })).sort((a, b) => (a.r.priority ?? 0) - (b.r.priority ?? 0) || a.i - b.i).map((x) => x.r);
}

/** A fresh history: the start marker only. */
export function newHistory(): History {
  return { loss: ['S'], rtt: ['S'] };
}

/** Appends one round; drops the oldest entry once the history is longer than `cap` (as SmokePing). */
export function pushRound(h: History, cap: number, lossPct: number, rtt: number | null): void {
  h.loss.push(lossPct);
  h.rtt.push(rtt);
  if (h.loss.length > cap) {
    h.loss.shift();
    h.rtt.shift();
  }
}

/** Keeps the newest max(cap, 1) entries (after a reload shortened the alerts). */
export function trimHistory(h: History, cap: number): void {
  const keep = Math.max(cap, 1);
  if (h.loss.length > keep) {
    h.loss.splice(0, h.loss.length - keep);
    h.rtt.splice(0, h.rtt.length - keep);
  }
}

/**
 * Tests the ordered rules against the history (the round already pushed), updates the
 * counters and returns what must be notified, plus the alerts whose counter changed.
 */
export function evaluateRules(state: SeriesState, ordered: AlertRule[]): { outcomes: Outcome[]; changed: string[] } {
  const outcomes: Outcome[] = [];
  const changed: string[] = [];
  let priorityDone: number | undefined;
  for (const rule of ordered) {
    const prev = state.counters.get(rule.name) ?? 0;
    let match: number;
    try {
      match = rule.test(state.history, prev, state);
    } catch {
      match = 0;
    }
    if (!Number.isFinite(match)) match = match ? COUNTER_CAP : 0;
    let what: Outcome['state'] | undefined;
    if (rule.edgetrigger && rule.hold_down) what = holdDown(state, rule, prev, match, changed);
    else if (rule.edgetrigger && (prev ? 1 : 0) !== (match ? 1 : 0)) what = prev === 0 ? 'raised' : 'cleared';
    if (!rule.edgetrigger && match) what = 'firing';
    if (what) {
      const suppressed = rule.priority !== undefined && priorityDone !== undefined;
      if (!suppressed && rule.priority && !priorityDone) priorityDone = rule.priority;
      outcomes.push({ rule, state: what, suppressed });
    }
    const next = match === 0 ? 0 : Math.min(COUNTER_CAP, prev + match);
    if (next !== prev) {
      if (next === 0) state.counters.delete(rule.name);
      else state.counters.set(rule.name, next);
      changed.push(rule.name);
    }
  }
  return { outcomes, changed };
}

/** Edge triggering with hold-down: raised as usual, cleared only after `hold_down` clean rounds in a row. */
function holdDown(state: SeriesState, rule: AlertRule, prev: number, match: number, changed: string[]): Outcome['state'] | undefined {
  const held = state.holds.get(rule.name);
  const wasRaised = prev > 0 || held !== undefined;
  if (match) {
    if (held !== undefined) {
      state.holds.delete(rule.name);
      changed.push(rule.name);
    }
    return wasRaised ? undefined : 'raised';
  }
  if (!wasRaised) return undefined;
  const clean = (held ?? 0) + 1;
  changed.push(rule.name);
  if (clean >= rule.hold_down!) {
    state.holds.delete(rule.name);
    return 'cleared';
  }
  state.holds.set(rule.name, clean);
  return undefined;
}

/** Perl's sprintf "%.0f": round half to even on the exact value. */
export function perlRound(x: number): string {
  const f = Math.floor(x);
  const d = x - f;
  const r = d > 0.5 ? f + 1 : d < 0.5 ? f : f % 2 === 0 ? f : f + 1;
  return String(r === 0 ? 0 : r);
}

/** SmokePing's history strings: `0%`, `S`, … and `12ms`, `U`, …, oldest → newest. */
export function formatHistory(h: History): { loss: string[]; rtt: string[] } {
  const fmt = (v: HistoryValue, unit: string) => (v === null ? 'U' : v === 'S' ? 'S' : perlRound(v) + unit);
  return { loss: h.loss.map((v) => fmt(v, '%')), rtt: h.rtt.map((v) => fmt(v, 'ms')) };
}
