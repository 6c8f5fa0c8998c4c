import type { Series } from '../api.ts';
import { fmtMs, fmtPct } from '../format.ts';
import { t } from '../i18n.ts';
import { themeColor } from '../prefs.ts';
import { offsetLabel, partsIn } from '../time.ts';
import type { LegendRow } from './legend.ts';
import { lossBins } from './palette.ts';
import { legendStats } from './stats.ts';

/** Quantile levels of rollup buckets (the store's SMOKE_QUANTILES), as CSV column names. */
const QUANTILE_COLUMNS = ['q0', 'q5', 'q10', 'q25', 'q40', 'q50', 'q60', 'q75', 'q90', 'q95', 'q100'];

/** ISO 8601 with the page zone's offset: 2026-11-23T14:05:09+08:00 (readable and exact). */
export function isoInZone(ms: number): string {
  const p = partsIn(ms);
  const two = (n: number) => String(n).padStart(2, '0');
  const off = offsetLabel(ms).replace('UTC', '').replace('−', '-') || 'Z';
  return `${p.y}-${two(p.mo)}-${two(p.d)}T${two(p.h)}:${two(p.mi)}:${two(p.s)}${off}`;
}

function csvField(v: unknown): string {
  if (v === null || v === undefined) return '';
  const s = String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/**
 * The data behind a graph as CSV: one row per round or bucket and agent, oldest first: time
 * (ms and ISO in the page's zone), agent, tier, rounds, sent, lost, loss %, median, mean, min,
 * max, std dev, then the RTTs of a raw round (rtt_1…) or a bucket's quantiles (q0…q100), and
 * for HTTP/DNS the status and error. Figures in ms, as the API gives them.
 */
export function seriesCsv(series: readonly Series[], probe?: string, names?: (s: Series) => string): string {
  const raw = series.some((s) => s.tier === 'raw');
  const buckets = series.some((s) => s.tier !== 'raw');
  const rtts = raw ? Math.max(0, ...series.filter((s) => s.tier === 'raw').flatMap((s) => s.points.map((p) => p.smoke.length))) : 0;
  const protocol = probe === 'http' || probe === 'dns';
  const head = ['time_ms', 'time', 'agent', 'tier', 'rounds', 'sent', 'lost', 'loss_pct', 'median', 'mean', 'min', 'max', 'stddev',
    ...Array.from({ length: rtts }, (_, i) => `rtt_${i + 1}`), ...(buckets ? QUANTILE_COLUMNS : []), ...(protocol ? ['status', 'error'] : [])];
  const lines = [head.join(',')];
  const rows = series.flatMap((s) => s.points.map((p) => ({ s, p }))).sort((a, b) => a.p.time - b.p.time);
  for (const { s, p } of rows) {
    const isRaw = s.tier === 'raw';
    const smokeRaw = raw ? Array.from({ length: rtts }, (_, i) => (isRaw ? p.smoke[i] : undefined)) : [];
    const smokeQ = buckets ? QUANTILE_COLUMNS.map((_, i) => (isRaw ? undefined : p.smoke[i])) : [];
    lines.push([p.time, isoInZone(p.time), names ? names(s) : s.agent, s.tier, p.rounds, p.sent, p.lost, p.loss_pct, p.median, p.mean, p.min, p.max, p.stddev,
      ...smokeRaw, ...smokeQ, ...(protocol ? [p.status, p.error] : [])].map(csvField).join(','));
  }
  return lines.join('\n') + '\n';
}

/** Saves a blob as a file through the browser's download. */
export function download(blob: Blob, filename: string): void {
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
}

/** A file name from a target path and a range: "Group_host_30h.csv". */
export function fileName(path: string, what: string, ext: string): string {
  // Characters file systems refuse (and spaces) become "_".
  const base = path.split('/').filter(Boolean).join('_').replace(/[\\/:*?\x22<>|\s]+/g, '_') || 'smokemesh';
  return `${base}_${what}.${ext}`;
}

export interface PngParts {
  /** The graph's canvas as drawn (uPlot's, with its axes). */
  canvas: HTMLCanvasElement;
  title: string;
  subtitle: string;
  legend: LegendRow[];
  pings?: number;
  step?: number;
  /** Draw the loss key (graphs whose medians are coloured by loss). */
  lossKey: boolean;
}

/**
 * The graph as a PNG: a title, the canvas exactly as drawn, then the legend (each agent's
 * median and loss figures), the loss colour key and "N pings every S s", on the theme's
 * background at the canvas's own pixel density.
 */
export function graphPng(o: PngParts): Promise<Blob> {
  const src = o.canvas;
  const scale = src.width / (src.getBoundingClientRect().width || src.width);
  const px = (n: number) => Math.round(n * scale);
  const line = px(17);
  const legendLines = o.legend.length * (o.legend.length > 1 ? 3 : 2);
  const height = px(48) + src.height + px(10) + legendLines * line + (o.lossKey ? line + px(6) : 0) + (o.pings && o.step ? line : 0) + px(8);
  const out = document.createElement('canvas');
  out.width = src.width;
  out.height = height;
  const ctx = out.getContext('2d')!;
  const fg = themeColor('--fg') || '#000';
  const muted = themeColor('--muted') || '#666';
  ctx.fillStyle = themeColor('--bg') || '#fff';
  ctx.fillRect(0, 0, out.width, out.height);
  ctx.textBaseline = 'top';
  ctx.fillStyle = fg;
  ctx.font = `600 ${px(15)}px system-ui, sans-serif`;
  ctx.fillText(o.title, px(8), px(6));
  ctx.fillStyle = muted;
  ctx.font = `${px(12)}px system-ui, sans-serif`;
  ctx.fillText(o.subtitle, px(8), px(27));
  let y = px(48);
  ctx.drawImage(src, 0, y);
  y += src.height + px(10);

  const cols = [px(8), px(110), px(200), px(290), px(380), px(470)];
  const text = (s: string, x: number, color = fg) => { ctx.fillStyle = color; ctx.fillText(s, x, y); };
  for (const r of o.legend) {
    const st = legendStats(r.points);
    if (o.legend.length > 1) {
      if (r.color) {
        ctx.strokeStyle = r.color;
        ctx.lineWidth = px(2.5);
        ctx.setLineDash((r.dash ?? []).map(px));
        ctx.beginPath();
        ctx.moveTo(px(8), y + px(7));
        ctx.lineTo(px(36), y + px(7));
        ctx.stroke();
        ctx.setLineDash([]);
      }
      ctx.font = `600 ${px(12)}px system-ui, sans-serif`;
      text(r.label, px(44));
      y += line;
    }
    ctx.font = `${px(12)}px system-ui, sans-serif`;
    text(t('median'), cols[0]!, muted);
    [`${t('avg')} ${fmtMs(st.median.avg)}`, `${t('max')} ${fmtMs(st.median.max)}`, `${t('min')} ${fmtMs(st.median.min)}`,
      `${t('now')} ${fmtMs(st.median.now)}`, `${t('stddev')} ${fmtMs(st.stddev)}`].forEach((s, i) => text(s, cols[i + 1]!));
    y += line;
    text(t('loss'), cols[0]!, muted);
    [`${t('avg')} ${fmtPct(st.loss.avg)}`, `${t('max')} ${fmtPct(st.loss.max)}`, `${t('min')} ${fmtPct(st.loss.min)}`,
      `${t('now')} ${fmtPct(st.loss.now)}`].forEach((s, i) => text(s, cols[i + 1]!));
    y += line;
  }
  if (o.lossKey) {
    y += px(6);
    const pings = o.pings ?? 20;
    let x = px(8);
    ctx.font = `${px(12)}px system-ui, sans-serif`;
    text(t('lossKey', { n: pings }), x, muted);
    x += ctx.measureText(t('lossKey', { n: pings })).width + px(8);
    for (const b of lossBins(pings)) {
      ctx.fillStyle = b.color;
      ctx.fillRect(x, y + px(1), px(11), px(11));
      x += px(14);
      text(b.label, x);
      x += ctx.measureText(b.label).width + px(10);
    }
    y += line;
  }
  if (o.pings && o.step) text(t('pingsEvery', { n: o.pings, s: o.step }), px(8), muted);
  return new Promise((resolve, reject) => out.toBlob((b) => (b ? resolve(b) : reject(new Error('PNG encoding failed'))), 'image/png'));
}
