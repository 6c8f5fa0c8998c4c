import uPlot from 'uplot';
import type { SeriesPoint } from '../api.ts';
import { themeColor } from '../prefs.ts';
import { align, yMax, type Aligned } from './align.ts';
import { lossColor, smokeShade } from './palette.ts';

/** One agent's series drawn on a smoke graph. */
export interface SmokeLayer {
  agent: string;
  color: string;
  points: SeriesPoint[];
  /** Seconds each point covers. */
  resolution: number;
}

export interface SmokeChartOptions {
  width: number;
  height: number;
  /** Range shown, ms since the epoch. */
  from: number;
  to: number;
  layers: SmokeLayer[];
  /** 'loss': median coloured by loss (one agent); 'agent': each median in its agent's colour. */
  median: 'loss' | 'agent';
  compact?: boolean;
  onZoom?: (from: number, to: number) => void;
  onReset?: () => void;
  /** Called with the points under the cursor (one per layer; null where a layer has none), or null when it leaves. */
  onHover?: (time: number | null, points: (SeriesPoint | null)[]) => void;
}

/**
 * Draws a SmokePing graph with uPlot: for each point, bands between rank pairs of its
 * distribution (a raw round's RTTs, or a bucket's quantiles) paired from the outside in,
 * lighter outward; then the median as a step line coloured by loss (or by agent).
 * Rounds with no reply at all are marked by a tick in the loss colour at the top.
 */
export function smokeChart(el: HTMLElement, o: SmokeChartOptions): uPlot {
  const data: Aligned = align(o.layers.map((l) => l.points));
  const top = yMax(o.layers.map((l) => l.points));
  const fg = themeColor('--muted') || '#666';
  const grid = themeColor('--grid') || '#ddd';
  const bg = themeColor('--bg') || '#fff';
  const ink = themeColor('--smoke-ink') || '#000';
  const font = o.compact ? '10px system-ui, sans-serif' : '12px system-ui, sans-serif';

  const axis = (y: boolean): uPlot.Axis => ({
    stroke: fg, font, ticks: { stroke: grid, width: 1 }, grid: { stroke: grid, width: 1 },
    size: y ? (o.compact ? 50 : 64) : (o.compact ? 24 : 50),
    ...(y ? { values: (_u: uPlot, splits: number[]) => splits.map((v) => fmtAxis(v)) } : {}),
  });

  const opts: uPlot.Options = {
    width: o.width,
    height: o.height,
    legend: { show: false },
    scales: {
      x: { time: true, auto: false, range: () => [o.from / 1000, o.to / 1000] },
      y: { auto: false, range: () => [0, top] },
    },
    axes: [axis(false), axis(true)],
    series: [
      {},
      ...o.layers.map((l) => ({ label: l.agent, stroke: l.color, paths: () => null, points: { show: false } })),
    ],
    cursor: {
      drag: { x: !o.compact, y: false, setScale: false },
      points: { show: false },
      bind: {
        dblclick: () => () => {
          o.onReset?.();
          return null;
        },
      },
    },
    select: { show: !o.compact, left: 0, top: 0, width: 0, height: 0 },
    hooks: {
      drawAxes: [(u) => drawSmoke(u, o, data, bg, ink)],
      draw: [(u) => drawMedians(u, o, data)],
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

function fmtAxis(v: number): string {
  if (v === 0) return '0';
  if (v < 1) return `${Math.round(v * 1000)} µs`;
  return `${Number(v.toPrecision(3))} ms`;
}

/** Canvas x of a point's start and its width (at least one device pixel). */
function span(u: uPlot, time: number, resolution: number): [number, number] {
  const x0 = u.valToPos(time / 1000, 'x', true);
  const x1 = u.valToPos(time / 1000 + resolution, 'x', true);
  return [x0, Math.max(1, x1 - x0)];
}

function clip(u: uPlot): void {
  const { left, top, width, height } = u.bbox;
  u.ctx.save();
  u.ctx.beginPath();
  u.ctx.rect(left, top, width, height);
  u.ctx.clip();
}

function drawSmoke(u: uPlot, o: SmokeChartOptions, data: Aligned, bg: string, ink: string): void {
  const ctx = u.ctx;
  clip(u);
  const shades = new Map<string, string>();
  o.layers.forEach((layer, li) => {
    // Overlays tint each agent's smoke in its colour, lighter, so the lines stay readable.
    const color = o.median === 'agent' ? layer.color : ink;
    const strength = o.median === 'agent' ? 0.55 : 1;
    for (const p of data.rows[li]!) {
      if (!p || p.smoke.length < 2) continue;
      const [x, w] = span(u, p.time, layer.resolution);
      const s = p.smoke;
      const pairs = Math.floor(s.length / 2);
      for (let i = 0; i < pairs; i++) {
        const key = `${color}|${i}|${pairs}`;
        let fill = shades.get(key);
        if (!fill) shades.set(key, (fill = smokeShade(bg, color, i, pairs, strength)));
        const yTop = u.valToPos(s[s.length - 1 - i]!, 'y', true);
        const yBot = u.valToPos(s[i]!, 'y', true);
        ctx.fillStyle = fill;
        ctx.fillRect(x, yTop, w, Math.max(1, yBot - yTop));
      }
    }
  });
  ctx.restore();
}

function drawMedians(u: uPlot, o: SmokeChartOptions, data: Aligned): void {
  const ctx = u.ctx;
  const dpr = uPlot.pxRatio;
  clip(u);
  // An even, whole-pixel width on whole-pixel rows keeps the line's colour exact (no blending).
  const lw = Math.max(2, Math.round(2 * dpr));
  ctx.lineWidth = lw;
  ctx.lineCap = 'butt';
  o.layers.forEach((layer, li) => {
    let prev: { x: number; y: number } | null = null;
    let prevTime = -Infinity;
    for (const p of data.rows[li]!) {
      if (!p) continue;
      const [x0, w0] = span(u, p.time, layer.resolution);
      const x = Math.round(x0);
      const w = Math.max(1, Math.round(w0));
      const color = o.median === 'agent' ? layer.color : lossColor(p.loss_pct);
      if (p.median === null) {
        if (p.sent > 0) {
          ctx.fillStyle = lossColor(100);
          ctx.fillRect(x, u.bbox.top, w, 3 * dpr);
        }
        prev = null;
        continue;
      }
      const y = Math.round(u.valToPos(p.median, 'y', true));
      ctx.strokeStyle = color;
      ctx.beginPath();
      // Join to the previous point when they are adjacent, so the median reads as a line.
      if (prev && p.time - prevTime <= layer.resolution * 1500) {
        ctx.moveTo(prev.x, prev.y);
        ctx.lineTo(x, prev.y);
        ctx.lineTo(x, y);
      } else {
        ctx.moveTo(x, y);
      }
      ctx.lineTo(x + w, y);
      ctx.stroke();
      prev = { x: x + w, y };
      prevTime = p.time;
    }
  });
  ctx.restore();
}
