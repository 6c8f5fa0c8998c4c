import { api, type LatestRound, type OverviewResponse, type TreeNode } from '../api.ts';
import { autoRefresh, colorOf, trail, type App, type Cleanup } from '../app.ts';
import { DASHES } from '../chart/draw.ts';
import { lineSample, lossChip } from '../chart/legend.ts';
import { miniChart } from '../chart/mini.ts';
import { miniPoints } from '../chart/mini-data.ts';
import { h, replace } from '../dom.ts';
import { fmtMs } from '../format.ts';
import { t } from '../i18n.ts';
import { breadcrumbs, errorNote, note } from '../layout.ts';
import { pageHref, targetHref } from '../route.ts';

/** The small graphs' range until the server says otherwise (presentation.overview.range). */
const DEFAULT_RANGE = 10 * 3600_000;
/** Points per small graph: 10 h in 5-minute buckets fit. */
const POINTS = 300;

/** Targets per page (the API's most per request). */
const PAGE_SIZE = 200;

let prefetched: { path: string; page: number; at: number; range: number; abort: AbortController; data: Promise<OverviewResponse> } | undefined;

/** Starts loading a group's overview series before the page is drawn (called at boot, before the tree is known). */
export function prefetchOverview(path: string, page: number): void {
  const to = Date.now();
  const abort = new AbortController();
  const data = api.overview(path, to - DEFAULT_RANGE, to, POINTS, (page - 1) * PAGE_SIZE, PAGE_SIZE, abort.signal);
  data.catch(() => {});
  prefetched = { path, page, at: to, range: DEFAULT_RANGE, abort, data };
}

/** Cancels a prefetch that turned out not to be needed (the path is a target, not a group). */
export function dropPrefetch(): void {
  prefetched?.abort.abort();
  prefetched = undefined;
}

function overviewData(path: string, page: number, range: number, signal: AbortSignal): Promise<OverviewResponse> {
  const p = prefetched;
  prefetched = undefined;
  if (p && p.path === path && p.page === page && p.range === range && Date.now() - p.at < 10_000) return p.data;
  p?.abort.abort();
  const to = Date.now();
  return api.overview(path, to - range, to, POINTS, (page - 1) * PAGE_SIZE, PAGE_SIZE, signal);
}

/** The page number of an overview URL (`?page=`, from 1). */
export function overviewPageNumber(params: URLSearchParams): number {
  const n = Number(params.get('page'));
  return Number.isInteger(n) && n > 1 ? n : 1;
}

/**
 * A group's overview: a small smoke graph (last 10 h by default) per probed target below it,
 * grouped by parent, with the current median and loss of each agent and the latest failure
 * reason in words, 200 targets a page (`?page=`). Several agents: each median in loss colours,
 * told apart by line style. Sets data-state="ready" on the page when every graph is drawn
 * (tests and benchmarks wait on it).
 */
