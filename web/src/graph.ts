import type uPlot from 'uplot';
import type { MiniPoint, Series, SeriesPoint } from './api.ts';
import { colorOf, type App } from './app.ts';
import { DASHES } from './chart/draw.ts';
import { download, fileName, graphPng, seriesCsv } from './chart/export.ts';
import { legendTable, lineSample, lossChip, lossKey, type LegendRow } from './chart/legend.ts';
import { markerPlugin, type Marker } from './chart/markers.ts';
import { pointPings } from './chart/palette.ts';
import { smokeChart, type SmokeLayer } from './chart/smoke.ts';
import { h, replace } from './dom.ts';
import { fmtMs, fmtResolution } from './format.ts';
import { t } from './i18n.ts';
import { fmtMinute, fmtTime, zoneLabel } from './time.ts';

/**
 * How the medians of a graph are drawn: 'loss' (SmokePing's loss colours; several agents told
 * apart by line style, their smoke tinted in their colour), 'agent' (each agent's median in its
 * colour), 'own' (Compare: each series' median in its own colour, no smoke).
 */
export type MedianMode = 'loss' | 'agent' | 'own';

export interface GraphOptions {
  app: App;
  /** Target path (file names of exports). */
  path: string;
  probe?: string;
  title: string;
  /** What the range is called in file names ("30h", "zoom"). */
  rangeId: string;
  series: Series[];
  mode: MedianMode;
  /** The target's pings per round (loss colours and the key); Compare passes 20. */
  pings: number;
  step?: number;
  from: number;
  to: number;
  width: number;
  height?: number;
  /** Legend labels and colours of the series (Compare); default: the agent and its colour. */
  label?: (s: Series, i: number) => string;
  color?: (s: Series, i: number) => string;
  /** Pings per series, when they differ (Compare). */
  pingsOf?: (s: Series) => number;
  onZoom?: (from: number, to: number) => void;
  onReset?: () => void;
  /** Moments marked on the graph (alert traces), with what each found. */
  markers?: readonly Marker[];
  /** uPlot instances made here, for the page to destroy. */
  charts: uPlot[];
}

/**
 * One smoke graph with what belongs to it: a caption (tier, resolution, time zone), the hover
 * line, SmokePing's legend, the loss key, and buttons that save it as PNG or its data as CSV.
 */
