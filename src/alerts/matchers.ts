/**
 * SmokePing's `type: matcher` plugins, with the parameters and results SmokePing users know
 * (lib/Smokeping/matchers/*.pm). Pure functions over a series' history.
 *
 * A matcher returns a number like SmokePing's Perl: 0 = no match, anything else = match.
 * Some matchers return the previous match counter itself (to hold a state), which is why the
 * engine keeps SmokePing's counter (`prevmatch += match`) and not a boolean.
 */
import type { HistoryValue } from './pattern.ts';

/** A series' alert history, oldest → newest: loss in % and median RTT in ms (null = unknown). */
export interface History {
  loss: HistoryValue[];
  rtt: HistoryValue[];
}

export interface Matcher {
  readonly name: string;
  /** Rounds of history the matcher needs (SmokePing's Length). */
  readonly length: number;
  test(h: History, prevmatch: number): number;
}

/** A matcher call SmokePing would refuse, with the reason. */
export class MatcherError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MatcherError';
  }
}

type Params = Record<string, string>;
interface MatcherDef {
  rules: Record<string, RegExp>;
  required: string[];
  build(p: Params): Matcher;
}

const INT = /^\d+$/;
const NUM = /^\d+(\.\d+)?$/;
const CMP = /^(<|>|<=|>=|==)$/;

/** Perl truthiness of a history entry read as a number: unknown and 'S' count as 0. */
const num = (v: HistoryValue | undefined): number => (typeof v === 'number' ? v : 0);
/** Perl's `$a[-i]` for 1 ≤ i: undefined before the start. */
const back = (a: readonly HistoryValue[], i: number): HistoryValue | undefined => (i <= a.length ? a[a.length - i] : undefined);
/** Perl's slice `@a[from..to]` with negative indices, ascending; out-of-range entries are undefined. */
function slice(a: readonly HistoryValue[], from: number, to: number): (HistoryValue | undefined)[] {
  const out: (HistoryValue | undefined)[] = [];
  for (let i = from; i <= to; i++) out.push(back(a, -i));
  return out;
}
function compare(a: number, op: string, b: number): boolean {
  switch (op) {
    case '<': return a < b;
    case '>': return a > b;
    case '<=': return a <= b;
    case '>=': return a >= b;
    default: return a === b;
  }
}
const bool = (b: boolean): number => (b ? 1 : 0);

const ratioRules = { historic: INT, current: INT, comparator: CMP, percentage: NUM };

/** Shared front of Avgratio and Medratio: undefined when the history is too short or starts inside the window. */
function ratioWindow(h: History, historic: number, current: number): { hist: (HistoryValue | undefined)[]; cur: (HistoryValue | undefined)[] } | undefined {
  const len = historic + current;
  if (h.rtt.length < len || back(h.rtt, len) === 'S') return undefined;
  return { hist: slice(h.rtt, -len, -current - 1), cur: slice(h.rtt, -current, -1) };
}

