import uPlot from 'uplot';
import type { MiniPoint, SeriesPoint } from '../api.ts';
import { themeColor } from '../prefs.ts';
import { align, yMax } from './align.ts';
import { latencyAxis, timeAxis, zoneDate } from './axis.ts';
import { drawMedians, drawSmoke, type DrawOptions, type Plot, type SmokeLayer } from './draw.ts';

export type { SmokeLayer };

export interface SmokeChartOptions extends DrawOptions {
  width: number;
  height: number;
  /** Range shown, ms since the epoch. */
  from: number;
  to: number;
  onZoom?: (from: number, to: number) => void;
  onReset?: () => void;
  /** Called with the points under the cursor (one per layer; null where a layer has none), or null when it leaves. */
  onHover?: (time: number | null, points: (SeriesPoint | MiniPoint | null)[]) => void;
  /** Extra uPlot plugins (markers of alert traces). */
  plugins?: uPlot.Plugin[];
}

/**
 * Draws a SmokePing graph with uPlot: for each point, bands between rank pairs of its
 * distribution (a raw round's RTTs, or a bucket's quantiles) paired from the outside in,
 * lighter outward; then the median as a step line coloured by loss (or by agent).
 * Rounds with no reply at all are marked by a tick in the loss colour at the top.
 * The time axis follows the page's time zone; its labels are kept in `el.dataset.xticks`.
 */
export function smokeChart(el: HTMLElement, o: SmokeChartOptions): uPlot {
  const data = align(o.layers.map((l) => l.points));
  const top = yMax(o.layers.map((l) => l.points));
  const fg = themeColor('--muted') || '#666';
  const grid = themeColor('--grid') || '#ddd';
  const bg = themeColor('--bg') || '#fff';
  const ink = themeColor('--smoke-ink') || '#000';
  const font = '12px system-ui, sans-serif';
  const base: uPlot.Axis = { stroke: fg, ticks: { stroke: grid, width: 1 }, grid: { stroke: grid, width: 1 } };

  const opts: uPlot.Options = {
    width: o.width,
    height: o.height,
    legend: { show: false },
    plugins: o.plugins ?? [],
    tzDate: zoneDate(),
    scales: {
      x: { time: true, auto: false, range: () => [o.from / 1000, o.to / 1000] },
      y: { auto: false, range: () => [0, top] },
    },
    axes: [
      { ...timeAxis(base, font, (labels) => { el.dataset.xticks = labels.join('|'); }), size: 46 },
      latencyAxis(base, font),
    ],
    series: [
      {},
      ...o.layers.map((l) => ({ label: l.agent, stroke: l.color, paths: () => null, points: { show: false } })),
    ],
    cursor: {
      drag: { x: true, y: false, setScale: false },
      points: { show: false },
      bind: {
        dblclick: () => () => {
          o.onReset?.();
          return null;
        },
      },
    },
    select: { show: true, left: 0, top: 0, width: 0, height: 0 },
    hooks: {
      drawAxes: [(u) => drawSmoke(plotOf(u), o, data, bg, ink)],
      draw: [(u) => drawMedians(plotOf(u), o, data)],
      setSelect: [(u) => {
        if (u.select.width < 3) return;
        const a = u.posToVal(u.select.left, 'x');
        const b = u.posToVal(u.select.left + u.select.width, 'x');
        u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
        o.onZoom?.(Math.round(a * 1000), Math.round(b * 1000));
      }],
      setCursor: [(u) => {
        const i = u.cursor.idx;
        if (!o.onHover) return;
        if (i === null || i === undefined) o.onHover(null, []);
        else o.onHover(data.xs[i]! * 1000, data.rows.map((r) => r[i] ?? null));
      }],
    },
  };
  const uData: uPlot.AlignedData = [data.xs, ...data.rows.map((r) => r.map((p) => p?.median ?? null))];
  return new uPlot(opts, uData, el);
}

function plotOf(u: uPlot): Plot {
  return { ctx: u.ctx, bbox: u.bbox, valToPos: (v, s) => u.valToPos(v, s, true), pxRatio: uPlot.pxRatio };
}
