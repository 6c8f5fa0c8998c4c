import type uPlot from 'uplot';
import { api, type Series, type TargetDetail } from '../api.ts';
import { autoRefresh, colorOf, detailRanges, refreshSeconds, type App, type Cleanup, type Range } from '../app.ts';
import { phaseKey, phasesChart } from '../chart/http.ts';
import type { Marker } from '../chart/markers.ts';
import { resultsTable } from '../chart/results.ts';
import { h, replace } from '../dom.ts';
import { graphBlock, type MedianMode } from '../graph.ts';
import { t } from '../i18n.ts';
import { breadcrumbs, errorNote, note } from '../layout.ts';
import { pageHref, targetHref, type Route } from '../route.ts';
import { timeInput, timeInputValue } from '../time-input.ts';
import { fmtTime } from '../time.ts';
import { taskApi, type TaskSummary } from './tasks-api.ts';
import { tt } from './tasks-i18n.ts';

/** What a detail URL asks for: every range stacked, one range, or a custom range; and a zoom inside. */
export interface DetailView {
  /** The named range shown alone (undefined: a custom range, or every range stacked). */
  range?: Range;
  custom?: { from: number; to: number };
  zoom?: { from: number; to: number };
}

/** Reads the view from the URL's parameters (`range`, `from`/`to`, `zoom=from-to`). */
export function detailView(ranges: Range[], p: URLSearchParams): DetailView {
  const v: DetailView = {};
  const from = Number(p.get('from'));
  const to = Number(p.get('to'));
  if (from > 0 && to > from) v.custom = { from, to };
  else {
    const r = ranges.find((x) => x.id === p.get('range'));
    if (r) v.range = r;
  }
  const z = /^(\d+)-(\d+)$/.exec(p.get('zoom') ?? '');
  if (z && Number(z[2]) > Number(z[1]) && (v.range || v.custom)) v.zoom = { from: Number(z[1]), to: Number(z[2]) };
  return v;
}

/**
 * A target's detail, as SmokePing's: every detail range stacked (3 h, 30 h, 10 d, 360 d by
 * default), or one range, or a custom one. Drag on a graph zooms into it (`zoom=` in the URL),
 * double-click goes back to the range the zoom came from. Several agents: overlaid (medians in
 * loss colours, agents told apart by line style), one graph each, or medians in agent colours.
 * Alert traces (tasks) are marked on the graphs of the agents that ran them and listed with links
 * to their hop tables. Under the graphs: failures by reason (and HTTP status codes, phases).
 */
