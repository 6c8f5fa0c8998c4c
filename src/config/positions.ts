/**
 * A Config as plain data, so that it can cross from the worker thread that validated it:
 * `locate` (a closure over the YAML document) becomes an index of the positions of every
 * field outside the target tree. The main thread only needs those: every check already ran
 * in the worker, so later readers (alerts, agents, mesh, export) find nothing to report
 * there unless a file changed in between, and then a section-level position is enough.
 */
import type { Config } from './loader.ts';
import type { FieldPath, Position } from './yaml.ts';

/** A Config without its closure: structured-cloneable. */
export type ConfigData = Omit<Config, 'locate'> & { positions: [key: string, line: number, column: number][] };

/** Fields indexed at most (a section with 100k entries is not worth its clone). */
const MAX_POSITIONS = 50_000;

const keyOf = (path: FieldPath) => path.join('\u0000');

/** The plain form of a config. */
export function toData(config: Config): ConfigData {
  const positions: ConfigData['positions'] = [];
  const add = (path: FieldPath, value: unknown) => {
    if (positions.length >= MAX_POSITIONS) return;
    const { line, column } = config.locate(path);
    positions.push([keyOf(path), line, column]);
    if (path[0] === 'targets') return; // the tree: its checks ran in the worker
    if (Array.isArray(value)) value.forEach((v, i) => add([...path, i], v));
    else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) add([...path, k], v);
  };
  for (const [k, v] of Object.entries(config.raw)) add([k], v);
  const { locate: _l, ...rest } = config;
  return { ...rest, positions };
}

/** A Config again, locating from the index: the deepest indexed field along a path. */
export function fromData(data: ConfigData): Config {
  const { positions, ...rest } = data;
  const index = new Map<string, Position>(positions.map(([k, line, column]) => [k, { line, column }]));
  const locate = (path: FieldPath): Position => {
    for (let n = path.length; n > 0; n--) {
      const p = index.get(keyOf(path.slice(0, n)));
      if (p) return p;
    }
    return { line: 1, column: 1 };
  };
  return { ...rest, locate };
}
