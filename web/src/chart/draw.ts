import type { Aligned } from './align.ts';
import { lossColor, pointPings, smokeShade } from './palette.ts';
import type { MiniPoint, SeriesPoint } from '../api.ts';

/**
 * The drawing of a smoke graph on any canvas plot: uPlot's (detail) or a plain canvas
 * (overview). Coordinates are canvas pixels.
 */
export interface Plot {
  ctx: CanvasRenderingContext2D;
  bbox: { left: number; top: number; width: number; height: number };
  valToPos(v: number, scale: 'x' | 'y', canvasPixels: true): number;
  pxRatio: number;
}

/** One agent's series drawn on a smoke graph. */
export interface SmokeLayer {
  agent: string;
  color: string;
  /** Full points (detail: hover shows them) or mini points (overview). */
  points: (SeriesPoint | MiniPoint)[];
  /** Seconds each point covers. */
  resolution: number;
  /** The target's pings per round: loss colours scale with it (points that carry sent/rounds use their own). */
  pings: number;
  /** Line style of the median (CSS px dash pattern; none = solid). */
  dash?: number[];
}

export interface DrawOptions {
  layers: SmokeLayer[];
  /** 'loss': medians coloured by loss (each layer in its own line style); 'agent': in the layer's colour. */
  median: 'loss' | 'agent';
  /** Tint each layer's smoke in its colour (several agents on one graph). */
  tint?: boolean;
  /** No smoke at all (Compare: medians only). */
  noSmoke?: boolean;
}

/** Line styles that tell agents apart on one graph when the medians are coloured by loss (CSS px). */
export const DASHES: number[][] = [[], [7, 4], [2, 3], [9, 3, 2, 3], [14, 4], [2, 2, 2, 6]];

/** Canvas x of a point's start and its width (at least one device pixel). */
export function span(u: Plot, time: number, resolution: number): [number, number] {
  const x0 = u.valToPos(time / 1000, 'x', true);
  const x1 = u.valToPos(time / 1000 + resolution, 'x', true);
  const right = u.bbox.left + u.bbox.width;
  // The newest bucket is still filling and reaches past the graph's end: keep at least two
  // pixels of it inside, or a bucket that started a moment ago would be clipped away.
  const x = Math.min(x0, right - 2 * u.pxRatio);
  return [x, Math.max(1, Math.min(x1, right) - x)];
}

function clip(u: Plot): void {
  const { left, top, width, height } = u.bbox;
  u.ctx.save();
  u.ctx.beginPath();
  u.ctx.rect(left, top, width, height);
  u.ctx.clip();
}

/**
 * The smoke of every layer: for each point, bands between rank pairs of its distribution
 * (outermost lightest), one canvas path per shade; tinted in the layer's colour when asked.
 */
export function drawSmoke(u: Plot, o: DrawOptions, data: Aligned<SmokeLayer['points'][number]>, bg: string, ink: string): void {
  const ctx = u.ctx;
  if (o.noSmoke) return;
  clip(u);
  o.layers.forEach((layer, li) => {
    // Overlays tint each agent's smoke in its colour, lighter, so the lines stay readable.
    const tint = o.tint ?? o.median === 'agent';
    const color = tint ? layer.color : ink;
    const strength = tint ? 0.55 : 1;
    // One path per shade (outer pairs first): far fewer canvas state changes than a fill per band.
    const byShade = new Map<string, { order: number; rects: number[] }>();
    for (const p of data.rows[li]!) {
      if (!p || p.smoke.length < 2) continue;
      const [x, w] = span(u, p.time, layer.resolution);
      const s = p.smoke;
      const pairs = Math.floor(s.length / 2);
      for (let i = 0; i < pairs; i++) {
        const fill = smokeShade(bg, color, i, pairs, strength);
        let g = byShade.get(fill);
        if (!g) byShade.set(fill, (g = { order: i / pairs, rects: [] }));
        const yTop = u.valToPos(s[s.length - 1 - i]!, 'y', true);
        const yBot = u.valToPos(s[i]!, 'y', true);
        g.rects.push(x, yTop, w, Math.max(1, yBot - yTop));
      }
    }
    for (const [fill, g] of [...byShade].sort((a, b) => a[1].order - b[1].order)) {
      ctx.fillStyle = fill;
      ctx.beginPath();
      for (let k = 0; k < g.rects.length; k += 4) ctx.rect(g.rects[k]!, g.rects[k + 1]!, g.rects[k + 2]!, g.rects[k + 3]!);
      ctx.fill();
    }
  });
  ctx.restore();
}

/**
 * The medians as step lines: in loss colours (each layer in its dash pattern) or in the layer's
 * colour; rounds with no reply at all as ticks in the total-loss colour along the top.
 */
export function drawMedians(u: Plot, o: DrawOptions, data: Aligned<SmokeLayer['points'][number]>): void {
  const ctx = u.ctx;
  const dpr = u.pxRatio;
  clip(u);
  // An even, whole-pixel width on whole-pixel rows keeps the line's colour exact (no blending).
  ctx.lineWidth = Math.max(2, Math.round(2 * dpr));
  ctx.lineCap = 'butt';
  o.layers.forEach((layer, li) => {
    // Runs of adjacent points of one colour, each a single polyline: one stroke per colour, and
    // a dash pattern that flows along the run instead of restarting at every point.
    const runs = new Map<string, number[][]>();
    const outages: number[] = [];
    let prev: { x: number; y: number; color: string; run: number[] } | null = null;
    let prevTime = -Infinity;
    for (const p of data.rows[li]!) {
      if (!p) continue;
      const [x0, w0] = span(u, p.time, layer.resolution);
      const x = Math.round(x0);
      const w = Math.max(1, Math.round(w0));
      if (p.median === null) {
        if (p.loss_pct === 100) outages.push(x, w);
        prev = null;
        continue;
      }
      const color = o.median === 'agent' ? layer.color : lossColor(p.loss_pct, pointPings(p as { sent?: number; rounds?: number }, layer.pings));
      const y = Math.round(u.valToPos(p.median, 'y', true));
      const adjacent = prev !== null && p.time - prevTime <= layer.resolution * 1500;
      let run: number[];
      if (adjacent && prev!.color === color) {
        run = prev!.run;
        run.push(x, prev!.y, x, y, x + w, y);
      } else {
        // Joined to the previous point when adjacent, so the median reads as a line.
        run = adjacent ? [prev!.x, prev!.y, x, prev!.y, x, y, x + w, y] : [x, y, x + w, y];
        let list = runs.get(color);
        if (!list) runs.set(color, (list = []));
        list.push(run);
      }
      prev = { x: x + w, y, color, run };
      prevTime = p.time;
    }
    ctx.setLineDash((layer.dash ?? []).map((d) => d * dpr));
    for (const [color, list] of runs) {
      ctx.strokeStyle = color;
      ctx.beginPath();
      for (const run of list) {
        ctx.moveTo(run[0]!, run[1]!);
        for (let k = 2; k < run.length; k += 2) ctx.lineTo(run[k]!, run[k + 1]!);
      }
      ctx.stroke();
    }
    ctx.setLineDash([]);
    // Rounds with no reply at all: a tick in the 100 %-loss colour along the top.
    ctx.fillStyle = lossColor(100);
    for (let k = 0; k < outages.length; k += 2) ctx.fillRect(outages[k]!, u.bbox.top, outages[k + 1]!, 3 * dpr);
  });
  ctx.restore();
}
