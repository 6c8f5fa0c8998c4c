import type uPlot from 'uplot';
import { api, type Series, type SeriesPoint, type TargetDetail } from '../api.ts';
import { autoRefresh, colorOf, refreshSeconds, type App, type Cleanup } from '../app.ts';
import { phaseKey, phasesChart, statusTable } from '../chart/http.ts';
import { LOSS_COLORS, LOSS_LABELS, lossColor } from '../chart/palette.ts';
import { markerPlugin, type Marker } from '../chart/markers.ts';
import { smokeChart, type SmokeLayer } from '../chart/smoke.ts';
import { legendStats } from '../chart/stats.ts';
import { h, replace } from '../dom.ts';
import { fmtMs, fmtPct, fmtTime } from '../format.ts';
import { t, type Key } from '../i18n.ts';
import { breadcrumbs, note } from '../layout.ts';
import { pageHref, targetHref, type Route } from '../route.ts';
import { taskApi, type TaskSummary } from './tasks-api.ts';
import { tt } from './tasks-i18n.ts';

/** SmokePing's default detail ranges. */
export const RANGES: { id: string; ms: number; label: Key }[] = [
  { id: '3h', ms: 3 * 3600_000, label: 'last3h' },
  { id: '30h', ms: 30 * 3600_000, label: 'last30h' },
  { id: '10d', ms: 10 * 86400_000, label: 'last10d' },
  { id: '360d', ms: 360 * 86400_000, label: 'last360d' },
];

/**
 * A target's detail: range tabs and a custom range, the smoke graph (drag to zoom,
 * double-click to reset; the range and zoom live in the URL), hover values, the legend,
 * per-agent graphs or an overlay, and for HTTP targets the stacked phases and status codes.
 */
