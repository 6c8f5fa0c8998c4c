import type { ProbeType } from '../../../probes/round.ts';

/**
 * One SmokePing probe family translated to a smokemesh probe. A kind reads the variables of a
 * probe section (for the preset) or of a target (probe defaults + tree + own, for the
 * target) and says which smokemesh probe type, parameters and host they amount to.
 * Every variable a kind neither reads nor ignores is reported as not carried over.
 */
export interface MapVars {
  /** The variable's value (trimmed), marking it as carried over; undefined when unset. */
  get(key: string): string | undefined;
  /** Marks variables that do not change what is measured (binary paths, fork counts…). */
  ignore(...keys: string[]): void;
  /** A value could not be carried over exactly (placed at the variable; undefined: at the target's host line). */
  warn(key: string | undefined, what: string, todo?: string): void;
  /** For information only (placed as for warn). */
  note(key: string | undefined, what: string, todo?: string): void;
  /** Something about the probe itself (what it measures): reported once, at its section in *** Probes ***. */
  warnProbe(what: string, todo?: string): void;
}

/** What a SmokePing probe (with its variables) amounts to in smokemesh. */
export interface Mapped {
  type: ProbeType;
  /** smokemesh probe parameters (pings, timeout, port, query_name, headers…). */
  params: Record<string, unknown>;
  /** What to probe (address, URL, DNS server); only for a target. */
  host?: string;
}

export interface SmokepingProbeKind {
  /** SmokePing probe module names this kind translates. */
  modules: readonly string[];
  /** Translates; `host` is the target's `host` (undefined when mapping the probe section for its preset). */
  map(v: MapVars, host: string | undefined, module: string): Mapped;
}

/** Seconds (possibly fractional, as SmokePing writes them) to integer ms within [min, max]. */
export function secondsToMs(v: MapVars, key: string, min: number, max: number): number | undefined {
  const raw = v.get(key);
  if (raw === undefined || raw === '') return undefined;
  const s = Number(raw);
  if (!Number.isFinite(s) || s < 0) {
    v.warn(key, `${key} = ${raw} is not a number of seconds; left out`);
    return undefined;
  }
  const ms = Math.round(s * 1000);
  if (ms < min || ms > max) {
    const clamped = Math.min(max, Math.max(min, ms));
    v.warn(key, `${key} = ${raw} s is outside smokemesh's range (${min}–${max} ms); ${clamped} ms is used`);
    return clamped;
  }
  return ms;
}

/** An integer within [min, max], or undefined (reported) when the value is not one. */
export function integer(v: MapVars, key: string, min: number, max: number): number | undefined {
  const raw = v.get(key);
  if (raw === undefined || raw === '') return undefined;
  const n = /^0x[0-9a-f]+$/i.test(raw) ? parseInt(raw, 16) : /^\d+$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    v.warn(key, `${key} = ${raw} is not an integer between ${min} and ${max}; left out`);
    return undefined;
  }
  return n;
}

/** SmokePing's yes/true/1 (anything Perl treats as true and not "no"). */
export function isYes(raw: string | undefined): boolean {
  return raw !== undefined && raw !== '' && raw !== '0' && !/^(no|false)$/i.test(raw);
}

/** `pings`, `step`, `offset` and `timeout` (seconds in every SmokePing probe), as smokemesh parameters. */
export function commonParams(v: MapVars): Record<string, unknown> {
  const p: Record<string, unknown> = {};
  const pings = integer(v, 'pings', 1, 1000);
  if (pings !== undefined) p.pings = pings;
  const step = integer(v, 'step', 1, 86400);
  if (step !== undefined) p.step = step;
  const offset = v.get('offset');
  if (offset !== undefined) {
    if (offset === 'random' || /^\d{1,2}(\.\d+)?%$/.test(offset)) p.offset = offset;
    else v.warn('offset', `offset = ${offset} is not "random" or "N%" below 100 %; left out (random is used)`);
  }
  const timeout = secondsToMs(v, 'timeout', 1, 60000);
  if (timeout !== undefined) p.timeout = timeout;
  return p;
}

/** Is this an IP address literal (v4 or v6)? */
export function isAddress(host: string): boolean {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(host) || (host.includes(':') && /^[0-9a-fA-F:.]+(%\w+)?$/.test(host));
}

/** `[v6]` in URLs. */
export function urlHost(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}
