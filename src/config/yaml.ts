/**
 * Reads config YAML into plain data without trusting it: every problem is located, and no
 * input makes the reader run away. The `yaml` library parses (its parser is linear); this
 * module then converts the document itself, in one pass, instead of `doc.toJS()` and the
 * library's `uniqueKeys` check, both of which are quadratic on big files (a 41k-target
 * file took minutes), and checks on the way:
 * - duplicate keys, keys that are not plain values, `__proto__` stays an ordinary key;
 * - aliases: an alias to nothing, an alias inside its own anchor (a cycle), and aliases
 *   that together expand to more than MAX_ALIAS_VALUES values (an "alias bomb");
 * - nesting deeper than MAX_DEPTH, numbers that are not finite (.inf, .nan);
 * - tags (`!!binary`, `!custom`): a config has no use for them, they are refused.
 * Each alias is expanded into its own copy, so no two places of the result share an object.
 */
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node, type Pair, type YAMLMap } from 'yaml';

/** Values all aliases of a file may expand to, together. */
export const MAX_ALIAS_VALUES = 1_000_000;
/** Deepest nesting of mappings and lists. */
export const MAX_DEPTH = 200;

export type FieldPath = (string | number)[];

/** Line and column, 1-based. */
export interface Position { line: number; column: number }

export interface YamlProblem { position: Position; path: FieldPath; message: string }

export interface ParsedYaml {
  /** The document as plain data; undefined when `problems` is not empty. */
  value: unknown;
  problems: YamlProblem[];
  /** Position of the deepest existing node along `path` (the key, for a mapping entry). */
  locate(path: FieldPath): Position;
}

class Stop extends Error {}

/** Parses config text; never throws for any input. */
export function readYaml(text: string): ParsedYaml {
  const deep = tooDeep(text);
  if (deep !== undefined) {
    let line = 1;
    let start = 0;
    for (let i = text.indexOf('\n'); i >= 0 && i < deep; i = text.indexOf('\n', i + 1)) {
      line++;
      start = i + 1;
    }
    const position = { line, column: deep - start + 1 };
    return { value: undefined, problems: [{ position, path: [], message: `YAML: nested deeper than ${MAX_DEPTH} levels` }], locate: () => position };
  }
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: false, resolveKnownTags: false, merge: false });
  const pos = (offset: number | undefined): Position => {
    const { line, col } = lc.linePos(offset ?? 0);
    return { line, column: col };
  };
  const locate = (path: FieldPath) => pos(locateOffset(doc, path));
  const problems: YamlProblem[] = [];
  for (const e of doc.errors) {
    const message = e.code === 'RESOURCE_EXHAUSTION' ? 'nested too deeply to read' : firstLine(e.message);
    problems.push({ position: pos(e.pos[0]), path: [], message: `YAML: ${message}` });
  }
  for (const w of doc.warnings) problems.push({ position: pos(w.pos[0]), path: [], message: `YAML: ${firstLine(w.message)}${/tag/i.test(w.message) ? ' (tags are not used in a config)' : ''}` });
  if (problems.length) return { value: undefined, problems, locate };
  const c = new Converter(pos, (node, path, message) => problems.push({ position: pos(node?.range?.[0]), path, message }));
  let value: unknown;
  try {
    value = c.convert(doc.contents as Node | null, [], 0, true);
  } catch (e) {
    if (!(e instanceof Stop)) throw e;
  }
  return { value: problems.length ? undefined : value, problems, locate };
}

/**
 * Offset where the text nests far deeper than MAX_DEPTH, or undefined. Checked before the
 * parser sees the text: its recursion on thousands of levels is slow, and near the stack's
 * end V8 can abort the whole process (a regexp compiled there fails to allocate), which no
 * try/catch survives. Counts flow brackets where a collection may open (after `:`, `-`,
 * `,`, `?`, a bracket or at a line start, outside quotes and comments) and the leading
 * spaces and "- " of each line; generous, so that only absurd nesting is refused here.
 */
