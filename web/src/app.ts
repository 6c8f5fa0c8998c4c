import type { Agent, PresentationView, TreeNode } from './api.ts';
import { agentColor } from './chart/palette.ts';
import { t, type Key } from './i18n.ts';

/** What every page gets: the tree, the presentation settings and the agents loaded at start. */
export interface App {
  title: string;
  tree: TreeNode;
  agents: Agent[];
  presentation: PresentationView;
}

/** A range of the detail page (SmokePing's detail ranges). */
export interface Range {
  /** As written in the config ("30h"): the id in URLs. */
  id: string;
  ms: number;
  title: string;
}

const KNOWN: Record<string, Key> = { '3h': 'last3h', '30h': 'last30h', '10d': 'last10d', '360d': 'last360d' };
const UNITS: Record<string, Key> = { m: 'spanMinutes', h: 'spanHours', d: 'spanDays', w: 'spanWeeks', y: 'spanYears' };

/** The detail page's ranges: the config's titles, else "Last …" in the current language. */
export function detailRanges(app: App): Range[] {
  return app.presentation.detail_ranges.map((r) => ({
    id: r.span, ms: r.ms,
    title: r.title ?? (KNOWN[r.span] ? t(KNOWN[r.span]!) : t(UNITS[r.span.slice(-1)] ?? 'spanHours', { n: r.span.slice(0, -1) })),
  }));
}

/** The label of a tree node: the root's default menu ("Overview") follows the language. */
export function menuLabel(node: { path: string; menu: string }): string {
  return node.path === '/' && node.menu === 'Overview' ? t('overview') : node.menu;
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

/** Seconds between refreshes of a page that follows "now": `?refresh=N` (≥ 2; 0 = never), default 60. */
export function refreshSeconds(params: URLSearchParams): number {
  const v = Number(params.get('refresh') ?? 60);
  if (!Number.isFinite(v) || v <= 0) return 0;
  return Math.max(2, v);
}

/**
 * Calls `load` every `seconds` while the tab is visible (never overlapping itself); returns
 * the function that stops it.
 */
export function autoRefresh(seconds: number, load: () => Promise<void>): () => void {
  if (!seconds) return () => {};
  let busy = false;
  const timer = setInterval(() => {
    if (busy || document.visibilityState !== 'visible') return;
    busy = true;
    void load().finally(() => { busy = false; });
  }, seconds * 1000);
  return () => clearInterval(timer);
}
