import { SmokemeshError } from '../errors.ts';

/**
 * Repeatable `key=value` options of the commands: `--param` (values read as JSON when they parse,
 * so numbers, booleans and lists arrive typed; else the text) and `--label` (text).
 */
export function keyValues(list: readonly string[], flag: string, json: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const kv of list) {
    const eq = kv.indexOf('=');
    if (eq < 1) throw new SmokemeshError('SMOKEMESH_E_USAGE', `${flag} "${kv}": expected key=value`);
    const raw = kv.slice(eq + 1);
    let value: unknown = raw;
    if (json) {
      try { value = JSON.parse(raw); } catch { /* a plain string */ }
    }
    out[kv.slice(0, eq)] = value;
  }
  return out;
}

/** A whole number given to `flag`, or a usage error naming it. */
export function int(v: string, flag: string): number {
  const n = Number(v);
  if (!Number.isInteger(n)) throw new SmokemeshError('SMOKEMESH_E_USAGE', `${flag}: "${v}" is not a whole number`);
  return n;
}

/** Commander's collector for repeatable options. */
export function collect(v: string, acc: string[]): string[] {
  return [...acc, v];
}