export function detailPage(main: HTMLElement, app: App, detail: TargetDetail, route: Route): Cleanup {
  const charts: uPlot[] = [];
  const abort = new AbortController();
  const p = route.params;
  const range = RANGES.find((r) => r.id === p.get('range')) ?? RANGES[0]!;
  const zoomFrom = Number(p.get('from'));
  const zoomTo = Number(p.get('to'));
  const zoomed = zoomFrom > 0 && zoomTo > zoomFrom;
  const initialTo = zoomed ? zoomTo : Date.now();
  const initialFrom = zoomed ? zoomFrom : initialTo - range.ms;
  const all = detail.agents;
  const chosen = (p.get('agents')?.split(',').filter((a) => all.includes(a)) ?? []);
  const agents = chosen.length ? chosen : all;
  const view = p.get('view') === 'split' || agents.length === 1 ? 'split' : 'overlay';
  const href = (over: Record<string, string | number | undefined>) => {
    const cur: Record<string, string | undefined> = {
      range: p.get('range') ?? undefined, from: p.get('from') ?? undefined, to: p.get('to') ?? undefined,
      agents: p.get('agents') ?? undefined, view: p.get('view') ?? undefined, refresh: p.get('refresh') ?? undefined,
    };
    return targetHref(detail.path, { ...cur, ...over });
  };

  const tabs = h('div', { class: 'tabs', role: 'tablist' },
    RANGES.map((r) => h('a', { role: 'tab', href: href({ range: r.id, from: undefined, to: undefined }),
      class: !zoomed && r === range ? 'active' : '', 'data-range': r.id }, t(r.label))),
    customRange(initialFrom, initialTo, (f, tt) => { location.hash = href({ from: f, to: tt }); }, zoomed));
  const agentBar = all.length > 1 ? h('div', { class: 'agent-bar' },
    h('label', {}, t('view'), ' ',
      h('select', { onchange: (e: Event) => { location.hash = href({ view: (e.target as HTMLSelectElement).value }); } },
        h('option', { value: 'overlay', selected: view === 'overlay' }, t('overlay')),
        h('option', { value: 'split', selected: view === 'split' }, t('perAgent')))),
    all.map((a) => h('label', { class: 'agent-check' },
      h('input', { type: 'checkbox', checked: agents.includes(a), onchange: (e: Event) => {
        const on = (e.target as HTMLInputElement).checked;
        const next = on ? [...agents, a] : agents.filter((x) => x !== a);
        location.hash = href({ agents: next.length && next.length < all.length ? next.join(',') : undefined });
      } }),
      h('i', { class: 'swatch', style: `background:${colorOf(app, a)}` }), a))) : null;

  const graphs = h('div', { class: 'graphs', 'data-state': 'loading' }, note(t('loading')));
  const settings = detail.settings;
  replace(main,
    breadcrumbs(detail.breadcrumbs),
    h('h1', {}, detail.title),
    detail.remark ? h('p', { class: 'remark' }, detail.remark) : null,
    h('p', { class: 'meta' }, [detail.host, detail.probe, settings ? t('pingsEvery', { n: settings.pings, s: settings.step }) : null]
      .filter(Boolean).join(' · ')),
    tabs, agentBar, h('p', { class: 'hint' }, t('dragToZoom')), graphs);

  const onZoom = (f: number, tt: number) => { location.hash = href({ from: f, to: tt }); };
  const onReset = () => { location.hash = href({ from: undefined, to: undefined }); };
  let loads = 0;
  const load = async () => {
    try {
      // A range that follows "now" moves with each refresh; a zoom or custom range stays.
      const to = zoomed ? zoomTo : Date.now();
      const from = zoomed ? zoomFrom : to - range.ms;
      const width = Math.max(280, graphs.clientWidth);
      const [res, traces] = await Promise.all([
        api.series(detail.path, from, to, Math.min(1200, width), agents, abort.signal),
        taskApi.list({ target: detail.path, origin: 'alert', limit: 200 }).then((r) => r.tasks).catch(() => [] as TaskSummary[]),
      ]);
      if (abort.signal.aborted) return;
      const series = res.series.filter((s) => s.points.length);
      // Keep the page's height while the graphs are rebuilt, so a refresh does not scroll.
      graphs.style.minHeight = loads ? `${graphs.offsetHeight}px` : '';
      for (const c of charts.splice(0)) c.destroy();
      replace(graphs);
      if (!series.length) {
        // Still a graph (empty axes), so that a double-click can reset a zoom that found nothing.
        const chart = h('div', { class: 'chart' });
        graphs.append(note(t('noData')), chart);
        charts.push(smokeChart(chart, { width, height: 200, from, to, layers: [], median: 'loss', onZoom, onReset }));
      } else if (view === 'overlay') {
        graphs.append(graphBlock(app, series, { width, from, to, pings: res.pings, step: res.step, charts, onZoom, onReset, traces }));
      } else {
        for (const s of series) graphs.append(graphBlock(app, [s], { width, from, to, pings: res.pings, step: res.step, charts, onZoom, onReset, traces }));
      }
      const shown = traces.filter((x) => x.created >= from && x.created <= to);
      if (shown.length) graphs.append(traceList(shown));
      if (series.length) graphs.append(lossKey());
      if (res.probe === 'http') {
        for (const s of series) graphs.append(httpBlock(s, { width, from, to, charts }));
      }
      graphs.style.minHeight = '';
      loads++;
      graphs.dataset.loads = String(loads);
      graphs.dataset.state = 'ready';
    } catch (e) {
      if (abort.signal.aborted) return;
      replace(graphs, note(`${t('error')}: ${(e as Error).message}`, 'error'));
      graphs.dataset.state = 'error';
    }
  };
  void load();
  const stopRefresh = zoomed ? () => {} : autoRefresh(refreshSeconds(p), load);
  return () => {
    abort.abort();
    stopRefresh();
    for (const c of charts) c.destroy();
  };
}

