import type { AgentSelection } from './schema.ts';
import type { ProbeType } from '../probes/round.ts';

/** A node of the resolved target tree: inheritance applied, parameters validated. */
export interface TargetNode {
  /** Identity: `/Group/Sub/name`; the root is `/`. */
  path: string;
  name: string;
  menu: string;
  title: string;
  remark?: string;
  hide: boolean;
  labels: Record<string, string>;
  alerts: string[];
  alertee: string[];
  agents: AgentSelection;
  server_probes: boolean;
  shard: 'none' | 'per_region';
  /** A target whose active alerts suppress this node's (never the node itself). */
  depends_on?: string;
  children: TargetNode[];
  /** Present on probed nodes (leaves with `host`). */
  probe?: ProbedTarget;
}

/** What a probed node needs to be measured. */
export interface ProbedTarget {
  host: string;
  /** Preset name the node uses. */
  preset: string;
  type: ProbeType;
  /** All parameters, resolved and validated (includes pings, timeout, step, offset). */
  params: Record<string, unknown> & { pings: number; timeout: number; step: number; offset: string };
}

/** Every node of the tree, depth first, root included. */
export function* walk(node: TargetNode): Generator<TargetNode> {
  // A stack, not `yield*` recursion: that costs O(depth) per node, and trees have 40k nodes.
  const stack = [node];
  while (stack.length) {
    const n = stack.pop()!;
    yield n;
    for (let i = n.children.length - 1; i >= 0; i--) stack.push(n.children[i]!);
  }
}

/** The probed targets of a tree, depth first. */
export function probedTargets(root: TargetNode): (TargetNode & { probe: ProbedTarget })[] {
  const out: (TargetNode & { probe: ProbedTarget })[] = [];
  for (const n of walk(root)) if (n.probe) out.push(n as TargetNode & { probe: ProbedTarget });
  return out;
}

/** Finds a node by its path, or undefined. */
export function findNode(root: TargetNode, path: string): TargetNode | undefined {
  if (path === '/' || path === '') return root;
  let node: TargetNode | undefined = root;
  for (const part of path.split('/').filter(Boolean)) {
    node = node.children.find((c) => c.name === part);
    if (!node) return undefined;
  }
  return node;
}

/**
 * `path` without its trailing slashes, in one pass. (`replace(/\/+$/, '')` backtracks: on a
 * query string of 16,000 slashes and one letter it held the event loop for most of a second.)
 */
export function trimTrailingSlashes(path: string): string {
  let end = path.length;
  while (end > 0 && path.charCodeAt(end - 1) === 47) end--;
  return end === path.length ? path : path.slice(0, end);
}