export function overviewPage(main: HTMLElement, app: App, node: TreeNode, refreshSeconds: number, params: URLSearchParams): Cleanup {
  const abort = new AbortController();
  const range = app.presentation.overview_range || DEFAULT_RANGE;
  const pageNo = overviewPageNumber(params);
  const offset = (pageNo - 1) * PAGE_SIZE;
  const page = h('section', { class: 'overview', 'data-state': 'loading' });
  const crumbs = trail(app.tree, node.path);
  replace(main, breadcrumbs(crumbs), h('h1', {}, node.title), node.remark ? h('p', { class: 'remark' }, node.remark) : null, page);

  const groups = new Map<string, { group: TreeNode; targets: TreeNode[] }>();
  let count = 0;
  const visit = (n: TreeNode, parent: TreeNode) => {
    if (n.hidden) return;
    if (n.probe) {
      if (count >= offset && count < offset + PAGE_SIZE) {
        let g = groups.get(parent.path);
        if (!g) groups.set(parent.path, (g = { group: parent, targets: [] }));
        g.targets.push(n);
      }
      count++;
    }
    for (const c of n.children) visit(c, n);
  };
  if (node.probe) visit(node, node);
  else for (const c of node.children) visit(c, node);

  if (count === 0) {
    page.append(note(t('noData')));
    page.dataset.state = 'ready';
    return () => {};
  }
  const cards: { target: TreeNode; chart: HTMLElement; figures: HTMLElement; failure: HTMLElement }[] = [];
  if (count > PAGE_SIZE) page.append(pager(node, params, pageNo, count));
  for (const { group, targets } of groups.values()) {
    if (group.path !== node.path) page.append(h('h2', {}, h('a', { href: targetHref(group.path) }, group.title)));
    page.append(h('div', { class: 'cards' }, targets.map((target) => {
      const chart = h('div', { class: 'mini-chart' });
      const figures = h('div', { class: 'figures' });
      const failure = h('p', { class: 'card-failure', hidden: true });
      cards.push({ target, chart, figures, failure });
      // The title (which defaults to the host), then the node's name and the host where they add something.
      const sub = [target.name !== target.title ? target.name : null, target.host && target.host !== target.title ? target.host : null].filter(Boolean).join(' · ');
      return h('article', { class: 'card', 'data-target': target.path },
        h('header', {}, h('a', { href: targetHref(target.path), class: 'card-title' }, target.title),
          sub ? h('span', { class: 'host' }, sub) : null),
        figures, failure, chart);
    })));
  }
  if (count > PAGE_SIZE) page.append(pager(node, params, pageNo, count));

  let loads = 0;
  const load = async () => {
    try {
      // Two requests for the whole page: the latest rounds and every target's series
      // (the first time, the latter was usually started at boot, alongside the tree).
      const width = Math.max(200, cards[0]?.chart.clientWidth ?? 300);
      const [latest, overview] = await Promise.all([
        api.latest(node.path === '/' ? undefined : node.path),
        loads === 0 ? overviewData(node.path, pageNo, range, abort.signal)
          : api.overview(node.path, Date.now() - range, Date.now(), POINTS, offset, PAGE_SIZE, abort.signal),
      ]);
      const { from, to } = overview;
      if (abort.signal.aborted) return;
      performance.mark('overview:data');
      const byTarget = new Map<string, LatestRound[]>();
      for (const r of latest.rounds) {
        const list = byTarget.get(r.target) ?? [];
        list.push(r);
        byTarget.set(r.target, list);
      }
      const byPath = new Map(overview.targets.map((x) => [x.target, x]));
      for (const c of cards) {
        const info = byPath.get(c.target.path);
        const series = (info?.series ?? []).map((s) => ({ agent: s.agent, resolution: s.resolution, points: miniPoints(s) })).filter((s) => s.points.length);
        const dashOf = (agent: string) => DASHES[Math.max(0, series.findIndex((s) => s.agent === agent)) % DASHES.length]!;
        const rounds = byTarget.get(c.target.path) ?? [];
        replace(c.figures, figures(app, rounds, rounds.length > 1 ? dashOf : undefined));
        const failures = rounds.filter((r) => r.error);
        c.failure.hidden = failures.length === 0;
        replace(c.failure, failures.map((r) => h('span', { 'data-agent': r.agent }, `⚠ ${rounds.length > 1 ? r.agent + ': ' : ''}${r.error}`)));
        const layers = series.map((s, i) => ({
          agent: s.agent, color: colorOf(app, s.agent), points: s.points, resolution: s.resolution, pings: info?.pings ?? 20,
          ...(series.length > 1 ? { dash: DASHES[i % DASHES.length]! } : {}),
        }));
        if (!layers.length) {
          replace(c.chart, note(t('noData')));
          continue;
        }
        miniChart(c.chart, { width, height: 110, from, to, layers, median: 'loss', tint: layers.length > 1 });
      }
      loads++;
      page.dataset.loads = String(loads);
      if (loads === 1) {
        performance.mark('overview:drawn');
        page.dataset.state = 'ready';
        // A task queued from the next frame's callback runs once that frame (every graph) is painted.
        requestAnimationFrame(() => setTimeout(() => performance.mark('overview:painted'), 0));
      }
    } catch (e) {
      if (abort.signal.aborted) return;
      page.append(errorNote(e));
      page.dataset.state = 'error';
    }
  };
  void load();
  const stopRefresh = autoRefresh(refreshSeconds, load);
  return () => {
    abort.abort();
    stopRefresh();
  };
}

/** "Targets 201–400 of 2,000" with links to the previous and next pages (other parameters kept). */
function pager(node: TreeNode, params: URLSearchParams, pageNo: number, total: number): HTMLElement {
  const pages = Math.ceil(total / PAGE_SIZE);
  const href = (n: number) => {
    const p: Record<string, string> = Object.fromEntries(params);
    if (n > 1) p.page = String(n);
    else delete p.page;
    return node.path === '/' ? pageHref('', p) : targetHref(node.path, p);
  };
  const link = (n: number, cls: string, text: string) => (n >= 1 && n <= pages
    ? h('a', { href: href(n), class: cls }, text)
    : h('span', { class: `${cls} disabled` }, text));
  return h('nav', { class: 'pager', 'data-total': total, 'data-page': pageNo },
    link(pageNo - 1, 'previous', `‹ ${t('previousPage')}`),
    h('span', { class: 'range' }, t('rowsOf', { a: Math.min(total, (pageNo - 1) * PAGE_SIZE + 1), b: Math.min(total, pageNo * PAGE_SIZE), n: total.toLocaleString() })),
    link(pageNo + 1, 'next', `${t('nextPage')} ›`));
}

/** Current median and loss of each agent's latest round, coloured by loss for that round's pings. */
function figures(app: App, rounds: LatestRound[], dashOf?: (agent: string) => number[]): HTMLElement[] {
  return rounds.map((r) => h('span', { class: 'figure', 'data-agent': r.agent, title: r.agent },
    dashOf ? [lineSample('currentColor', dashOf(r.agent)), h('i', { class: 'swatch', style: `background:${colorOf(app, r.agent)}` })] : null,
    h('span', { class: 'median' }, fmtMs(r.median)),
    lossChip(r.loss_pct, r.sent || 20)));
}