interface BlockOpts {
  width: number; from: number; to: number; pings?: number; step?: number; charts: uPlot[];
  onZoom: (f: number, t: number) => void; onReset: () => void;
  /** Alert traces of the target: marked on the graphs of the agents that ran them. */
  traces: TaskSummary[];
}

/** One smoke graph (one agent, or several overlaid), its hover line and its legend. */
function graphBlock(app: App, series: Series[], o: BlockOpts): HTMLElement {
  const layers: SmokeLayer[] = series.map((s) => ({ agent: s.agent, color: colorOf(app, s.agent), points: s.points, resolution: s.resolution }));
  const overlay = series.length > 1;
  const chart = h('div', { class: 'chart', 'data-agents': series.map((s) => s.agent).join(',') });
  const hover = h('div', { class: 'hover', 'aria-live': 'polite' }, '\u00a0');
  const block = h('figure', { class: 'graph' },
    h('figcaption', {}, overlay ? series.map((s) => s.agent).join(' + ') : series[0]!.agent,
      h('span', { class: 'tier' }, ` · ${series[0]!.tier} · ${t('resolution')} ${series[0]!.resolution} s`)),
    chart, hover, legend(app, series, o.pings, o.step, overlay));
  o.charts.push(smokeChart(chart, {
    width: o.width, height: Math.round(Math.min(360, Math.max(200, o.width * 0.4))), from: o.from, to: o.to,
    layers, median: overlay ? 'agent' : 'loss', onZoom: o.onZoom, onReset: o.onReset,
    plugins: [markerPlugin(traceMarkers(o.traces, series.map((s) => s.agent)))],
    onHover: (time, pts) => replace(hover, time === null ? '\u00a0' : hoverText(layers, time, pts as (SeriesPoint | null)[])),
  }));
  return block;
}

function hoverText(layers: SmokeLayer[], time: number, pts: (SeriesPoint | null)[]): (HTMLElement | string)[] {
  const out: (HTMLElement | string)[] = [h('b', {}, fmtTime(time))];
  pts.forEach((pt, i) => {
    if (!pt) return;
    out.push(h('span', { class: 'hover-item' },
      layers.length > 1 ? h('i', { class: 'swatch', style: `background:${layers[i]!.color}` }) : null,
      `${t('median')} ${fmtMs(pt.median)} · ${t('loss')} `,
      h('span', { class: 'loss-chip', style: `background:${lossColor(pt.loss_pct)}` }, fmtPct(pt.loss_pct)),
      ` · ${t('min')} ${fmtMs(pt.min)} · ${t('max')} ${fmtMs(pt.max)} · ${t('stddev')} ${fmtMs(pt.stddev)}`,
      pt.rounds > 1 ? ` · ${pt.rounds} ${t('rounds')}` : '',
      ` · ${pt.sent - pt.lost}/${pt.sent}`,
      pt.status !== undefined ? ` · HTTP ${pt.status}` : '', pt.error ? ` · ${pt.error}` : ''));
  });
  return out;
}

/** SmokePing's legend per agent: median avg/max/min/now, sd; loss avg/max/min/now; pings every step. */
function legend(app: App, series: Series[], pings: number | undefined, step: number | undefined, overlay: boolean): HTMLElement {
  const cell = (name: string, v: number | null, fmt: (v: number | null) => string) =>
    h('td', { class: 'num', 'data-stat': name, 'data-value': v === null ? '' : String(v) }, fmt(v));
  return h('table', { class: 'legend' },
    h('thead', {}, h('tr', {}, h('th', {}), h('th', {}, t('median') + ' ' + t('avg')), h('th', {}, t('max')), h('th', {}, t('min')),
      h('th', {}, t('now')), h('th', {}, t('stddev')), h('th', {}, t('loss') + ' ' + t('avg')), h('th', {}, t('max')),
      h('th', {}, t('min')), h('th', {}, t('now')))),
    h('tbody', {}, series.map((s) => {
      const st = legendStats(s.points);
      return h('tr', { 'data-agent': s.agent },
        h('th', {}, overlay ? h('i', { class: 'swatch', style: `background:${colorOf(app, s.agent)}` }) : null, s.agent),
        cell('median-avg', st.median.avg, fmtMs), cell('median-max', st.median.max, fmtMs), cell('median-min', st.median.min, fmtMs),
        cell('median-now', st.median.now, fmtMs), cell('stddev', st.stddev, fmtMs),
        cell('loss-avg', st.loss.avg, fmtPct), cell('loss-max', st.loss.max, fmtPct), cell('loss-min', st.loss.min, fmtPct),
        cell('loss-now', st.loss.now, fmtPct));
    })),
    pings && step ? h('tfoot', {}, h('tr', {}, h('td', { colspan: 10, class: 'pings-every' }, t('pingsEvery', { n: pings, s: step })))) : null);
}

