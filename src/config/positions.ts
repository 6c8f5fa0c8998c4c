/**
 * A Config as plain data, so that it can cross from the worker thread that validated it,
 * in parts small enough not to stall the thread that receives them:
 * - `locate` (a closure over the YAML document) becomes an index of the positions of every
 *   field outside the target tree. The receiving side only needs those: every check ran in
 *   the worker, so later readers (alerts, agents, mesh, export) find nothing to report
 *   unless a file changed in between, and then a section-level position is enough;
 * - `raw.targets` is left behind (its checks ran; the resolved tree crosses);
 * - the resolved tree crosses as slices of nodes in depth-first order, each with the index
 *   of its parent: one structured clone of 40k nodes stalled the receiver for seconds.
 */
import type { Config } from './loader.ts';
import type { TargetNode } from './tree.ts';
import type { FieldPath, Position } from './yaml.ts';

/** A tree node without its children, and where it hangs: the index of its parent in depth-first order (-1: the root). */
export type NodeShell = [parent: number, node: Omit<TargetNode, 'children'>];

/** A Config without its closure and its tree: structured-cloneable, small. */
export type ConfigHead = Omit<Config, 'locate' | 'targets'> & { positions: [key: string, line: number, column: number][]; nodes: number };

/** Fields indexed at most (a section with 100k entries is not worth its clone). */
const MAX_POSITIONS = 50_000;
/** Tree nodes per slice. */
export const SLICE = 2000;

const keyOf = (path: FieldPath) => path.join('\u0000');

/** The head of a config's plain form, and its tree as shells in depth-first order. */
export function toData(config: Config): { head: ConfigHead; shells: NodeShell[] } {
  const positions: ConfigHead['positions'] = [];
  const add = (path: FieldPath, value: unknown) => {
    if (positions.length >= MAX_POSITIONS) return;
    const { line, column } = config.locate(path);
    positions.push([keyOf(path), line, column]);
    if (path[0] === 'targets') return; // the tree: its checks ran in the worker
    if (Array.isArray(value)) value.forEach((v, i) => add([...path, i], v));
    else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) add([...path, k], v);
  };
  for (const [k, v] of Object.entries(config.raw)) add([k], v);
  const shells: NodeShell[] = [];
  const stack: [TargetNode, number][] = [[config.targets, -1]];
  while (stack.length) {
    const [node, parent] = stack.pop()!;
    const { children, ...shell } = node;
    const index = shells.length;
    shells.push([parent, shell]);
    for (let i = children.length - 1; i >= 0; i--) stack.push([children[i]!, index]);
  }
  const { locate: _l, targets: _t, ...rest } = config;
  return { head: { ...rest, raw: { ...config.raw, targets: {} }, positions, nodes: shells.length }, shells };
}

/** Rebuilds a tree from its shells, slice by slice (in order); `tree()` returns the root when all arrived. */
export function treeBuilder(): { add(slice: NodeShell[]): void; tree(): TargetNode } {
  const nodes: TargetNode[] = [];
  return {
    add(slice) {
      for (const [parent, shell] of slice) {
        const node = { ...shell, children: [] } as TargetNode;
        nodes.push(node);
        if (parent >= 0) nodes[parent]!.children.push(node);
      }
    },
    tree: () => nodes[0]!,
  };
}

/** A Config again, locating from the index: the deepest indexed field along a path. */
export function fromData(head: ConfigHead, targets: TargetNode): Config {
  const { positions, nodes: _n, ...rest } = head;
  const index = new Map<string, Position>(positions.map(([k, line, column]) => [k, { line, column }]));
  const locate = (path: FieldPath): Position => {
    for (let n = path.length; n > 0; n--) {
      const p = index.get(keyOf(path.slice(0, n)));
      if (p) return p;
    }
    return { line: 1, column: 1 };
  };
  return { ...rest, targets, locate };
}
