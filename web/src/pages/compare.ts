import type uPlot from 'uplot';
import { api, type Series, type TreeNode } from '../api.ts';
import { detailRanges, findTreeNode, type App, type Cleanup } from '../app.ts';
import { h, replace } from '../dom.ts';
import { graphBlock } from '../graph.ts';
import { t } from '../i18n.ts';
import { errorNote, note } from '../layout.ts';
import { pageHref, targetHref, type Route } from '../route.ts';
import { detailView } from './detail.ts';

/** Distinct colours for compared series (none of them a loss colour). */
const COLORS = ['#1f77b4', '#e8590c', '#2b8a3e', '#c2255c', '#7048e8', '#8c564b', '#0c8599', '#5c940d', '#ae3ec9', '#495057'];

/** A compared series: a target and one of its agents, as `s=<path>~<agent>` in the URL. */
export interface Pick { target: string; agent: string }

/** Reads the compared series from the URL (`s` repeated). */
export function parsePicks(p: URLSearchParams): Pick[] {
  const out: Pick[] = [];
  for (const s of p.getAll('s')) {
    const i = s.lastIndexOf('~');
    if (i > 0 && i < s.length - 1) out.push({ target: s.slice(0, i), agent: s.slice(i + 1) });
  }
  return out.filter((x, i) => out.findIndex((y) => y.target === x.target && y.agent === x.agent) === i).slice(0, 20);
}

/**
 * Compare: several targets and agents on one graph, each median in its own colour, with a
 * legend table of their figures. The page is its URL (`#/compare?s=/A/b~agent&s=…&range=30h`),
 * so it can be shared as it is. Series are added from the tree (any probed target, any of its
 * agents) and removed with ×; drag zooms, double-click goes back to the range.
 */
