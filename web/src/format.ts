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

/** A date-time in the current language. */
export function fmtTime(ms: number): string {
  return new Date(ms).toLocaleString(currentLang(), { year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' });
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
