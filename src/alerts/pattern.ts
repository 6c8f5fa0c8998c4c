/**
 * SmokePing's alert pattern language (`type: loss` / `type: rtt`), matched exactly as
 * SmokePing 2.x matches it.
 *
 * SmokePing compiles a pattern into nested loops, one per `*X*`, and its bounds are where
 * the surprising cases come from (e.g. with two `*12*` a match needs 2·g1 + g2 < 27). This
 * module reproduces that control flow as an interpreter over plain data: each `*X*` opens a
 * loop over a gap length; the loops are nested so that the first star is the innermost; a
 * gap search stops at the first position where the conditions before it hold, and if that
 * gap is too long for the bound SmokePing re-checks, the whole pattern fails (no
 * backtracking to a later gap).
 */

/** One entry of a series' alert history: a number, unknown (null), or the start marker. */
export type HistoryValue = number | null | 'S';

export type PatternType = 'loss' | 'rtt';

type Op = '==' | '!=' | '<' | '>' | '<=' | '>=';

type Test =
  | { kind: 'any' }
  | { kind: 'unknown'; want: boolean }
  | { kind: 'start' }
  | { kind: 'num'; op: Op; value: number; op2?: Op; value2?: number };

interface Condition {
  test: Test;
  /** Position in the history counted from the newest (−1) before gaps are added. */
  base: number;
  /** Number of gap loops enclosing this condition (it shifts by their sum). */
  level: number;
}

/** A pattern ready to be matched; build it with `compilePattern`. */
export interface CompiledPattern {
  readonly type: PatternType;
  readonly source: string;
  /** Number of conditions: SmokePing's minlength. */
  readonly minLength: number;
  /** minLength plus every star's X: the history a target must keep for this alert. */
  readonly maxLength: number;
  readonly conditions: readonly Condition[];
  /** X of the star that closes loop m (1-based, 1 = outermost), at index m. */
  readonly starMax: readonly number[];
}

/** A pattern element SmokePing would refuse, with its place. */
export class PatternError extends Error {
  constructor(readonly element: string, readonly index: number, reason: string) {
    super(`pattern element ${index + 1} "${element}": ${reason}`);
    this.name = 'PatternError';
  }
}

/**
 * Most rounds of history one alert may look at (its pattern's conditions plus every `*X*`,
 * or a matcher's window): the engine keeps that much per series and alert, in memory.
 */
export const MAX_ALERT_HISTORY = 1000;
/**
 * Largest product of the X of a pattern's stars: the nested gap loops may try that many
 * combinations per round and series, so it bounds the work a round can cause.
 */
export const MAX_STAR_PRODUCT = 100_000;

// SmokePing's element grammar: op, value (number | U | S | N* | *), optional %, optional second condition.
const ELEMENT = /^(==|!=|<|>|<=|>=|\*)(\d+(?:\.\d*)?|U|S|\d*\*)(%?)(?:(<|>|<=|>=)(\d+(?:\.\d*)?)(%?))?$/;

/**
 * Parses a loss or rtt pattern; throws PatternError naming the first offending element.
 * Loss values must carry `%`; rtt values are milliseconds of the median.
 */
