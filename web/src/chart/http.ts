import uPlot from 'uplot';
import type { SeriesPoint } from '../api.ts';
import { h } from '../dom.ts';
import { themeColor } from '../prefs.ts';
import { latencyAxis, timeAxis, zoneDate } from './axis.ts';

/** blackbox_exporter's phase names, bottom to top of the stack. */
export const PHASES = ['resolve', 'connect', 'tls', 'processing', 'transfer'] as const;
export const PHASE_COLORS: Record<string, string> = {
  resolve: '#8dd3c7', connect: '#80b1d3', tls: '#bebada', processing: '#fdb462', transfer: '#fb8072',
};

/** Stacked phase timings of an HTTP target: one column per point, phases stacked. */
export function phasesChart(el: HTMLElement, o: { width: number; height: number; from: number; to: number; points: SeriesPoint[]; resolution: number }): uPlot {
  const xs = o.points.map((p) => p.time / 1000);
  const totals = o.points.map((p) => PHASES.reduce((a, k) => a + (p.phases?.[k] ?? 0), 0));
  const top = Math.max(1, ...totals) * 1.1;
  const fg = themeColor('--muted') || '#666';
  const grid = themeColor('--grid') || '#ddd';
  const font = '12px system-ui, sans-serif';
  const axis: uPlot.Axis = { stroke: fg, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } };
  return new uPlot({
    width: o.width, height: o.height, legend: { show: false }, tzDate: zoneDate(),
    scales: { x: { time: true, auto: false, range: () => [o.from / 1000, o.to / 1000] }, y: { auto: false, range: () => [0, top] } },
    axes: [{ ...timeAxis(axis, font, (labels) => { el.dataset.xticks = labels.join('|'); }), size: 46 }, latencyAxis(axis, font)],
    series: [{}, { label: 'total', paths: () => null, points: { show: false } }],
    cursor: { drag: { x: false, y: false }, points: { show: false } },
    hooks: {
      draw: [(u) => {
        const ctx = u.ctx;
        o.points.forEach((p) => {
          if (!p.phases) return;
          const x0 = u.valToPos(p.time / 1000, 'x', true);
          const w = Math.max(1, u.valToPos(p.time / 1000 + o.resolution, 'x', true) - x0);
          let base = 0;
          for (const k of PHASES) {
            const v = p.phases[k] ?? 0;
            if (v <= 0) continue;
            const y1 = u.valToPos(base + v, 'y', true);
            const y0 = u.valToPos(base, 'y', true);
            ctx.fillStyle = PHASE_COLORS[k]!;
            ctx.fillRect(x0, y1, w, Math.max(1, y0 - y1));
            base += v;
          }
        });
      }],
    },
  }, [xs, totals], el);
}

/** The phase colour key. */
export function phaseKey(): HTMLElement {
  return h('div', { class: 'key' }, PHASES.map((k) => h('span', { class: 'key-item' },
    h('i', { class: 'swatch', style: `background:${PHASE_COLORS[k]}` }), k)));
}