export function comparePage(main: HTMLElement, app: App, route: Route): Cleanup {
  const p = route.params;
  const picks = parsePicks(p);
  const ranges = detailRanges(app);
  const view = detailView(ranges, p);
  const range = view.range ?? (view.custom ? undefined : ranges[0]!);
  const charts: uPlot[] = [];
  const abort = new AbortController();
  const href = (over: Record<string, string | number | string[] | undefined>) => {
    const cur: Record<string, string | string[] | undefined> = { s: picks.map((x) => `${x.target}~${x.agent}`) };
    for (const k of ['range', 'from', 'to', 'zoom']) cur[k] = p.get(k) ?? undefined;
    return pageHref('compare', { ...cur, ...over });
  };

  const targets: TreeNode[] = [];
  const walk = (n: TreeNode) => { if (n.probe) targets.push(n); n.children.forEach(walk); };
  walk(app.tree);
  const input = h('input', { list: 'compare-targets', name: 'target', placeholder: t('targetPath'), autocomplete: 'off', 'aria-label': t('target') });
  const agentSel = h('select', { name: 'agent', 'aria-label': t('agent') }, h('option', { value: '*' }, t('allAgents')));
  // The agents of the target typed (the choice is kept while the target stays the same).
  let listed: string | undefined;
  const listAgents = () => {
    const path = input.value.trim();
    if (path === listed) return;
    listed = path;
    input.setCustomValidity('');
    const node = findTreeNode(app.tree, path);
    replace(agentSel, h('option', { value: '*' }, t('allAgents')), (node?.agents ?? []).map((a) => h('option', { value: a }, a)));
  };
  input.addEventListener('change', listAgents);
  input.addEventListener('input', listAgents);
  const add = h('form', {
    class: 'compare-add',
    onsubmit: (e: Event) => {
      e.preventDefault();
      const node = findTreeNode(app.tree, input.value.trim());
      if (!node?.probe) { input.setCustomValidity(t('notFound')); input.reportValidity(); return; }
      const agents = agentSel.value === '*' ? node.agents : [agentSel.value];
      location.hash = href({ s: [...picks.map((x) => `${x.target}~${x.agent}`), ...agents.map((a) => `${node.path}~${a}`)] });
    },
  }, h('datalist', { id: 'compare-targets' }, targets.map((n) => h('option', { value: n.path }, n.title))), input, agentSel,
  h('button', { type: 'submit' }, t('add')));
  const chips = h('ul', { class: 'compare-picks' }, picks.map((x, i) => h('li', { 'data-series': `${x.target}~${x.agent}` },
    h('i', { class: 'swatch', style: `background:${COLORS[i % COLORS.length]}` }),
    h('a', { href: targetHref(x.target, { agents: x.agent }) }, `${titleOf(app, x.target)} · ${x.agent}`),
    h('button', { type: 'button', class: 'remove', 'aria-label': t('remove'), onclick: () => {
      location.hash = href({ s: picks.filter((y) => y !== x).map((y) => `${y.target}~${y.agent}`) });
    } }, '×'))));
  const tabs = h('div', { class: 'tabs', role: 'tablist' }, ranges.map((r) => h('a', {
    role: 'tab', href: href({ range: r.id, from: undefined, to: undefined, zoom: undefined }), class: r === range && !view.zoom ? 'active' : '', 'data-range': r.id,
  }, r.title)));
  const graph = h('div', { class: 'graphs', 'data-state': 'loading' });
  const share = h('input', { class: 'share', readonly: true, value: location.href, 'aria-label': t('shareLink'), onfocus: (e: Event) => (e.target as HTMLInputElement).select() });
  replace(main, h('h1', {}, t('compare')), add, chips, tabs, h('p', { class: 'hint' }, t('dragToZoom')), graph,
    h('p', { class: 'share-line' }, h('label', {}, t('shareLink'), ' ', share)));

  if (!picks.length) {
    replace(graph, note(t('compareEmpty')));
    graph.dataset.state = 'ready';
    return () => {};
  }
  const now = Date.now();
  const shown = view.zoom ?? view.custom ?? { from: now - range!.ms, to: now };
  void (async () => {
    try {
      const width = Math.max(280, graph.clientWidth);
      const byTarget = new Map<string, string[]>();
      for (const x of picks) byTarget.set(x.target, [...(byTarget.get(x.target) ?? []), x.agent]);
      const answers = await Promise.all([...byTarget].map(([target, agents]) => api.series(target, shown.from, shown.to, Math.min(1200, width), agents, abort.signal)));
      if (abort.signal.aborted) return;
      const pings = new Map(answers.map((a) => [a.target, a.pings ?? 20]));
      const series: Series[] = picks.map((x) => answers.find((a) => a.target === x.target)?.series.find((s) => s.agent === x.agent))
        .filter((s): s is Series => s !== undefined);
      const index = (s: Series) => picks.findIndex((x) => x.target === s.target && x.agent === s.agent);
      replace(graph, graphBlock({
        app, path: 'compare', title: view.zoom ? t('zoom') : range?.title ?? t('custom'), rangeId: view.zoom ? 'zoom' : range?.id ?? 'custom',
        series, mode: 'own', pings: 20, from: shown.from, to: shown.to, width, charts,
        label: (s) => `${titleOf(app, s.target)} · ${s.agent}`, color: (s) => COLORS[index(s) % COLORS.length]!, pingsOf: (s) => pings.get(s.target) ?? 20,
        onZoom: (f, tt) => { location.hash = href({ range: view.custom ? undefined : range?.id, zoom: `${f}-${tt}` }); },
        onReset: () => { if (view.zoom) location.hash = href({ zoom: undefined }); },
      }));
      graph.dataset.state = 'ready';
    } catch (e) {
      if (abort.signal.aborted) return;
      replace(graph, errorNote(e));
      graph.dataset.state = 'error';
    }
  })();
  return () => {
    abort.abort();
    for (const c of charts) c.destroy();
  };
}

function titleOf(app: App, path: string): string {
  return findTreeNode(app.tree, path)?.title ?? path;
}