export function compilePattern(type: PatternType, source: string): CompiledPattern {
  // Perl's split drops trailing empty fields and keeps leading/inner ones.
  const elements = source.trim().split(/\s*,\s*/);
  while (elements.length > 1 && elements[elements.length - 1] === '') elements.pop();
  const minLength = elements.filter((e) => /^[!=><]/.test(e)).length;
  const stars = elements.filter((e) => e.startsWith('*')).length;
  const conditions: Condition[] = [];
  const starMax: number[] = new Array(stars + 1).fill(0);
  let open = stars;
  let maxLength = minLength;
  let position = -minLength;
  let product = 1;
  elements.forEach((el, index) => {
    const m = ELEMENT.exec(el);
    if (!m) throw new PatternError(el, index, 'not a condition; write e.g. ">10%", "==U", "*3*" or ">45%<=55%"');
    const [, op, value, perc, op2, value2, perc2] = m as unknown as [string, string, string, string, string | undefined, string | undefined, string];
    if (op === '*') {
      const star = /^([1-9]\d*)\*$/.exec(value);
      if (!star) throw new PatternError(el, index, 'a multi-match must be "*N*" with N ≥ 1');
      const x = Number(star[1]);
      maxLength += x;
      product *= x;
      if (maxLength > MAX_ALERT_HISTORY) throw new PatternError(el, index, `the pattern would look at ${maxLength} rounds of history or more; at most ${MAX_ALERT_HISTORY} are kept per alert`);
      if (product > MAX_STAR_PRODUCT) throw new PatternError(el, index, `the stars' X multiply to more than ${MAX_STAR_PRODUCT.toLocaleString('en')} gap combinations, too many to try on every round; use fewer or smaller stars`);
      starMax[open] = x;
      open--;
      return;
    }
    let test: Test;
    if (value === 'U') {
      if (op !== '==' && op !== '!=') throw new PatternError(el, index, 'U (unknown) only goes with == or !=');
      test = { kind: 'unknown', want: op === '==' };
    } else if (value === 'S') {
      if (op !== '==') throw new PatternError(el, index, 'S (start of history) only goes with ==');
      test = { kind: 'start' };
    } else if (value === '*') {
      if (op !== '==') throw new PatternError(el, index, `operator ${op} makes no sense with *; write ==*`);
      test = { kind: 'any' };
    } else if (value.endsWith('*')) {
      throw new PatternError(el, index, `"${value}" is not a number`);
    } else {
      if (type === 'loss' && perc !== '%') throw new PatternError(el, index, 'loss values are percentages: add "%"');
      test = { kind: 'num', op: op as Op, value: Number(value) };
      if (op2 !== undefined) {
        if (type === 'loss' && perc2 !== '%') throw new PatternError(el, index, 'loss values are percentages: add "%" to the second value');
        test.op2 = op2 as Op;
        test.value2 = Number(value2);
      }
    }
    conditions.push({ test, base: position, level: open });
    position++;
  });
  if (maxLength > MAX_ALERT_HISTORY) throw new PatternError(elements[0]!, 0, `the pattern has ${maxLength} conditions; at most ${MAX_ALERT_HISTORY} rounds are kept per alert`);
  return { type, source, minLength, maxLength, conditions, starMax };
}

function compare(a: number, op: Op, b: number): boolean {
  switch (op) {
    case '==': return a === b;
    case '!=': return a !== b;
    case '<': return a < b;
    case '>': return a > b;
    case '<=': return a <= b;
    case '>=': return a >= b;
  }
}

function holds(t: Test, v: HistoryValue | undefined): boolean {
  switch (t.kind) {
    case 'any': return true;
    case 'unknown': return t.want ? v === null || v === undefined : v !== null && v !== undefined;
    case 'start': return v === 'S';
    case 'num':
      if (typeof v !== 'number') return false;
      return compare(v, t.op, t.value) && (t.op2 === undefined || compare(v, t.op2, t.value2!));
  }
}

const FAIL = -1;

/** Conditions grouped by level, cached per compiled pattern. */
const byLevel = new WeakMap<CompiledPattern, Condition[][]>();

function levels(p: CompiledPattern): Condition[][] {
  let l = byLevel.get(p);
  if (!l) {
    l = p.starMax.map((_, level) => p.conditions.filter((c) => c.level === level));
    byLevel.set(p, l);
  }
  return l;
}

/** The conditions of one block (same level) at the gap sum of the enclosing loops. */
function block(conds: Condition[], history: readonly HistoryValue[], sum: number): boolean {
  const n = history.length;
  for (const c of conds) {
    const idx = c.base - sum;
    if (!holds(c.test, -idx <= n ? history[n + idx] : undefined)) return false;
  }
  return true;
}

/**
 * Loop m with the outer gaps summing to `outer`: the gap at which its block first holds,
 * FAIL if an inner gap broke SmokePing's re-check, or the bound when no gap worked.
 */
function loop(p: CompiledPattern, lv: Condition[][], history: readonly HistoryValue[], m: number, outer: number): number {
  const spare = history.length - p.minLength;
  const stars = p.starMax.length - 1;
  const bound = Math.min(p.maxLength - outer, Math.min(spare, p.starMax[m]!));
  let i = 0;
  for (; i < bound; i++) {
    const sum = outer + i;
    if (m < stars) {
      const inner = loop(p, lv, history, m + 1, sum);
      if (inner === FAIL || inner >= Math.min(p.maxLength - sum - inner, Math.min(spare, p.starMax[m + 1]!))) return FAIL;
    }
    if (block(lv[m]!, history, sum)) return i;
  }
  return i;
}

/**
 * True when the pattern matches the history (oldest → newest, newest last), exactly as
 * SmokePing decides it. Never throws for a compiled pattern.
 */
export function matchPattern(p: CompiledPattern, history: readonly HistoryValue[]): boolean {
  if (history.length < p.minLength) return false;
  const lv = levels(p);
  if (p.starMax.length > 1) {
    const g = loop(p, lv, history, 1, 0);
    if (g === FAIL || g >= Math.min(p.maxLength - g, Math.min(history.length - p.minLength, p.starMax[1]!))) return false;
  }
  return block(lv[0]!, history, 0);
}
