import { walk, type TargetNode } from '../../config/tree.ts';
import { selects } from '../../plan/plan.ts';
import type { AgentInfo } from '../context.ts';
import type { SeriesInfo } from '../../store/types.ts';
import { spanMs, type PresentationConfig } from '../../config/presentation-schema.ts';
import type { NodeSummary, PresentationView, TargetDetail, TreeNode } from './schemas.ts';

/**
 * Pure views of the target tree for the read API: no I/O, the route handlers feed them the
 * live config, the agents and the store's series list.
 */

/** Which agents probe each target path: those the plan selects plus those that have stored data. */
export function agentsByTarget(root: TargetNode, agents: readonly AgentInfo[], series: readonly SeriesInfo[]): Map<string, string[]> {
  const out = new Map<string, Set<string>>();
  for (const n of walk(root)) {
    if (!n.probe) continue;
    const set = new Set<string>();
    for (const a of agents) if (a.builtin ? n.server_probes : selects(n.agents, a)) set.add(a.name);
    out.set(n.path, set);
  }
  for (const s of series) {
    let set = out.get(s.target);
    if (!set) out.set(s.target, (set = new Set()));
    set.add(s.agent);
  }
  return new Map([...out].map(([k, v]) => [k, [...v].sort()]));
}

/** The node without its subtree. */
export function summary(n: TargetNode, agents: Map<string, string[]>): NodeSummary {
  const s: NodeSummary = {
    path: n.path, name: n.name, menu: n.menu, title: n.title, hidden: n.hide,
    labels: n.labels, agents: agents.get(n.path) ?? [], group: n.children.length > 0,
  };
  if (n.remark !== undefined) s.remark = n.remark;
  if (n.probe) {
    s.host = n.probe.host;
    s.probe = n.probe.type;
  }
  return s;
}

/** The whole tree, recursively. */
export function treeView(n: TargetNode, agents: Map<string, string[]>): TreeNode {
  const { group: _g, ...s } = summary(n, agents);
  return { ...s, children: n.children.map((c) => treeView(c, agents)) };
}

/** One node with its settings, its breadcrumbs (root first) and its children listed shallow. */
export function targetDetail(root: TargetNode, path: string, agents: Map<string, string[]>): TargetDetail | undefined {
  const crumbs: { path: string; menu: string }[] = [{ path: root.path, menu: root.menu }];
  let node: TargetNode | undefined = root;
  for (const part of path.split('/').filter(Boolean)) {
    node = node.children.find((c) => c.name === part);
    if (!node) return undefined;
    crumbs.push({ path: node.path, menu: node.menu });
  }
  const d: TargetDetail = { ...summary(node, agents), breadcrumbs: crumbs, children: node.children.map((c) => summary(c, agents)) };
  if (node.probe) {
    const p = node.probe.params;
    d.settings = { pings: p.pings, step: p.step, timeout: p.timeout, preset: node.probe.preset, params: p };
  }
  return d;
}

/**
 * Probed targets whose name, host, title, menu, path or a label (value or key=value) contains
 * the query, case-insensitively; the best matches (name, then host) first.
 */
export function searchTargets(root: TargetNode, q: string, agents: Map<string, string[]>, limit = 100): NodeSummary[] {
  const needle = q.trim().toLowerCase();
  if (!needle) return [];
  const scored: { score: number; node: TargetNode }[] = [];
  for (const n of walk(root)) {
    if (n.path === '/') continue;
    const has = (s: string | undefined) => s !== undefined && s.toLowerCase().includes(needle);
    let score = 0;
    if (has(n.name)) score = n.name.toLowerCase() === needle ? 6 : 5;
    else if (has(n.probe?.host)) score = 4;
    else if (has(n.title) || has(n.menu)) score = 3;
    else if (Object.entries(n.labels).some(([k, v]) => has(v) || has(`${k}=${v}`))) score = 2;
    else if (has(n.path)) score = 1;
    if (score > 0) scored.push({ score, node: n });
  }
  scored.sort((a, b) => b.score - a.score || a.node.path.localeCompare(b.node.path));
  return scored.slice(0, limit).map((s) => summary(s.node, agents));
}

/** The presentation section as the UI takes it: spans in ms, the server's own time zone. */
export function presentationView(p: PresentationConfig, serverZone = Intl.DateTimeFormat().resolvedOptions().timeZone): PresentationView {
  return {
    time_zone: p.time_zone,
    server_time_zone: serverZone,
    overview_range: spanMs(p.overview.range),
    detail_ranges: Object.entries(p.detail.ranges).map(([span, title]) => (title ? { span, ms: spanMs(span), title } : { span, ms: spanMs(span) })),
    charts_count: p.charts.count,
  };
}
