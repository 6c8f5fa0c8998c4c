import uPlot from 'uplot';
import { currentZone, timeTicks } from '../time.ts';

/** A latency tick label: µs below 1 ms, ms below 1 s, then seconds ("850 µs", "120 ms", "1.5 s"). */
export function fmtAxis(v: number): string {
  if (v === 0) return '0';
  if (v < 1) return `${Math.round(v * 1000)} µs`;
  if (v < 1000) return `${Number(v.toPrecision(3))} ms`;
  return `${Number((v / 1000).toPrecision(3))} s`;
}

/** CSS px a label takes in `font`, measured on a shared canvas. */
export function textWidth(text: string, font: string): number {
  const ctx = (measure ??= document.createElement('canvas').getContext('2d')!);
  ctx.font = font;
  return Math.max(...text.split('\n').map((line) => ctx.measureText(line).width));
}
let measure: CanvasRenderingContext2D | undefined;

/**
 * The y axis of a latency graph: labels from fmtAxis, and an axis as wide as its widest label
 * (a fixed width cut "1500 ms" to "500 ms").
 */
export function latencyAxis(base: uPlot.Axis, font: string): uPlot.Axis {
  const tick = 6;
  const gap = 5;
  return {
    ...base, font, gap, ticks: { ...base.ticks, size: tick },
    values: (_u, splits) => splits.map(fmtAxis),
    size: (_u, values) => Math.ceil(Math.max(24, ...(values ?? []).map((v) => textWidth(v, font)))) + tick + gap + 6,
  };
}

/**
 * The time axis: ticks aligned in the page's time zone and labelled by timeTicks (24-hour
 * clock, the date where the day changes). `record` receives the labels drawn (tests read them).
 */
export function timeAxis(base: uPlot.Axis, font: string, record?: (labels: string[]) => void): uPlot.Axis {
  return {
    ...base, font,
    values: (_u, splits, _i, _space, incr) => {
      const labels = timeTicks(splits, incr);
      record?.(labels);
      return labels;
    },
  };
}

/** uPlot's tzDate for the page's zone: its time ticks fall on whole hours and days of that zone. */
export function zoneDate(): (ts: number) => Date {
  const zone = currentZone();
  return (ts) => uPlot.tzDate(new Date(ts * 1000), zone);
}
