import type { Agent, TreeNode } from './api.ts';
import { agentColor } from './chart/palette.ts';

/** What every page gets: the tree and agents loaded at start, and helpers over them. */
export interface App {
  title: string;
  tree: TreeNode;
  agents: Agent[];
}

/** Something a page leaves behind to be undone when the route changes. */
export type Cleanup = () => void;

/** Finds a node of the tree by path. */
export function findTreeNode(root: TreeNode, path: string): TreeNode | undefined {
  let node: TreeNode | undefined = root;
  for (const part of path.split('/').filter(Boolean)) {
    node = node.children.find((c) => c.name === part);
    if (!node) return undefined;
  }
  return node;
}

/** The nodes from the root down to `path` (for breadcrumbs). */
export function trail(root: TreeNode, path: string): TreeNode[] {
  const out = [root];
  let node: TreeNode | undefined = root;
  for (const part of path.split('/').filter(Boolean)) {
    node = node.children.find((c) => c.name === part);
    if (!node) break;
    out.push(node);
  }
  return out;
}

/** The colour of an agent (configured, or a stable pick). */
export function colorOf(app: App, agent: string): string {
  return agentColor(agent, app.agents.find((a) => a.name === agent)?.color);
}

/** Runs async jobs with at most `limit` in flight (browsers queue more than 6 per host anyway). */
export async function pool<T>(items: T[], limit: number, job: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await job(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
