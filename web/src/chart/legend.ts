import type { SeriesPoint } from '../api.ts';
import { h } from '../dom.ts';
import { fmtMs, fmtPct } from '../format.ts';
import { t } from '../i18n.ts';
import { lossBins, lossColor, rgb } from './palette.ts';
import { legendStats, type LegendStats } from './stats.ts';

/** One line of a legend: an agent of a target (or a compared series) and its points. */
export interface LegendRow {
  /** data-agent of the row (the agent's name, or target~agent on Compare). */
  key: string;
  label: string;
  /** The swatch: the series' colour (its median line or its smoke tint). */
  color?: string;
  /** The median's line style, drawn in the swatch. */
  dash?: number[];
  /** A second swatch: the colour its smoke is tinted in. */
  tint?: string;
  points: SeriesPoint[];
}

/** A short line in the row's style: how its median is drawn on the graph. */
export function lineSample(color: string, dash: number[] = []): SVGSVGElement {
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('width', '28');
  svg.setAttribute('height', '10');
  svg.setAttribute('class', 'line-sample');
  svg.setAttribute('aria-hidden', 'true');
  const line = document.createElementNS(ns, 'line');
  for (const [k, v] of Object.entries({ x1: '0', y1: '5', x2: '28', y2: '5', stroke: color, 'stroke-width': '2.5', 'stroke-dasharray': dash.join(' ') })) line.setAttribute(k, v);
  svg.append(line);
  return svg;
}

/**
 * SmokePing's legend, one block of two lines per agent: the median's avg / max / min / now and
 * its std dev, the loss's avg / max / min / now; then "N pings every S s". Six narrow columns,
 * so that it fits a phone's width.
 */
export function legendTable(rows: LegendRow[], o: { pings?: number; step?: number }): HTMLElement {
  const cell = (name: string, v: number | null, fmt: (v: number | null) => string) =>
    h('td', { class: 'num', 'data-stat': name, 'data-value': v === null ? '' : String(v) }, fmt(v));
  const head = h('thead', {}, h('tr', {}, h('th', {}), ...['avg', 'max', 'min', 'now', 'stddev'].map((k) => h('th', { class: 'num' }, t(k as 'avg')))));
  const body = rows.map((r) => {
    const st: LegendStats = legendStats(r.points);
    const name = h('th', { colspan: 6, class: 'legend-agent' },
      r.color ? (r.dash ? lineSample(r.color, r.dash) : h('i', { class: 'swatch', style: `background:${r.color}` })) : null,
      r.tint ? h('i', { class: 'swatch', style: `background:${r.tint}` }) : null, r.label);
    return h('tbody', { 'data-agent': r.key },
      rows.length > 1 ? h('tr', {}, name) : null,
      h('tr', {}, h('th', {}, t('median')),
        cell('median-avg', st.median.avg, fmtMs), cell('median-max', st.median.max, fmtMs), cell('median-min', st.median.min, fmtMs),
        cell('median-now', st.median.now, fmtMs), cell('stddev', st.stddev, fmtMs)),
      h('tr', {}, h('th', {}, t('loss')),
        cell('loss-avg', st.loss.avg, fmtPct), cell('loss-max', st.loss.max, fmtPct), cell('loss-min', st.loss.min, fmtPct),
        cell('loss-now', st.loss.now, fmtPct), h('td', {})));
  });
  return h('table', { class: 'legend' }, head, body,
    o.pings && o.step ? h('tfoot', {}, h('tr', {}, h('td', { colspan: 6, class: 'pings-every' }, t('pingsEvery', { n: o.pings, s: o.step })))) : null);
}

/** The loss colour key of a target with `pings` pings per round, in SmokePing's bins. */
export function lossKey(pings: number): HTMLElement {
  return h('div', { class: 'key loss-key', 'data-pings': pings },
    h('span', {}, t('lossKey', { n: pings })),
    lossBins(pings).map((b) => h('span', { class: 'key-item', 'data-color': b.color },
      h('i', { class: 'swatch', style: `background:${b.color}` }), b.label)));
}

/** A loss figure on the colour its median would have, in black or white, whichever reads. */
export function lossChip(lossPct: number | null, pings: number): HTMLElement {
  const bg = lossColor(lossPct, pings);
  const [r, g, b] = rgb(bg);
  const light = 0.299 * r + 0.587 * g + 0.114 * b > 140;
  return h('span', { class: 'loss-chip', style: `background:${bg};color:${light ? '#000' : '#fff'}` }, fmtPct(lossPct));
}