export function graphBlock(o: GraphOptions): HTMLElement {
  const several = o.series.length > 1;
  const label = o.label ?? ((s: Series) => s.agent);
  const color = o.color ?? ((s: Series) => colorOf(o.app, s.agent));
  const layers: SmokeLayer[] = o.series.map((s, i) => ({
    agent: label(s, i), color: color(s, i), points: s.points, resolution: s.resolution,
    pings: o.pingsOf?.(s) ?? o.pings,
    ...(o.mode === 'loss' && several ? { dash: DASHES[i % DASHES.length]! } : {}),
  }));
  const legendRows = o.series.map((s, i): LegendRow => {
    const r: LegendRow = { key: o.label ? `${s.target}~${s.agent}` : s.agent, label: label(s, i), points: s.points };
    // Loss-coloured medians: the line style tells agents apart, the swatch their smoke's tint.
    if (o.mode !== 'loss') Object.assign(r, { color: layers[i]!.color, dash: [] });
    else if (several) Object.assign(r, { color: 'currentColor', dash: layers[i]!.dash, tint: layers[i]!.color });
    return r;
  });
  const chart = h('div', { class: 'chart', 'data-agents': o.series.map((s) => s.agent).join(','), 'data-mode': o.mode });
  const hover = h('div', { class: 'hover', 'aria-live': 'polite' }, '\u00a0');
  const first = o.series[0];
  const caption = h('figcaption', {}, o.title,
    h('span', { class: 'tier' }, first ? ` · ${tierName(first.tier)} · ${fmtResolution(first.resolution)}` : '',
      ` · ${fmtMinute(o.from)} – ${fmtMinute(o.to)} · `, h('span', { class: 'zone' }, zoneLabel(o.to))));
  const exports = h('div', { class: 'export' },
    h('button', { type: 'button', class: 'export-png', title: t('savePng') }, 'PNG'),
    h('button', { type: 'button', class: 'export-csv', title: t('saveCsv') }, 'CSV'));
  const legend = legendTable(legendRows, { pings: o.pings, step: o.step });
  const block = h('figure', { class: 'graph', 'data-range': o.rangeId }, h('div', { class: 'graph-head' }, caption, exports),
    chart, hover, legend, o.mode === 'loss' && first ? lossKey(o.pings) : null);
  const u = smokeChart(chart, {
    width: o.width, height: o.height ?? Math.round(Math.min(360, Math.max(200, o.width * 0.4))), from: o.from, to: o.to,
    layers, median: o.mode === 'own' ? 'agent' : o.mode, tint: several && o.mode !== 'own', noSmoke: o.mode === 'own',
    ...(o.onZoom ? { onZoom: o.onZoom } : {}), ...(o.onReset ? { onReset: o.onReset } : {}),
    ...(o.markers?.length ? { plugins: [markerPlugin(o.markers)] } : {}),
    onHover: (time, pts) => replace(hover, time === null ? '\u00a0' : hoverText(layers, o.mode, time, pts)),
  });
  o.charts.push(u);
  exports.querySelector('.export-csv')!.addEventListener('click', () => {
    download(new Blob([seriesCsv(o.series, o.probe, o.label ? (s) => label(s, o.series.indexOf(s)) : undefined)], { type: 'text/csv' }), fileName(o.path, o.rangeId, 'csv'));
  });
  exports.querySelector('.export-png')!.addEventListener('click', () => {
    void graphPng({
      canvas: u.ctx.canvas, title: o.title === o.path ? o.title : `${o.path} · ${o.title}`, subtitle: `${fmtMinute(o.from)} – ${fmtMinute(o.to)} · ${zoneLabel(o.to)}`,
      legend: legendRows.map((r) => (r.color === 'currentColor' ? { ...r, color: '#888' } : r)), pings: o.pings, step: o.step, lossKey: o.mode === 'loss',
    }).then((blob) => download(blob, fileName(o.path, o.rangeId, 'png')));
  });
  return block;
}

/** "raw rounds", "5 min buckets", … in the current language. */
export function tierName(tier: string): string {
  return tier === 'raw' ? t('tierRaw') : t('tierBuckets');
}

function hoverText(layers: SmokeLayer[], mode: MedianMode, time: number, pts: (SeriesPoint | MiniPoint | null)[]): (HTMLElement | SVGElement | string)[] {
  const out: (HTMLElement | SVGElement | string)[] = [h('b', {}, fmtTime(time))];
  pts.forEach((raw, i) => {
    const pt = raw as SeriesPoint | null;
    if (!pt) return;
    const layer = layers[i]!;
    const mark = layers.length > 1 ? (mode === 'loss' ? lineSample('currentColor', layer.dash) : h('i', { class: 'swatch', style: `background:${layer.color}` })) : null;
    out.push(h('span', { class: 'hover-item' },
      mark, layers.length > 1 ? `${layer.agent} ` : '',
      `${t('median')} ${fmtMs(pt.median)} · ${t('loss')} `,
      lossChip(pt.loss_pct, pointPings(pt, layer.pings)),
      ` · ${t('min')} ${fmtMs(pt.min)} · ${t('max')} ${fmtMs(pt.max)} · ${t('stddev')} ${fmtMs(pt.stddev)}`,
      pt.rounds > 1 ? ` · ${pt.rounds} ${t('rounds')}` : '',
      ` · ${pt.sent - pt.lost}/${pt.sent}`,
      pt.status !== undefined ? ` · ${pt.status}` : '', pt.error ? ` · ${pt.error}` : ''));
  });
  return out;
}