export function detailPage(main: HTMLElement, app: App, detail: TargetDetail, route: Route): Cleanup {
  const charts: uPlot[] = [];
  const abort = new AbortController();
  const p = route.params;
  const ranges = detailRanges(app);
  const view = detailView(ranges, p);
  const all = detail.agents;
  const chosen = p.get('agents')?.split(',').filter((a) => all.includes(a)) ?? [];
  const agents = chosen.length ? chosen : all;
  const layout = p.get('view') === 'split' ? 'split' : p.get('view') === 'colors' ? 'colors' : 'overlay';
  const settings = detail.settings;
  const href = (over: Record<string, string | number | undefined>) => {
    const cur: Record<string, string | undefined> = {};
    for (const k of ['range', 'from', 'to', 'zoom', 'agents', 'view', 'refresh']) cur[k] = p.get(k) ?? undefined;
    return targetHref(detail.path, { ...cur, ...over });
  };
  const stacked = !view.range && !view.custom;

  const tabs = h('div', { class: 'tabs', role: 'tablist' },
    h('a', { role: 'tab', href: href({ range: undefined, from: undefined, to: undefined, zoom: undefined }), class: stacked ? 'active' : '', 'data-range': 'all' }, t('allRanges')),
    ranges.map((r) => h('a', { role: 'tab', href: href({ range: r.id, from: undefined, to: undefined, zoom: undefined }),
      class: view.range === r && !view.zoom ? 'active' : '', 'data-range': r.id }, r.title)),
    customRange(view.zoom ?? view.custom ?? { from: Date.now() - (view.range ?? ranges[0]!).ms, to: Date.now() },
      (f, tt) => { location.hash = href({ from: f, to: tt, range: undefined, zoom: undefined }); }, !!view.custom && !view.zoom));
  const agentBar = all.length > 1 ? h('div', { class: 'agent-bar' },
    h('label', {}, t('view'), ' ',
      h('select', { name: 'view', onchange: (e: Event) => { location.hash = href({ view: (e.target as HTMLSelectElement).value }); } },
        h('option', { value: 'overlay', selected: layout === 'overlay' }, t('overlay')),
        h('option', { value: 'split', selected: layout === 'split' }, t('perAgent')),
        h('option', { value: 'colors', selected: layout === 'colors' }, t('overlayColors')))),
    all.map((a) => h('label', { class: 'agent-check' },
      h('input', { type: 'checkbox', checked: agents.includes(a), onchange: (e: Event) => {
        const on = (e.target as HTMLInputElement).checked;
        const next = on ? [...agents, a] : agents.filter((x) => x !== a);
        location.hash = href({ agents: next.length && next.length < all.length ? next.join(',') : undefined });
      } }),
      h('i', { class: 'swatch', style: `background:${colorOf(app, a)}` }), a))) : null;

  const graphs = h('div', { class: 'graphs', 'data-state': 'loading', 'data-view': stacked ? 'stacked' : view.zoom ? 'zoom' : 'single' }, note(t('loading')));
  const nameLine = [detail.name !== detail.title ? detail.name : null, detail.host && detail.host !== detail.title ? detail.host : null,
    detail.probe, settings ? t('pingsEvery', { n: settings.pings, s: settings.step }) : null].filter(Boolean).join(' · ');
  replace(main,
    breadcrumbs(detail.breadcrumbs),
    h('h1', {}, detail.title),
    detail.remark ? h('p', { class: 'remark' }, detail.remark) : null,
    h('p', { class: 'meta' }, nameLine, ' · ',
      h('a', { href: pageHref('compare', { s: agents.map((a) => `${detail.path}~${a}`) }), class: 'compare-link' }, t('compare'))),
    tabs, agentBar, h('p', { class: 'hint' }, t('dragToZoom')), graphs);

  // What each graph shows: a range that follows "now", or a fixed custom range / zoom.
  const panels = (): { id: string; title: string; from: number; to: number; follows: boolean }[] => {
    const now = Date.now();
    if (view.zoom) return [{ id: 'zoom', title: `${t('zoom')} (${view.range?.title ?? t('custom')})`, ...view.zoom, follows: false }];
    if (view.custom) return [{ id: 'custom', title: t('custom'), ...view.custom, follows: false }];
    const list = view.range ? [view.range] : ranges;
    return list.map((r) => ({ id: r.id, title: r.title, from: now - r.ms, to: now, follows: true }));
  };
  const onReset = () => { if (view.zoom) location.hash = href({ zoom: undefined }); };
  const mode: MedianMode = layout === 'colors' ? 'agent' : 'loss';

  let loads = 0;
  const load = async () => {
    try {
      const width = Math.max(280, graphs.clientWidth);
      const list = panels();
      const [answers, traces] = await Promise.all([
        Promise.all(list.map((x) => api.series(detail.path, x.from, x.to, Math.min(1200, width), agents, abort.signal))),
        taskApi.list({ target: detail.path, origin: 'alert', limit: 200 }).then((r) => r.tasks).catch(() => [] as TaskSummary[]),
      ]);
      if (abort.signal.aborted) return;
      // Keep the page's height while the graphs are rebuilt, so a refresh does not scroll.
      graphs.style.minHeight = loads ? `${graphs.offsetHeight}px` : '';
      for (const c of charts.splice(0)) c.destroy();
      replace(graphs);
      list.forEach((x, i) => {
        const res = answers[i]!;
        const series = res.series.filter((s) => s.points.length);
        const onZoom = (f: number, tt: number) => {
          location.hash = href({ range: x.id === 'zoom' ? p.get('range') ?? undefined : x.id === 'custom' ? undefined : x.id, zoom: `${f}-${tt}` });
        };
        const common = {
          app, path: detail.path, ...(res.probe ? { probe: res.probe } : {}), rangeId: x.id, mode, pings: res.pings ?? settings?.pings ?? 20,
          ...(res.step ? { step: res.step } : {}), from: x.from, to: x.to, width, charts, onZoom, onReset,
          ...(stacked ? { height: Math.round(Math.min(260, Math.max(170, width * 0.28))) } : {}),
        };
        const section = h('section', { class: 'range', 'data-range': x.id });
        graphs.append(section);
        if (!series.length) {
          // Still a graph (empty axes), so that a double-click can leave a zoom that found nothing.
          section.append(note(`${x.title}: ${t('noData')}`), graphBlock({ ...common, title: x.title, series: [] }));
          return;
        }
        const groups: Series[][] = layout === 'split' ? series.map((s) => [s]) : [series];
        for (const g of groups) {
          const markers = traceMarkers(traces, g.map((s) => s.agent));
          section.append(graphBlock({ ...common, title: g.length === 1 && all.length > 1 ? `${x.title} · ${g[0]!.agent}` : x.title, series: g, markers }));
        }
        // Failures and HTTP details once, under the first (shortest) range or the one shown.
        if (i === 0) {
          for (const s of series) {
            const table = resultsTable(s.points, res.probe, series.length > 1 ? s.agent : undefined);
            if (table) section.append(table);
          }
          if (res.probe === 'http') for (const s of series) section.append(httpBlock(s, { width, from: x.from, to: x.to, charts }));
        }
      });
      const from = Math.min(...list.map((x) => x.from));
      const to = Math.max(...list.map((x) => x.to));
      const shown = traces.filter((x) => x.created >= from && x.created <= to);
      if (shown.length) graphs.append(traceList(shown));
      graphs.style.minHeight = '';
      loads++;
      graphs.dataset.loads = String(loads);
      graphs.dataset.state = 'ready';
    } catch (e) {
      if (abort.signal.aborted) return;
      replace(graphs, errorNote(e));
      graphs.dataset.state = 'error';
    }
  };
  void load();
  const stopRefresh = view.zoom || view.custom ? () => {} : autoRefresh(refreshSeconds(p), load);
  return () => {
    abort.abort();
    stopRefresh();
    for (const c of charts) c.destroy();
  };
}

