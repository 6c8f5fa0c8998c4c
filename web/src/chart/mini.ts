import { themeColor } from '../prefs.ts';
import { currentZone, offsetMinutes, timeTicks } from '../time.ts';
import { align, yMax } from './align.ts';
import { fmtAxis, textWidth } from './axis.ts';
import { drawMedians, drawSmoke, type DrawOptions, type Plot, type SmokeLayer } from './draw.ts';
import { drawLabel, labelWidth } from './label-sprites.ts';

/**
 * A small, static smoke graph on a plain canvas (the overview draws a hundred of them; uPlot's
 * cursor, zoom and DOM per chart would cost more than the drawing itself). Same drawing as the
 * detail graph, with a y axis of three values and hour ticks on the x axis.
 */
export function miniChart(el: HTMLElement, o: DrawOptions & { width: number; height: number; from: number; to: number; layers: SmokeLayer[] }): HTMLCanvasElement {
  const dpr = window.devicePixelRatio || 1;
  const canvas = document.createElement('canvas');
  canvas.width = Math.round(o.width * dpr);
  canvas.height = Math.round(o.height * dpr);
  canvas.style.width = `${o.width}px`;
  canvas.style.height = `${o.height}px`;
  const ctx = canvas.getContext('2d')!;
  const ymax = yMax(o.layers.map((l) => l.points));
  const step = niceStep(ymax / 3);
  const labels: [number, string][] = [];
  for (let v = 0; v <= ymax; v += step) labels.push([v, fmtAxis(v)]);
  const font = '10px system-ui, sans-serif';
  // As wide as the widest label, so that none is cut at the canvas edge.
  const left = Math.ceil(Math.max(...labels.map(([, l]) => textWidth(l, font))) + 8) * dpr;
  const bottom = 18 * dpr;
  const top = 6 * dpr;
  const right = 6 * dpr;
  const bbox = { left, top, width: canvas.width - left - right, height: canvas.height - top - bottom };
  // Where the plot area is, in device pixels (tests read the pixels around its edges).
  canvas.dataset.plot = [bbox.left, bbox.top, bbox.width, bbox.height].join(',');
  const x0 = o.from / 1000;
  const x1 = o.to / 1000;
  const plot: Plot = {
    ctx, bbox, pxRatio: dpr,
    valToPos: (v, s) => (s === 'x'
      ? bbox.left + ((v - x0) / (x1 - x0)) * bbox.width
      : bbox.top + bbox.height - (v / ymax) * bbox.height),
  };
  const bg = themeColor('--bg') || '#fff';
  const ink = themeColor('--smoke-ink') || '#000';
  const fg = themeColor('--muted') || '#666';
  const grid = themeColor('--grid') || '#ddd';

  // Grid and labels first, the smoke and the median over them.
  const px = 10 * dpr;
  const text = { font: `${px}px system-ui, sans-serif`, px, color: fg };
  ctx.strokeStyle = grid;
  ctx.lineWidth = 1;
  ctx.beginPath();
  for (const [v, label] of labels) {
    const y = Math.round(plot.valToPos(v, 'y', true)) + 0.5;
    ctx.moveTo(bbox.left, y);
    ctx.lineTo(bbox.left + bbox.width, y);
    drawLabel(ctx, label, bbox.left - 4 * dpr, y, { ...text, align: 'right' });
  }
  const hour = 3600;
  // About five ticks on whole hours (or days) of the page's time zone.
  const every = [1, 2, 3, 4, 6, 12, 24, 48, 168].map((n) => n * hour).find((e) => (x1 - x0) / e <= 6) ?? 30 * 24 * hour;
  const { ticks, labels: tickLabels } = hourTicks(x0, x1, every);
  ticks.forEach((t, i) => {
    const x = Math.round(plot.valToPos(t, 'x', true)) + 0.5;
    ctx.moveTo(x, bbox.top);
    ctx.lineTo(x, bbox.top + bbox.height);
    const label = tickLabels[i]!;
    // A label cut by the edge reads wrong ("02:0"): leave it out.
    // Far enough below the axis that they never touch the y axis' "0", centred on it.
    if (x + labelWidth(label, text.font, text.color, px) / 2 <= canvas.width) drawLabel(ctx, label, x, bbox.top + bbox.height + 6 * dpr, { ...text, align: 'center', valign: 'top' });
  });
  ctx.stroke();

  const data = align(o.layers.map((l) => l.points));
  drawSmoke(plot, o, data, bg, ink);
  drawMedians(plot, o, data);
  // Attached once drawn.
  el.replaceChildren(canvas);
  return canvas;
}

let lastTicks: { key: string; ticks: number[]; labels: string[] } | undefined;

/** The x ticks on whole hours (or days) of the page's zone, and their labels; the overview's graphs share one range, so the last answer is kept. */
function hourTicks(x0: number, x1: number, every: number): { ticks: number[]; labels: string[] } {
  const key = `${x0} ${x1} ${every} ${currentZone()}`;
  if (lastTicks?.key === key) return lastTicks;
  const tz = -offsetMinutes(x0 * 1000) * 60;
  const ticks: number[] = [];
  for (let t = Math.ceil((x0 - tz) / every) * every + tz; t <= x1; t += every) ticks.push(t);
  lastTicks = { key, ticks, labels: timeTicks(ticks, every).map((l) => l.split('\n')[0]!) };
  return lastTicks;
}

/** 1, 2 or 5 × a power of ten, at least `raw`. */
function niceStep(raw: number): number {
  if (!(raw > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 5, 10].map((m) => m * p).find((s) => s >= raw)!;
}