function tooDeep(text: string): number | undefined {
  const limit = MAX_DEPTH * 2;
  let depth = 0;
  let quote = '';
  let lineStart = true;
  let indent = 0;
  let prev = '\n';
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quote) {
      if (ch === '\\' && quote === '"') i++;
      else if (ch === quote) quote = '';
      prev = ch;
      continue;
    }
    if (ch === '\n') {
      lineStart = true;
      indent = 0;
      prev = ch;
      continue;
    }
    if (lineStart) {
      if (ch === ' ' || (ch === '-' && text[i + 1] === ' ')) {
        if (++indent > limit * 4) return i;
        prev = ch;
        continue;
      }
      lineStart = false;
    }
    if (ch === '#' && (prev === ' ' || prev === '\t' || prev === '\n')) {
      const end = text.indexOf('\n', i);
      if (end < 0) break;
      i = end - 1;
      continue;
    }
    if ((ch === '"' || ch === "'") && /[\s:,[{\-?]/.test(prev)) quote = ch;
    else if ((ch === '[' || ch === '{') && /[\s:,[{\-?]/.test(prev)) {
      if (++depth > limit) return i;
    } else if ((ch === ']' || ch === '}') && depth > 0) depth--;
    if (ch !== ' ' && ch !== '\t') prev = ch;
  }
  return undefined;
}

function firstLine(s: string): string {
  return s.split('\n')[0]!.trim();
}

type Report = (node: Node | null | undefined, path: FieldPath, message: string) => void;

/** Document-order conversion to plain data with the checks listed above. */
class Converter {
  /** Anchor name → node, as defined so far in document order. */
  private anchors = new Map<string, Node>();
  /** Each alias's node, fixed at its place in the document (later anchors of the same name do not count). */
  private targets = new Map<Node, Node | undefined>();
  /** Nodes being converted now: an alias to one of them is a cycle. */
  private open = new Set<Node>();
  private expanded = 0;
  /** The alias of the document being expanded now, and its path: where an alias bomb is reported. */
  private expanding: { node: Node; path: FieldPath } | undefined;

  constructor(private readonly pos: (offset: number | undefined) => Position, private readonly report: Report) {}

  /** `first`: the node's own place in the document (not inside an alias expansion). */
  convert(node: Node | null | undefined, path: FieldPath, depth: number, first: boolean): unknown {
    if (node === null || node === undefined) return null;
    if (depth > MAX_DEPTH) {
      this.report(node, path, `nested deeper than ${MAX_DEPTH} levels`);
      throw new Stop();
    }
    if (!first && ++this.expanded > MAX_ALIAS_VALUES) {
      this.report(this.expanding?.node, this.expanding?.path ?? path, `aliases expand to more than ${MAX_ALIAS_VALUES.toLocaleString('en')} values (an alias bomb?)`);
      throw new Stop();
    }
    if (first && node.anchor) this.anchors.set(node.anchor, node);
    if (isAlias(node)) return this.alias(node, path, depth, first);
    if (isScalar(node)) {
      const v = node.value;
      if (first && typeof v === 'number' && !Number.isFinite(v)) this.report(node, path, `${node.source ?? String(v)} is not a finite number`);
      if (typeof v === 'bigint') return Number(v);
      return v;
    }
    this.open.add(node);
    try {
      if (isSeq(node)) return node.items.map((item, i) => this.convert(item as Node, [...path, i], depth + 1, first));
      if (isMap(node)) return this.mapping(node as YAMLMap<Node, Node>, path, depth, first);
    } finally {
      this.open.delete(node);
    }
    this.report(node, path, 'not a value a config can hold');
    return null;
  }

  private alias(node: Node & { source: string }, path: FieldPath, depth: number, first: boolean): unknown {
    if (first) this.targets.set(node, this.anchors.get(node.source));
    const target = this.targets.get(node);
    if (!target) {
      if (first) this.report(node, path, `alias *${node.source} has no anchor &${node.source} before it`);
      return null;
    }
    if (this.open.has(target)) {
      if (first) this.report(node, path, `alias *${node.source} is inside its own anchor &${node.source} (a cycle)`);
      return null;
    }
    if (!first) return this.convert(target, path, depth, false);
    this.expanding = { node, path };
    try {
      return this.convert(target, path, depth, false);
    } finally {
      this.expanding = undefined;
    }
  }

  private mapping(node: YAMLMap<Node, Node>, path: FieldPath, depth: number, first: boolean): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    const seen = new Map<string, Node>();
    for (const pair of node.items) {
      const key = keyOf(pair);
      if (key === undefined) {
        if (first) this.report(pair.key ?? node, path, 'a key must be a plain value (text or a number), not a list, a mapping, an alias or nothing');
        continue;
      }
      if (seen.has(key)) {
        if (first) this.report(pair.key, [...path, key], `duplicate key "${key}" (first on line ${this.pos(seen.get(key)!.range?.[0]).line})`);
        continue;
      }
      seen.set(key, pair.key);
      const value = this.convert(pair.value, [...path, key], depth + 1, first);
      // defineProperty: a "__proto__" key is an ordinary field (refused as unknown), never the prototype.
      Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
    }
    return out;
  }
}

/** The key of a pair as text, or undefined when it is not a scalar. */
function keyOf(pair: Pair<unknown, unknown>): string | undefined {
  const k = pair.key;
  if (!isScalar(k) || k.value === null || k.value === undefined || typeof k.value === 'object') return undefined;
  return String(k.value);
}

/** Per mapping, its keys → pairs, built on first use: locating is O(path length). */
const keyIndex = new WeakMap<object, Map<string, Pair<unknown, unknown>>>();

function pairOf(map: YAMLMap, key: string): Pair<unknown, unknown> | undefined {
  let index = keyIndex.get(map);
  if (!index) {
    index = new Map();
    for (const p of map.items) {
      const k = keyOf(p);
      if (k !== undefined && !index.has(k)) index.set(k, p);
    }
    keyIndex.set(map, index);
  }
  return index.get(key);
}

/** Offset of the deepest node along `path`: a mapping entry's key, a list item itself. */
function locateOffset(doc: Document, path: FieldPath): number | undefined {
  let node = doc.contents as Node | null;
  let offset = node?.range?.[0];
  for (const seg of path) {
    if (!node) break;
    if (isMap(node)) {
      const pair = pairOf(node, String(seg));
      if (!pair) break;
      offset = (pair.key as Node | null)?.range?.[0] ?? offset;
      node = pair.value as Node | null;
    } else if (isSeq(node) && /^\d+$/.test(String(seg))) {
      const item = (node as unknown as { items: unknown[] }).items[Number(seg)] as Node | undefined;
      if (!item) break;
      offset = item.range?.[0] ?? offset;
      node = item;
    } else {
      break; // a scalar or an alias: its place is as deep as we can point
    }
  }
  return offset;
}
