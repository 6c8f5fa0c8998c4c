/**
 * Parser of `fping -C <pings> -q` output (fping 4.x/5.x, its stderr). Pure functions.
 *
 * A result line is `<host> : <v1> <v2> … <vN>`, host padded with spaces, each value an RTT
 * in ms or `-` for a lost ping. Everything else is noise to skip: duplicate replies
 * (`<host> : duplicate for [3], 64 bytes, 0.06 ms`), ICMP errors (`ICMP Host Unreachable
 * from …`), blank lines, and fping's own complaints (`fping: …`), which are kept apart so
 * that a failed run can say why.
 */

/** What one line of fping's stderr is. */
export type FpingLine =
  | { kind: 'result'; host: string; values: (number | null)[] }
  | { kind: 'fping-error'; message: string }
  | { kind: 'noise' };

/** One host's outcome: the RTTs (ms) received and how many pings were lost, or why not. */
export type HostResult = { rtts: number[]; lost: number } | { error: string };

export interface FpingOutput {
  /** By host exactly as given to fping. */
  hosts: Map<string, HostResult>;
  /** fping's own error lines (`fping: …`), in order. */
  errors: string[];
}

const RESULT_LINE = /^(\S+)\s+:((?:\s+(?:\d+(?:\.\d+)?|-))+)\s*$/;
const FPING_ERROR = /^fping(?: error)?:\s*(.*)$/;

/** Classifies one stderr line (without its newline). */
export function parseFpingLine(line: string): FpingLine {
  const m = RESULT_LINE.exec(line);
  if (m) {
    const values = m[2]!.trim().split(/\s+/).map((v) => (v === '-' ? null : Number(v)));
    return { kind: 'result', host: m[1]!, values };
  }
  const e = FPING_ERROR.exec(line);
  if (e) return { kind: 'fping-error', message: e[1]! };
  return { kind: 'noise' };
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

  constructor(private readonly pings: number) {}

  add(line: string): void {
    const parsed = parseFpingLine(line);
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
export function parseFpingOutput(stderr: string, pings: number): FpingOutput {
  const c = new FpingOutputCollector(pings);
  for (const line of stderr.split(/\r?\n/)) c.add(line);
  return c.result();
}