/** Markers for the traces run by these agents: when, and what each found. */
function traceMarkers(traces: TaskSummary[], agents: string[]): Marker[] {
  return traces.filter((x) => Object.keys(x.counts).length && agents.some((a) => x.summaries[a] !== undefined || x.created_by.endsWith(` from ${a}`)))
    .map((x) => ({ time: x.created, label: `${x.created_by}\n${Object.entries(x.summaries).map(([a, s]) => `${a}: ${s}`).join('\n')}` }));
}

/** The traces inside the ranges shown, with links to their hop tables. */
function traceList(traces: TaskSummary[]): HTMLElement {
  return h('div', { class: 'traces' }, h('h3', {}, tt('traces')), h('ul', { class: 'trace-marks' }, traces.map((x) => h('li', { 'data-task': x.id },
    h('a', { href: pageHref('tasks', { id: x.id }) }, fmtTime(x.created)), ` ${x.created_by}`,
    Object.entries(x.summaries).map(([a, s]) => h('div', { class: 'host' }, `${a}: ${s}`))))));
}

function httpBlock(s: Series, o: { width: number; from: number; to: number; charts: uPlot[] }): HTMLElement {
  const chart = h('div', { class: 'chart phases' });
  const block = h('figure', { class: 'graph http' }, h('figcaption', {}, `${t('phases')} · ${s.agent}`), chart, phaseKey());
  o.charts.push(phasesChart(chart, { width: o.width, height: 180, from: o.from, to: o.to, points: s.points, resolution: s.resolution }));
  return block;
}

/** Custom range inputs, in the page's time zone. */
function customRange(r: { from: number; to: number }, go: (f: number, t: number) => void, active: boolean): HTMLElement {
  const f = timeInput('from', r.from, t('from'));
  const tt = timeInput('to', r.to, t('to'));
  return h('form', {
    class: `custom ${active ? 'active' : ''}`,
    onsubmit: (e: Event) => {
      e.preventDefault();
      const a = timeInputValue(f);
      const b = timeInputValue(tt);
      if (a > 0 && b > a) go(a, b);
    },
  }, h('span', {}, t('custom')), f, '–', tt, h('button', { type: 'submit' }, t('apply')));
}
