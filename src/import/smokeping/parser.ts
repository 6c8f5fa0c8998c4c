import { readFileSync } from 'node:fs';
import { SmokemeshError } from '../../errors.ts';

/**
 * SmokePing's config format as Config::Grammar 1.13 reads it (SmokePing 2.7–2.9): lines are
 * trimmed, cut at the first `#`, joined by a trailing `\`; `@include` and `@define` are
 * expanded; `*** Name ***` opens a level-1 section, `+ name` level 2, `++ name` level 3 …;
 * `key = value` sets a variable (value raw, quotes kept); anything else is a table row.
 * The result is the section tree with every value's file and line; what the sections mean is
 * read by model.ts.
 */

/** Where a line came from (1-based line of its first physical line). */
export interface Place {
  file: string;
  line: number;
}

export interface SpVar {
  value: string;
  at: Place;
}

export interface SpRow {
  cells: string[];
  at: Place;
}

/** One section (`*** Targets ***`, `+ Local`, `++ host1` …). */
export interface SpSection {
  name: string;
  at: Place;
  /** Variables in file order. */
  vars: Map<string, SpVar>;
  rows: SpRow[];
  children: SpSection[];
}

/** The whole file: level-1 sections, plus every file read. */
export interface SpConfig {
  sections: SpSection[];
  files: string[];
}

/** Bounds: a config is user input; these are far above any real one. */
const MAX_FILE_BYTES = 64 * 1024 * 1024;
const MAX_LINES = 2_000_000;
const MAX_INCLUDE_DEPTH = 32;
const MAX_LEVEL = 64;

export type ReadFile = (file: string) => Buffer;

/** Reads and parses a SmokePing config (with its includes); throws SMOKEMESH_E_CONFIG naming file and line. */
export function parseSmokepingConfig(file: string, read: ReadFile = (f) => readFileSync(f)): SpConfig {
  return new Parser(read).parse(file);
}

/** Bytes to text as SmokePing's users write them: UTF-8, else Latin-1 (SmokePing reads raw bytes). */
export function decodeText(buf: Buffer): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(buf).replace(/^\uFEFF/, '');
  } catch {
    return buf.toString('latin1');
  }
}

/** Splits a table row as Config::Grammar does: whitespace, "…" and '…' groups, backslash escapes. */
export function quoteSplit(line: string): string[] {
  const items: string[] = [];
  const unescape = (s: string) => s.replace(/\\(.)/g, '$1');
  let rest = line;
  while (rest !== '') {
    const m = /^"((?:\\.|[^"])*)"\s*/.exec(rest) ?? /^'((?:\\.|[^'])*)'\s*/.exec(rest) ?? /^((?:\\.|\S)*)(?:\s+|$)/.exec(rest);
    // The last form always matches; an empty match at a lone backslash would not advance.
    if (!m || m[0].length === 0) { items.push(unescape(rest)); break; }
    items.push(unescape(m[1]!));
    rest = rest.slice(m[0].length);
  }
  return items;
}

class Parser {
  private readonly root: SpSection = { name: '', at: { file: '', line: 0 }, vars: new Map(), rows: [], children: [] };
  /** The open section at each level; stack[0] is the root. */
  private stack: SpSection[] = [this.root];
  private readonly defines: Array<[string, string]> = [];
  private readonly files: string[] = [];
  private lines = 0;

  constructor(private readonly read: ReadFile) {}

  parse(file: string): SpConfig {
    this.parseFile(file, 0, undefined);
    return { sections: this.root.children, files: this.files };
  }

  private fail(at: Place, message: string): never {
    throw new SmokemeshError('SMOKEMESH_E_CONFIG', `${at.file}:${at.line}: ${message}`);
  }

  private parseFile(file: string, depth: number, from: Place | undefined): void {
    if (depth > MAX_INCLUDE_DEPTH) this.fail(from!, `@include nested more than ${MAX_INCLUDE_DEPTH} deep (does ${file} include itself?)`);
    let buf: Buffer;
    try {
      buf = this.read(file);
    } catch (e) {
      const why = `cannot read ${file}: ${(e as Error).message}`;
      if (from) this.fail(from, why);
      throw new SmokemeshError('SMOKEMESH_E_CONFIG', why);
    }
    if (buf.length > MAX_FILE_BYTES) this.fail(from ?? { file, line: 0 }, `${file} is larger than ${MAX_FILE_BYTES} bytes`);
    this.files.push(file);
    const raw = decodeText(buf).split(/\r?\n/);
    for (let i = 0; i < raw.length; i++) {
      if (++this.lines > MAX_LINES) this.fail({ file, line: i + 1 }, `more than ${MAX_LINES} lines in the config and its includes`);
      let line = raw[i]!.trim().replace(/\s*#.*$/, '');
      if (line === '') continue;
      const at = { file, line: i + 1 };
      // Continuation: the next line is trimmed but not stripped of comments (as SmokePing does).
      while (line.endsWith('\\')) {
        line = line.slice(0, -1);
        if (i + 1 >= raw.length) break;
        line += ' ' + raw[++i]!.trim();
      }
      this.parseLine(line, at, depth);
    }
  }

  private parseLine(text: string, at: Place, depth: number): void {
    const inc = /^@include\s+["']?(.*)["']?$/.exec(text);
    if (inc) {
      let target = inc[1]!;
      // Relative to the including file's directory; a file named without any '/' means the working directory.
      const dir = /^(.+)\/[^/]+$/.exec(at.file);
      if (!target.startsWith('/') && dir) target = `${dir[1]}/${target}`;
      this.parseFile(target, depth + 1, at);
      return;
    }
    const def = /^@define\s+(\S+)\s+(.*)$/.exec(text);
    if (def) {
      this.defines.push([def[1]!, def[2]!]);
      return;
    }
    // SmokePing uses NAME as a regular expression; plain text here (no user regexp runs unbounded).
    for (const [name, value] of this.defines) text = text.split(name).join(value);

    const top = /^\*\*\*\s*(.*?)\s*\*\*\*$/.exec(text);
    if (top) return this.openSection(1, top[1]!, at);
    const sub = /^(\++)\s*(.*)$/.exec(text);
    if (sub) return this.openSection(sub[1]!.length + 1, sub[2]!, at);

    const section = this.stack[this.stack.length - 1]!;
    if (section === this.root) this.fail(at, `"${text}" outside of any *** section ***`);
    const kv = /^(\S+)\s*=\s*(.*)$/.exec(text);
    if (kv) {
      const key = kv[1]!;
      const prev = section.vars.get(key);
      if (prev) this.fail(at, `variable "${key}" is already defined in this section (at ${prev.at.file}:${prev.at.line})`);
      section.vars.set(key, { value: kv[2]!, at });
      return;
    }
    section.rows.push({ cells: quoteSplit(text), at });
  }

  private openSection(level: number, name: string, at: Place): void {
    if (level > MAX_LEVEL) this.fail(at, `sections nested deeper than ${MAX_LEVEL} levels`);
    const current = this.stack.length - 1;
    if (level > current + 1) this.fail(at, `section nesting error: "${'+'.repeat(level - 1)} ${name}" skips a level (the enclosing section is at level ${current})`);
    this.stack = this.stack.slice(0, level);
    const parent = this.stack[level - 1]!;
    if (name === '') this.fail(at, 'a section needs a name');
    const twin = parent.children.find((c) => c.name === name);
    if (twin) this.fail(at, `section "${name}" already exists here (at ${twin.at.file}:${twin.at.line})`);
    const s: SpSection = { name, at, vars: new Map(), rows: [], children: [] };
    parent.children.push(s);
    this.stack.push(s);
  }
}