const DEFS: Record<string, MatcherDef> = {
  Avgratio: {
    rules: ratioRules,
    required: Object.keys(ratioRules),
    build(p) {
      const historic = Number(p.historic), current = Number(p.current), value = Number(p.percentage) / 100;
      const avg = (xs: (HistoryValue | undefined)[]): number | undefined => {
        const ok = xs.filter((x): x is number => typeof x === 'number');
        return ok.length ? ok.reduce((s, x) => s + x, 0) / ok.length : undefined;
      };
      return {
        name: 'Avgratio', length: historic + current,
        test(h) {
          const w = ratioWindow(h, historic, current);
          if (!w) return 0;
          const ha = avg(w.hist), ca = avg(w.cur);
          if (!ha || !ca) return 0;
          return bool(compare(ca / ha, p.comparator!, value));
        },
      };
    },
  },
  Medratio: {
    rules: ratioRules,
    required: Object.keys(ratioRules),
    build(p) {
      const historic = Number(p.historic), current = Number(p.current), value = Number(p.percentage) / 100;
      // Perl sorts unknowns as 0 and takes element int(n/2) of the sorted window.
      const med = (xs: (HistoryValue | undefined)[], n: number): number => xs.map(num).sort((a, b) => a - b)[Math.floor(n / 2)] ?? 0;
      return {
        name: 'Medratio', length: historic + current,
        test(h) {
          const w = ratioWindow(h, historic, current);
          if (!w) return 0;
          const hm = med(w.hist, historic), cm = med(w.cur, current);
          if (!hm || !cm) return 0;
          return bool(compare(cm / hm, p.comparator!, value));
        },
      };
    },
  },
  Median: {
    rules: { old: INT, new: INT, diff: NUM },
    required: ['old', 'new', 'diff'],
    build(p) {
      const old = Number(p.old), nw = Number(p.new);
      // SmokePing keeps RTTs in seconds and `diff` is in seconds; our history is in ms.
      const diffMs = Number(p.diff) * 1000;
      const robust = (xs: (HistoryValue | undefined)[]): number => {
        const v = xs.filter((x): x is number => typeof x === 'number').sort((a, b) => a - b);
        if (v.length === 0) return 0;
        const last = v.length - 1;
        return last % 2 === 0 ? v[last / 2]! : (v[(last + 1) / 2]! + v[(last - 1) / 2]!) / 2;
      };
      return {
        name: 'Median', length: old + nw,
        test(h) {
          const count = h.rtt.length;
          const cc = Math.min(old + nw, count), bc = Math.min(nw, count);
          return bool(Math.abs(robust(slice(h.rtt, -cc, -bc - 1)) - robust(slice(h.rtt, -bc, -1))) > diffMs);
        },
      };
    },
  },
  CheckLoss: {
    rules: { l: INT, x: INT },
    required: ['l', 'x'],
    build(p) {
      return checkOver('CheckLoss', 'loss', Number(p.l), Number(p.x));
    },
  },
  CheckLatency: {
    rules: { l: INT, x: INT },
    required: ['l', 'x'],
    build(p) {
      return checkOver('CheckLatency', 'rtt', Number(p.l), Number(p.x));
    },
  },
  ConsecutiveLoss: {
    rules: { pctlossraise: INT, stepsraise: INT, pctlossclear: INT, stepsclear: INT },
    required: ['pctlossraise', 'stepsraise', 'pctlossclear', 'stepsclear'],
    build(p) {
      const raise = Number(p.pctlossraise), sr = Number(p.stepsraise), clear = Number(p.pctlossclear), sc = Number(p.stepsclear);
      return {
        name: 'ConsecutiveLoss', length: Math.max(sr, sc),
        test(h, prev) {
          const x = prev ? sc : sr;
          if (h.loss.length < x) return prev;
          let count = 0;
          for (let i = 1; i <= x; i++) {
            const v = back(h.loss, i);
            if (v === 'S') return prev;
            if (prev ? num(v) < clear : num(v) >= raise) count++;
          }
          return count >= x ? bool(!prev) : prev;
        },
      };
    },
  },
  ExpLoss: {
    rules: { hist: INT, rising: NUM, falling: NUM, skip: INT, fast: INT },
    required: ['hist', 'rising'],
    build(p) {
      const hist = Number(p.hist), skip = Number(p.skip ?? 0), fast = Number(p.fast ?? 0);
      const rising = Number(p.rising), falling = p.falling !== undefined ? Number(p.falling) : rising;
      const alfa = 1 - 0.01 ** (1 / hist);
      return {
        name: 'ExpLoss', length: hist,
        test(h, prev) {
          if (h.loss.length <= skip + 1) return 0;
          let result = 0, sum = 0, n = 0, up = 0, down = 0;
          for (const v of h.loss) {
            if (typeof v !== 'number') continue;
            result = (1 - alfa) * result + alfa * v;
            sum += v;
            n++;
            if (fast) {
              up = v >= rising ? up + 1 : 0;
              down = v <= falling ? down + 1 : 0;
            }
          }
          if (n === 0) return 0;
          if (fast) {
            if (up >= fast) return 1;
            if (down >= fast) return 0;
          }
          // As if the filter had started from the average rather than from zero.
          result += (sum / n) * (1 - alfa) ** n;
          return bool(result >= rising || (prev !== 0 && result >= falling));
        },
      };
    },
  },
};

/** CheckLoss / CheckLatency: raise after x rounds at or over l, clear after x rounds under l. */
function checkOver(name: string, field: 'loss' | 'rtt', l: number, x: number): Matcher {
  return {
    name, length: x,
    test(h, prev) {
      const series = h[field];
      const n = Math.min(x, series.length);
      let count = 0;
      for (let i = 1; i <= n; i++) {
        const v = back(series, i);
        if (v === 'S') return prev;
        // Perl compares an unknown RTT as 0.
        if (prev ? num(v) < l : num(v) >= l) count++;
      }
      return count >= x ? bool(!prev) : prev;
    },
  };
}

/** Names of the matchers smokemesh knows. */
export const MATCHER_NAMES = Object.keys(DEFS);

/**
 * Parses a SmokePing matcher call such as `Avgratio(historic=>10,current=>2,comparator=>'>',percentage=>150)`;
 * throws MatcherError saying what is wrong.
 */
export function compileMatcher(source: string): Matcher {
  const call = /^\s*(\S+?)\s*\((.*)\)\s*;?\s*$/s.exec(source);
  if (!call) throw new MatcherError(`"${source}" is not a matcher call; write e.g. CheckLoss(l=>10,x=>3)`);
  const [, name, args] = call as unknown as [string, string, string];
  const def = DEFS[name];
  if (!def) throw new MatcherError(`unknown matcher "${name}"; known: ${MATCHER_NAMES.join(', ')}`);
  const params: Params = {};
  for (const part of args.split(',').map((s) => s.trim()).filter(Boolean)) {
    const kv = /^['"]?(\w+)['"]?\s*=>\s*(?:'([^']*)'|"([^"]*)"|(\S+))$/.exec(part);
    if (!kv) throw new MatcherError(`${name}: cannot read argument "${part}"; write key=>value`);
    const key = kv[1]!;
    const value = kv[2] ?? kv[3] ?? kv[4]!;
    const rule = def.rules[key];
    if (!rule) throw new MatcherError(`${name}: unknown parameter "${key}"; known: ${Object.keys(def.rules).join(', ')}`);
    if (!rule.test(value)) throw new MatcherError(`${name}: parameter ${key} has invalid value '${value}' (must match ${rule.source})`);
    params[key] = value;
  }
  for (const k of def.required) if (params[k] === undefined) throw new MatcherError(`${name}: missing parameter "${k}"`);
  return def.build(params);
}
