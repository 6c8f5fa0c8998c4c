/**
 * Parser of `fping -C <pings> -q` output (fping 4.x/5.x, its stderr). Pure functions.
 *
 * A result line is `<host> : <v1> <v2> … <vN>`, host padded with spaces, each value an RTT
 * in ms or `-` for a lost ping. Everything else is noise to skip: duplicate replies
 * (`<host> : duplicate for [3], 64 bytes, 0.06 ms`), ICMP errors (`ICMP Host Unreachable
 * from …`), blank lines, and fping's own complaints (`fping: …`), which are kept apart so
 * that a failed run can say why.
 *
 * Precision: fping prints an RTT with three significant digits and at most three decimals
 * (`0.043`, `1.26`, `12.3`, `123`), so values are kept as printed: 1 µs steps below 1 ms,
 * 10 µs up to 10 ms, 0.1 ms up to 100 ms, 1 ms beyond. fping 5.1 has no option for more.
 */

/** What one line of fping's stderr is. */
export type FpingLine =
  | { kind: 'result'; host: string; values: (number | null)[] }
  /** A complaint of fping (or its wrapper), as `<name>: <message>`. */
  | { kind: 'fping-error'; message: string }
  | { kind: 'noise' };

/** One host's outcome: the RTTs (ms) received and how many pings were lost, or why not. */
export type HostResult = { rtts: number[]; lost: number } | { error: string };

export interface FpingOutput {
  /** By host exactly as given to fping. */
  hosts: Map<string, HostResult>;
  /** fping's own error lines (`fping: …`, or `unshare: …` from its wrapper), in order. */
  errors: string[];
}

const RESULT_LINE = /^(\S+)\s+:((?:\s+(?:\d+(?:\.\d+)?|-))+)\s*$/;
/** `<program>[ error]: <message>`, `<program>` being argv[0] of fping or of its wrapper. */
const TOOL_ERROR = /^(\S+?)(?: error)?:\s*(.*)$/;

/** Names a tool's own messages may start with (its argv[0]), each with the name to report. */
export type ProgramNames = Readonly<Record<string, string>>;

/**
 * Classifies one stderr line (without its newline). `programs` maps the names fping's own
 * messages may start with (`fping`, or the path it was started by behind a wrapper) to the
 * name its error is reported under.
 */
export function parseFpingLine(line: string, programs: ProgramNames = { fping: 'fping' }): FpingLine {
  const r = scanResultLine(line) ?? matchResultLine(line);
  if (r) return { kind: 'result', host: r.host, values: r.values };
  const e = TOOL_ERROR.exec(line);
  if (e && Object.hasOwn(programs, e[1]!)) return { kind: 'fping-error', message: `${programs[e[1]!]}: ${e[2]}` };
  return { kind: 'noise' };
}

/** A result line as RESULT_LINE reads it, or undefined when it is not one. */
export function matchResultLine(line: string): { host: string; values: (number | null)[] } | undefined {
  const m = RESULT_LINE.exec(line);
  if (!m) return undefined;
  return { host: m[1]!, values: m[2]!.trim().split(/\s+/).map((v) => (v === '-' ? null : Number(v))) };
}

const SPACE = 0x20;
const COLON = 0x3a;
const DASH = 0x2d;
const DOT = 0x2e;
const ZERO = 0x30;
/** Exact powers of ten (10^k is a double exactly up to k = 22). */
const POW10 = Array.from({ length: 16 }, (_, k) => 10 ** k);

/**
 * The common result line read by hand, character by character: what RESULT_LINE gives for
 * it, without the regexp's captures, the split and a string per value (a round of 1,000
 * targets × 20 pings is 20,000 values). Only plain lines are taken (ASCII, spaces as the
 * only blanks, at most 15 digits a value); anything else gives undefined and is left to
 * matchResultLine, so both read every line alike (parser.test.ts compares them). A value is
 * its digits as an integer divided by a power of ten: one correctly rounded division of
 * two exact doubles, hence the double nearest to the decimal, as Number() reads it.
 */
export function scanResultLine(line: string): { host: string; values: (number | null)[] } | undefined {
  const n = line.length;
  let i = 0;
  for (; i < n; i++) {
    const c = line.charCodeAt(i);
    if (c === SPACE) break;
    if (c < 0x21 || c > 0x7e) return undefined;
  }
  if (i === 0 || i === n) return undefined;
  const host = line.slice(0, i);
  while (i < n && line.charCodeAt(i) === SPACE) i++;
  if (line.charCodeAt(i) !== COLON) return undefined;
  i++;
  const values: (number | null)[] = [];
  for (;;) {
    // At least one space before a value; the line may end after spaces once a value was read.
    if (i < n && line.charCodeAt(i) !== SPACE) return undefined;
    while (i < n && line.charCodeAt(i) === SPACE) i++;
    if (i === n) return values.length ? { host, values } : undefined;
    let c = line.charCodeAt(i);
    if (c === DASH) {
      values.push(null);
      i++;
      continue;
    }
    let digits = 0;
    let v = 0;
    let decimals = 0;
    let dot = false;
    for (; i < n; i++) {
      c = line.charCodeAt(i);
      if (c >= ZERO && c <= ZERO + 9) {
        v = v * 10 + (c - ZERO);
        digits++;
        if (dot) decimals++;
      } else if (c === DOT && !dot && digits > 0) {
        dot = true;
      } else break;
    }
    // A value is digits, or digits, a dot and digits.
    if (digits === 0 || digits > 15 || (dot && decimals === 0)) return undefined;
    values.push(decimals ? v / POW10[decimals]! : v);
  }
}

/**
 * Turns one result line into a host outcome. A line whose value count is not `pings`
 * (truncated output, wrong -C) is an error for that host rather than a guessed loss.
 */
export function hostResult(values: readonly (number | null)[], pings: number): HostResult {
  if (values.length !== pings) {
    return { error: `fping reported ${values.length} values, expected ${pings}` };
  }
  const rtts: number[] = [];
  for (const v of values) if (v !== null && Number.isFinite(v)) rtts.push(v);
  return { rtts, lost: pings - rtts.length };
}

/**
 * Accumulates fping stderr lines into per-host outcomes. A host reported twice is an
 * error for that host (we never pass a host twice, so the output cannot be trusted).
 */
export class FpingOutputCollector {
  readonly hosts = new Map<string, HostResult>();
  readonly errors: string[] = [];

  constructor(private readonly pings: number, private readonly programs?: ProgramNames) {}

  add(line: string): void {
    const parsed = parseFpingLine(line, this.programs);
    if (parsed.kind === 'fping-error') {
      if (this.errors.length < 20) this.errors.push(parsed.message);
    } else if (parsed.kind === 'result') {
      const seen = this.hosts.has(parsed.host);
      this.hosts.set(parsed.host, seen
        ? { error: 'fping reported this host twice' }
        : hostResult(parsed.values, this.pings));
    }
  }

  result(): FpingOutput {
    return { hosts: this.hosts, errors: this.errors };
  }
}

/** Parses a whole captured stderr text of `fping -C <pings> -q`. */
export function parseFpingOutput(stderr: string, pings: number, programs?: ProgramNames): FpingOutput {
  const c = new FpingOutputCollector(pings, programs);
  for (const line of stderr.split(/\r?\n/)) c.add(line);
  return c.result();
}