/** Markers for the traces run by these agents: when, and what each found. */
function traceMarkers(traces: TaskSummary[], agents: string[]): Marker[] {
  return traces.filter((x) => Object.keys(x.counts).length && agents.some((a) => x.summaries[a] !== undefined || x.created_by.endsWith(` from ${a}`)))
    .map((x) => ({ time: x.created, label: `${x.created_by}\n${Object.entries(x.summaries).map(([a, s]) => `${a}: ${s}`).join('\n')}` }));
}

/** The traces shown on the graphs, with links to their hop tables. */
function traceList(traces: TaskSummary[]): HTMLElement {
  return h('div', { class: 'traces' }, h('h3', {}, tt('traces')), h('ul', { class: 'trace-marks' }, traces.map((x) => h('li', { 'data-task': x.id },
    h('a', { href: pageHref('tasks', { id: x.id }) }, fmtTime(x.created)), ` ${x.created_by}`,
    Object.entries(x.summaries).map(([a, s]) => h('div', { class: 'host' }, `${a}: ${s}`))))));
}

/** The loss colour key (lost pings out of 20, as SmokePing shows it). */
function lossKey(): HTMLElement {
  return h('div', { class: 'key' }, h('span', {}, `${t('loss')} (/20):`),
    LOSS_COLORS.map((c, i) => h('span', { class: 'key-item' }, h('i', { class: 'swatch', style: `background:${c.color}` }), LOSS_LABELS[i]!)));
}

function httpBlock(s: Series, o: { width: number; from: number; to: number; charts: uPlot[] }): HTMLElement {
  const chart = h('div', { class: 'chart phases' });
  const block = h('figure', { class: 'graph http' }, h('figcaption', {}, `${t('phases')} · ${s.agent}`), chart, phaseKey(),
    h('h3', {}, t('status')), statusTable(s.points, { status: t('status'), rounds: t('rounds') }));
  o.charts.push(phasesChart(chart, { width: o.width, height: 180, from: o.from, to: o.to, points: s.points, resolution: s.resolution }));
  return block;
}

/** Custom range inputs (local time). */
function customRange(from: number, to: number, go: (f: number, t: number) => void, active: boolean): HTMLElement {
  const local = (ms: number) => {
    const d = new Date(ms - new Date(ms).getTimezoneOffset() * 60_000);
    return d.toISOString().slice(0, 16);
  };
  const f = h('input', { type: 'datetime-local', value: local(from), 'aria-label': t('from') });
  const tt = h('input', { type: 'datetime-local', value: local(to), 'aria-label': t('to') });
  return h('form', {
    class: `custom ${active ? 'active' : ''}`,
    onsubmit: (e: Event) => {
      e.preventDefault();
      const a = new Date(f.value).getTime();
      const b = new Date(tt.value).getTime();
      if (a > 0 && b > a) go(a, b);
    },
  }, h('span', {}, t('custom')), f, '–', tt, h('button', { type: 'submit' }, t('apply')));
}
