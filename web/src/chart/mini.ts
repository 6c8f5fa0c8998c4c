import { themeColor } from '../prefs.ts';
import { align, yMax } from './align.ts';
import { drawMedians, drawSmoke, type Plot } from './draw.ts';
import type { SmokeLayer } from './smoke.ts';

/**
 * A small, static smoke graph on a plain canvas (the overview draws a hundred of them; uPlot's
 * cursor, zoom and DOM per chart would cost more than the drawing itself). Same drawing as the
 * detail graph, with a y axis of three values and hour ticks on the x axis.
 */
export function miniChart(el: HTMLElement, o: { width: number; height: number; from: number; to: number; layers: SmokeLayer[]; median: 'loss' | 'agent' }): HTMLCanvasElement {
  const dpr = window.devicePixelRatio || 1;
  const canvas = document.createElement('canvas');
  canvas.width = Math.round(o.width * dpr);
  canvas.height = Math.round(o.height * dpr);
  canvas.style.width = `${o.width}px`;
  canvas.style.height = `${o.height}px`;
  el.replaceChildren(canvas);
  const ctx = canvas.getContext('2d')!;
  const left = 46 * dpr;
  const bottom = 18 * dpr;
  const top = 6 * dpr;
  const right = 6 * dpr;
  const bbox = { left, top, width: canvas.width - left - right, height: canvas.height - top - bottom };
  const ymax = yMax(o.layers.map((l) => l.points));
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
  ctx.font = `${10 * dpr}px system-ui, sans-serif`;
  ctx.fillStyle = fg;
  ctx.strokeStyle = grid;
  ctx.lineWidth = 1;
  ctx.textAlign = 'right';
  ctx.textBaseline = 'middle';
  const step = niceStep(ymax / 3);
  ctx.beginPath();
  for (let v = 0; v <= ymax; v += step) {
    const y = Math.round(plot.valToPos(v, 'y', true)) + 0.5;
    ctx.moveTo(bbox.left, y);
    ctx.lineTo(bbox.left + bbox.width, y);
    ctx.fillText(fmtAxis(v), bbox.left - 4 * dpr, y);
  }
  const hour = 3600;
  const every = (x1 - x0) / hour > 12 ? 4 * hour : 2 * hour;
  ctx.textAlign = 'center';
  ctx.textBaseline = 'top';
  const tz = new Date().getTimezoneOffset() * 60;
  for (let t = Math.ceil((x0 - tz) / every) * every + tz; t <= x1; t += every) {
    const x = Math.round(plot.valToPos(t, 'x', true)) + 0.5;
    ctx.moveTo(x, bbox.top);
    ctx.lineTo(x, bbox.top + bbox.height);
    const d = new Date(t * 1000);
    const label = `${String(d.getHours()).padStart(2, '0')}:00`;
    // A label cut by the edge reads wrong ("02:0"): leave it out.
    if (x + ctx.measureText(label).width / 2 <= canvas.width) ctx.fillText(label, x, bbox.top + bbox.height + 3 * dpr);
  }
  ctx.stroke();

  const data = align(o.layers.map((l) => l.points));
  drawSmoke(plot, o, data, bg, ink);
  drawMedians(plot, o, data);
  return canvas;
}

/** 1, 2 or 5 × a power of ten, at least `raw`. */
function niceStep(raw: number): number {
  if (!(raw > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 5, 10].map((m) => m * p).find((s) => s >= raw)!;
}

function fmtAxis(v: number): string {
  if (v === 0) return '0';
  if (v < 1) return `${Math.round(v * 1000)} µs`;
  return `${Number(v.toPrecision(3))} ms`;
}
