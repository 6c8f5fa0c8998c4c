/**
 * Silence matching: a silence mutes the notifications of the alerts it matches during its
 * time window (they are recorded, not sent).
 */
import type { Silence } from './db.ts';

/** Compiles a target path glob: `*` and `?` stay within one path segment, `**` crosses them. */
export function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*' && glob[i + 1] === '*') {
      re += '.*';
      i++;
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

export interface SilenceSubject {
  target: string;
  agent: string;
  alert: string;
  labels: Record<string, string>;
  time: number;
}

/** True when `s` is active at `x.time` and every criterion it sets holds for `x`. */
export function silenceMatches(s: Silence, x: SilenceSubject): boolean {
  if (x.time < s.starts || x.time >= s.ends) return false;
  if (s.alert !== undefined && s.alert !== x.alert) return false;
  if (s.agent !== undefined && s.agent !== x.agent) return false;
  if (s.target !== undefined && !globToRegExp(s.target).test(x.target)) return false;
  for (const [k, v] of Object.entries(s.labels ?? {})) if (x.labels[k] !== v) return false;
  return true;
}
