import { api, type ChartsResponse } from '../api.ts';
import { colorOf, type App, type Cleanup } from '../app.ts';
import { lossChip } from '../chart/legend.ts';
import { miniChart } from '../chart/mini.ts';
import { miniPoints } from '../chart/mini-data.ts';
import { h, replace } from '../dom.ts';
import { fmtMs, fmtPct } from '../format.ts';
import { t, type Key } from '../i18n.ts';
import { errorNote, note } from '../layout.ts';
import { pageHref, targetHref, type Route } from '../route.ts';

const SORTERS: { id: string; label: Key; hint: Key }[] = [
  { id: 'loss', label: 'topLoss', hint: 'sortLoss' },
  { id: 'median', label: 'topMedian', hint: 'sortMedian' },
  { id: 'stddev', label: 'topStddev', hint: 'sortStddev' },
  { id: 'change', label: 'topChange', hint: 'sortChange' },
  { id: 'max', label: 'topMax', hint: 'sortMax' },
];
const WINDOWS = ['1h', '3h', '30h', '10d'];

/**
 * SmokePing's Charts page: for each sorter (loss, median, std dev, the median's change against
 * the period before, max) the worst series as small smoke graphs, each a link to its detail.
 */
export function chartsPage(main: HTMLElement, app: App, route: Route): Cleanup {
  const range = WINDOWS.includes(route.params.get('range') ?? '') ? route.params.get('range')! : '3h';
  const n = app.presentation.charts_count;
  const sections = h('div', { class: 'chart-sections', 'data-state': 'loading' });
  replace(main, h('h1', {}, t('charts')),
    h('div', { class: 'tabs' }, WINDOWS.map((w) => h('a', { href: pageHref('charts', { range: w }), class: w === range ? 'active' : '', 'data-range': w }, t('overSpan', { span: w })))),
    sections);
  const abort = new AbortController();
  void Promise.all(SORTERS.map(async (s) => {
    const section = h('section', { class: 'sorter', 'data-metric': s.id }, h('h2', {}, t(s.label)), h('p', { class: 'hint' }, t(s.hint, { span: range })), note(t('loading')));
    sections.append(section);
    try {
      const res = await api.charts(s.id, range, n, abort.signal);
      if (abort.signal.aborted) return;
      section.lastChild?.remove();
      if (!res.rows.length) { section.append(note(t('noData'))); return; }
      const grid = h('div', { class: 'cards' });
      section.append(grid);
      res.rows.forEach((r, i) => {
        const card = chartCard(app, res, r, i, range);
        grid.append(card.el);
        card.draw();
      });
    } catch (e) {
      if (abort.signal.aborted) return;
      section.lastChild?.remove();
      section.append(errorNote(e));
    }
  })).then(() => { sections.dataset.state = 'ready'; });
  return () => abort.abort();
}

function chartCard(app: App, res: ChartsResponse, r: ChartsResponse['rows'][number], i: number, range: string): { el: HTMLElement; draw: () => void } {
  const value = res.sorter === 'loss' ? fmtPct(r.value)
    : res.sorter === 'change' ? `${r.value >= 0 ? '+' : '−'}${fmtMs(Math.abs(r.value))} (${fmtMs(r.previous ?? null)} → ${fmtMs(r.median)})`
      : fmtMs(r.value);
  const chart = h('div', { class: 'mini-chart' });
  const href = targetHref(r.target, { range: res.sorter === 'change' ? undefined : range, agents: r.agent });
  const card = h('article', { class: 'card chart-card', 'data-target': r.target, 'data-agent': r.agent, 'data-value': r.value },
    h('header', {}, h('span', { class: 'rank' }, `${i + 1}.`), h('a', { href, class: 'card-title' }, r.title ?? r.target),
      h('span', { class: 'host' }, h('i', { class: 'swatch', style: `background:${colorOf(app, r.agent)}` }), r.agent)),
    h('div', { class: 'figures' }, h('span', { class: 'value' }, value),
      lossChip(r.loss_pct, r.pings ?? 20)),
    chart);
  card.addEventListener('click', (e) => { if (!(e.target as HTMLElement).closest('a')) location.hash = href; });
  // The graph comes as the overview's small integers (one read of the store's summaries).
  const points = miniPoints(r.series);
  const draw = () => {
    if (!points.length) { replace(chart, note(t('noData'))); return; }
    miniChart(chart, {
      width: Math.max(200, chart.clientWidth || 300), height: 100, from: res.from, to: res.to, median: 'loss',
      layers: [{ agent: r.agent, color: colorOf(app, r.agent), points, resolution: r.series.resolution, pings: r.pings ?? 20 }],
    });
  };
  return { el: card, draw };
}
