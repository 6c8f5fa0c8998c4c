import type { Place } from './parser.ts';

/**
 * What an import could not carry over as it was, each with where it was written and what to
 * do about it. `warning`: the user should act (something is measured or sent differently,
 * or not at all); `note`: for information (a setting smokemesh does not need).
 */
export type Severity = 'warning' | 'note';

export interface ReportEntry {
  severity: Severity;
  /** file:line in the SmokePing config, when the entry comes from it. */
  at?: Place;
  /** What did not map, in the user's words. */
  what: string;
  /** What to do about it. */
  todo?: string;
}

/** The entries of one import, in the order found (config first, then history). */
export class ImportReport {
  readonly entries: ReportEntry[] = [];
  /** The same remark about the same line (a variable every target inherits) is listed once. */
  private readonly seen = new Set<string>();

  warn(at: Place | undefined, what: string, todo?: string): void {
    this.add('warning', at, what, todo);
  }

  note(at: Place | undefined, what: string, todo?: string): void {
    this.add('note', at, what, todo);
  }

  private add(severity: Severity, at: Place | undefined, what: string, todo: string | undefined): void {
    const key = `${at?.file}:${at?.line}:${severity}:${what}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    this.entries.push({ severity, what, ...(at ? { at } : {}), ...(todo ? { todo } : {}) });
  }

  count(severity: Severity): number {
    return this.entries.filter((e) => e.severity === severity).length;
  }

  /** One line per entry: `file:line: warning: what — todo`, file paths relative to `base` when under it. */
  lines(base?: string): string[] {
    return this.entries.map((e) => formatEntry(e, base));
  }
}

/** `file:line: severity: what — todo`. */
export function formatEntry(e: ReportEntry, base?: string): string {
  let file = e.at?.file;
  if (file && base && file.startsWith(base + '/')) file = file.slice(base.length + 1);
  const where = e.at ? `${file}:${e.at.line}: ` : '';
  return `${where}${e.severity}: ${e.what}${e.todo ? ` — ${e.todo}` : ''}`;
}
