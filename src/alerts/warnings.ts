/**
 * Config warnings of the alert sections: things that are valid but probably not what was
 * meant. Today one: a loss threshold finer than the pings of the targets using it can
 * express (with 10 pings a round's loss moves in steps of 10 %, so `>10%` needs two lost
 * pings and `>15%` acts as `>=20%`). Printed by check-config, logged at start and reload.
 */
import type { Config } from '../config/loader.ts';
import { probedTargets } from '../config/tree.ts';
import type { ConfigIssue } from '../errors.ts';
import { collectIssues, type IssueAt } from '../config/section.ts';
import { compilePattern } from './pattern.ts';

const EPS = 1e-9;

/** What a loss condition means with `pings` pings, when that differs from how it reads; else undefined. */
export function lossThresholdNote(op: string, value: number, pings: number): string | undefined {
  if (value <= 0 || value >= 100) return undefined;
  const stepPct = 100 / pings;
  const k = value / stepPct;
  const whole = Math.abs(k - Math.round(k)) < EPS;
  const cond = `${op}${value}%`;
  const pct = (n: number) => `${+(n * stepPct).toFixed(2)}%`;
  if (op === '>' || op === '>=') {
    const m = op === '>' ? Math.floor(k + EPS) + 1 : Math.ceil(k - EPS);
    if (!whole) return `"${cond}" with ${pings} pings acts as ">=${pct(m)}": ${m} lost ping${m > 1 ? 's' : ''} (a round's loss moves in steps of ${pct(1)})`;
    if (op === '>' && Math.round(k) === 1) return `"${cond}" with ${pings} pings needs ${m} lost pings (${pct(m)}); write ">=${value}%" to fire on one`;
    return undefined;
  }
  if (whole) return undefined;
  if (op === '==') return `"${cond}" never matches with ${pings} pings (a round's loss moves in steps of ${pct(1)})`;
  if (op === '!=') return `"${cond}" always matches with ${pings} pings (a round's loss moves in steps of ${pct(1)})`;
  const m = op === '<' ? Math.ceil(k - EPS) - 1 : Math.floor(k + EPS);
  return `"${cond}" with ${pings} pings acts as "<=${pct(m)}" (a round's loss moves in steps of ${pct(1)})`;
}

/** Warnings for every loss alert whose thresholds its targets' pings cannot express as written. */
export function checkAlertWarnings(config: Config): ConfigIssue[] {
  const { issue, issues } = collectIssues(config);
  warnLossThresholds(config, issue);
  return issues;
}

/** Reports, through `warn`, every loss alert whose thresholds its targets' pings cannot express as written. */
export function warnLossThresholds(config: Config, warn: IssueAt): void {
  const raw = config.raw.alerts;
  if (typeof raw !== 'object' || raw === null) return;
  const rules = raw as Record<string, { type?: unknown; pattern?: unknown }>;
  const pingsOf = new Map<string, Map<number, string[]>>(); // alert → pings → targets
  for (const t of probedTargets(config.targets)) {
    for (const a of t.alerts) {
      let m = pingsOf.get(a);
      if (!m) pingsOf.set(a, (m = new Map()));
      const list = m.get(t.probe.params.pings) ?? [];
      list.push(t.path);
      m.set(t.probe.params.pings, list);
    }
  }
  for (const [name, byPings] of pingsOf) {
    const r = rules[name];
    if (!r || r.type !== 'loss' || typeof r.pattern !== 'string') continue;
    let conditions;
    try {
      conditions = compilePattern('loss', r.pattern).conditions;
    } catch {
      continue; // reported as an error by the alert check
    }
    const at = ['alerts', name, 'pattern'];
    for (const [pings, targets] of [...byPings].sort((a, b) => a[0] - b[0])) {
      const notes = new Set<string>();
      for (const c of conditions) {
        if (c.test.kind !== 'num') continue;
        const n1 = lossThresholdNote(c.test.op, c.test.value, pings);
        if (n1) notes.add(n1);
        if (c.test.op2 && c.test.value2 !== undefined) {
          const n2 = lossThresholdNote(c.test.op2, c.test.value2, pings);
          if (n2) notes.add(n2);
        }
      }
      const where = targets.length === 1 ? targets[0]! : `${targets.length} targets (${targets.slice(0, 3).join(', ')}${targets.length > 3 ? ', …' : ''})`;
      for (const note of notes) warn(at, `${note}; used by ${where}`);
    }
  }
}
