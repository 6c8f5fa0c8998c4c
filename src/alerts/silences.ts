/**
 * Silence matching: a silence mutes the notifications of the alerts it matches during its
 * time window (they are recorded, not sent).
 */
import type { Silence } from './db.ts';
import { globMatch } from './glob.ts';

export interface SilenceSubject {
  target: string;
  agent: string;
  alert: string;
  labels: Record<string, string>;
  time: number;
}

/**
 * True when `s` is active at `x.time` and every criterion it sets holds for `x`: target,
 * agent and alert are globs (glob.ts; a plain name matches itself), labels must be equal.
 */
export function silenceMatches(s: Silence, x: SilenceSubject): boolean {
  if (x.time < s.starts || x.time >= s.ends) return false;
  if (s.alert !== undefined && !globMatch(s.alert, x.alert)) return false;
  if (s.agent !== undefined && !globMatch(s.agent, x.agent)) return false;
  if (s.target !== undefined && !globMatch(s.target, x.target)) return false;
  for (const [k, v] of Object.entries(s.labels ?? {})) if (x.labels[k] !== v) return false;
  return true;
}
