import { currentLang, t } from './i18n.ts';

/** Milliseconds with a precision that suits the size (µs below 1 ms). */
export function fmtMs(v: number | null | undefined): string {
  if (v === null || v === undefined) return '–';
  if (v < 1) return `${(v * 1000).toFixed(0)} µs`;
  if (v < 10) return `${v.toFixed(2)} ms`;
  if (v < 100) return `${v.toFixed(1)} ms`;
  return `${v.toFixed(0)} ms`;
}

/** A percentage with up to 2 decimals. */
export function fmtPct(v: number | null | undefined): string {
  if (v === null || v === undefined) return '–';
  return `${Number(v.toFixed(2))} %`;
}

/** Seconds a point covers, in the unit that reads best: "2 s", "5 min", "1 h", "1 d". */
export function fmtResolution(seconds: number): string {
  if (seconds % 86400 === 0) return `${seconds / 86400} ${t('unitDay')}`;
  if (seconds % 3600 === 0) return `${seconds / 3600} ${t('unitHour')}`;
  if (seconds % 60 === 0) return `${seconds / 60} ${t('unitMin')}`;
  return `${seconds} ${t('unitSec')}`;
}

/** A duration in words: "45 s", "12 min", "3 h 5 min", "2 d 4 h". */
export function fmtDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} ${t('unitSec')}`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} ${t('unitMin')}`;
  const hrs = Math.floor(m / 60);
  if (hrs < 48) return `${hrs} ${t('unitHour')}${m % 60 ? ` ${m % 60} ${t('unitMin')}` : ''}`;
  return `${Math.floor(hrs / 24)} ${t('unitDay')}${hrs % 24 ? ` ${hrs % 24} ${t('unitHour')}` : ''}`;
}

/** "12 s ago" style age, or "never". */
export function fmtAgo(ms: number | undefined): string {
  if (ms === undefined) return t('never');
  const s = Math.max(0, Math.round((Date.now() - ms) / 1000));
  const rtf = new Intl.RelativeTimeFormat(currentLang(), { numeric: 'auto' });
  if (s < 90) return rtf.format(-s, 'second');
  if (s < 5400) return rtf.format(-Math.round(s / 60), 'minute');
  if (s < 129600) return rtf.format(-Math.round(s / 3600), 'hour');
  return rtf.format(-Math.round(s / 86400), 'day');
}
