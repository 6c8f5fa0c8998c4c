import type uPlot from 'uplot';
import { api, type LatestRound, type TreeNode } from '../api.ts';
import { colorOf, pool, trail, type App, type Cleanup } from '../app.ts';
import { lossColor } from '../chart/palette.ts';
import { smokeChart } from '../chart/smoke.ts';
import { h, replace } from '../dom.ts';
import { fmtMs, fmtPct } from '../format.ts';
import { t } from '../i18n.ts';
import { breadcrumbs, note } from '../layout.ts';
import { targetHref } from '../route.ts';

const RANGE = 10 * 3600_000;
const MAX_CARDS = 200;

/**
 * A group's overview: a small smoke graph (last 10 h) per probed target below it, grouped by
 * parent, with the current median and loss colour-coded. Several agents: one line each.
 * Sets data-state="ready" on the page when every graph is drawn (tests and benchmarks wait on it).
 */
export function overviewPage(main: HTMLElement, app: App, node: TreeNode): Cleanup {
  const charts: uPlot[] = [];
  const abort = new AbortController();
  const page = h('section', { class: 'overview', 'data-state': 'loading' });
  const crumbs = trail(app.tree, node.path);
  replace(main, breadcrumbs(crumbs), h('h1', {}, node.title), node.remark ? h('p', { class: 'remark' }, node.remark) : null, page);

  const groups = new Map<string, { group: TreeNode; targets: TreeNode[] }>();
  let count = 0;
  const visit = (n: TreeNode, parent: TreeNode) => {
    if (n.hidden) return;
    if (n.probe && count < MAX_CARDS) {
      let g = groups.get(parent.path);
      if (!g) groups.set(parent.path, (g = { group: parent, targets: [] }));
      g.targets.push(n);
      count++;
    } else if (n.probe) count++;
    for (const c of n.children) visit(c, n);
  };
  if (node.probe) visit(node, node);
  else for (const c of node.children) visit(c, node);

  if (count === 0) {
    page.append(note(t('noData')));
    page.dataset.state = 'ready';
    return () => {};
  }
  const cards: { target: TreeNode; chart: HTMLElement; figures: HTMLElement }[] = [];
  for (const { group, targets } of groups.values()) {
    if (group.path !== node.path) page.append(h('h2', {}, h('a', { href: targetHref(group.path) }, group.title)));
    page.append(h('div', { class: 'cards' }, targets.map((target) => {
      const chart = h('div', { class: 'mini-chart' });
      const figures = h('div', { class: 'figures' });
      cards.push({ target, chart, figures });
      return h('article', { class: 'card', 'data-target': target.path },
        h('header', {}, h('a', { href: targetHref(target.path), class: 'card-title' }, target.title),
          h('span', { class: 'host' }, target.host ?? '')),
        figures, chart);
    })));
  }
  if (count > MAX_CARDS) page.append(note(t('moreTargets', { n: count - MAX_CARDS })));

  const to = Date.now();
  const from = to - RANGE;
  void (async () => {
    try {
      const latest = await api.latest(node.path === '/' ? undefined : node.path);
      const byTarget = new Map<string, LatestRound[]>();
      for (const r of latest.rounds) {
        const list = byTarget.get(r.target) ?? [];
        list.push(r);
        byTarget.set(r.target, list);
      }
      for (const c of cards) replace(c.figures, figures(app, byTarget.get(c.target.path) ?? []));
      await pool(cards, 6, async (c) => {
        if (abort.signal.aborted) return;
        const width = Math.max(200, c.chart.clientWidth);
        const res = await api.series(c.target.path, from, to, Math.min(600, width), undefined, abort.signal);
        if (abort.signal.aborted) return;
        const layers = res.series.filter((s) => s.points.length).map((s) => ({
          agent: s.agent, color: colorOf(app, s.agent), points: s.points, resolution: s.resolution,
        }));
        if (!layers.length) {
          replace(c.chart, note(t('noData')));
          return;
        }
        charts.push(smokeChart(c.chart, {
          width, height: 110, from, to, layers, compact: true, median: layers.length > 1 ? 'agent' : 'loss',
        }));
      });
      page.dataset.state = 'ready';
    } catch (e) {
      if (abort.signal.aborted) return;
      page.append(note(`${t('error')}: ${(e as Error).message}`, 'error'));
      page.dataset.state = 'error';
    }
  })();
  return () => {
    abort.abort();
    for (const c of charts) c.destroy();
  };
}

/** Current median and loss of each agent's latest round, coloured by loss. */
function figures(app: App, rounds: LatestRound[]): HTMLElement[] {
  return rounds.map((r) => h('span', { class: 'figure', 'data-agent': r.agent },
    rounds.length > 1 ? h('i', { class: 'swatch', style: `background:${colorOf(app, r.agent)}`, title: r.agent }) : null,
    h('span', { class: 'median' }, fmtMs(r.median)),
    h('span', { class: 'loss-chip', style: `background:${lossColor(r.loss_pct)}` }, fmtPct(r.loss_pct))));
}
