import type { Aligned } from './align.ts';
import { lossColor, smokeShade } from './palette.ts';
import type { SmokeLayer } from './smoke.ts';

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

export interface DrawOptions {
  layers: SmokeLayer[];
  median: 'loss' | 'agent';
}

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

export function drawSmoke(u: Plot, o: DrawOptions, data: Aligned<SmokeLayer['points'][number]>, bg: string, ink: string): void {
  const ctx = u.ctx;
  clip(u);
  o.layers.forEach((layer, li) => {
    // Overlays tint each agent's smoke in its colour, lighter, so the lines stay readable.
    const color = o.median === 'agent' ? layer.color : ink;
    const strength = o.median === 'agent' ? 0.55 : 1;
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

export function drawMedians(u: Plot, o: DrawOptions, data: Aligned<SmokeLayer['points'][number]>): void {
  const ctx = u.ctx;
  const dpr = u.pxRatio;
  clip(u);
  // An even, whole-pixel width on whole-pixel rows keeps the line's colour exact (no blending).
  ctx.lineWidth = Math.max(2, Math.round(2 * dpr));
  ctx.lineCap = 'butt';
  o.layers.forEach((layer, li) => {
    // Segments grouped by colour, one stroke per colour.
    const paths = new Map<string, number[]>();
    const outages: number[] = [];
    let prev: { x: number; y: number } | null = null;
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
      const color = o.median === 'agent' ? layer.color : lossColor(p.loss_pct);
      const y = Math.round(u.valToPos(p.median, 'y', true));
      let segs = paths.get(color);
      if (!segs) paths.set(color, (segs = []));
      // Joined to the previous point when adjacent, so the median reads as a line.
      if (prev && p.time - prevTime <= layer.resolution * 1500) segs.push(prev.x, prev.y, x, prev.y, x, y, x + w, y, NaN);
      else segs.push(x, y, x + w, y, NaN);
      prev = { x: x + w, y };
      prevTime = p.time;
    }
    for (const [color, segs] of paths) {
      ctx.strokeStyle = color;
      ctx.beginPath();
      let start = true;
      for (let k = 0; k < segs.length; k++) {
        if (Number.isNaN(segs[k])) { start = true; continue; }
        if (start) ctx.moveTo(segs[k]!, segs[k + 1]!);
        else ctx.lineTo(segs[k]!, segs[k + 1]!);
        start = false;
        k++;
      }
      ctx.stroke();
    }
    // Rounds with no reply at all: a tick in the 100 %-loss colour along the top.
    ctx.fillStyle = lossColor(100);
    for (let k = 0; k < outages.length; k += 2) ctx.fillRect(outages[k]!, u.bbox.top, outages[k + 1]!, 3 * dpr);
  });
  ctx.restore();
}
