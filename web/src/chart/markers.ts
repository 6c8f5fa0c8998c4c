import type uPlot from 'uplot';

/** A moment to mark on a time graph (an alert's path trace). */
export interface Marker {
  time: number;
  label: string;
}

/**
 * A uPlot plugin drawing each marker inside the range as a dashed vertical line with a small
 * triangle at the top (its label is the canvas's title for the one nearest the cursor).
 */
export function markerPlugin(markers: readonly Marker[], color = '#8e44ad'): uPlot.Plugin {
  return {
    hooks: {
      draw: [(u) => {
        const { ctx, bbox } = u;
        ctx.save();
        ctx.strokeStyle = color;
        ctx.fillStyle = color;
        ctx.lineWidth = Math.max(1, devicePixelRatio);
        ctx.setLineDash([4 * devicePixelRatio, 3 * devicePixelRatio]);
        for (const m of markers) {
          const x = Math.round(u.valToPos(m.time / 1000, 'x', true));
          if (x < bbox.left || x > bbox.left + bbox.width) continue;
          ctx.beginPath();
          ctx.moveTo(x, bbox.top);
          ctx.lineTo(x, bbox.top + bbox.height);
          ctx.stroke();
          const s = 5 * devicePixelRatio;
          ctx.beginPath();
          ctx.moveTo(x - s, bbox.top);
          ctx.lineTo(x + s, bbox.top);
          ctx.lineTo(x, bbox.top + s * 1.4);
          ctx.fill();
        }
        ctx.restore();
      }],
      setCursor: [(u) => {
        const left = u.cursor.left;
        if (left === undefined || left < 0) return;
        const t = u.posToVal(left, 'x') * 1000;
        const px = (u.posToVal(left + 6, 'x') - u.posToVal(left, 'x')) * 1000;
        const near = markers.find((m) => Math.abs(m.time - t) <= px);
        u.over.title = near ? near.label : '';
      }],
    },
  };
}
