import type { SeriesPoint } from '../api.ts';
import { h } from '../dom.ts';
import { t } from '../i18n.ts';
import { fmtTime } from '../time.ts';

/** One line of the results table: an outcome of attempts and how often it happened. */
export interface ResultRow {
  ok: boolean;
  /** "HTTP 200", "rcode 0", "connection refused (ECONNREFUSED)", … */
  label: string;
  status?: number;
  attempts: number;
  rounds: number;
  last: number;
}

/**
 * What the attempts of the points came to: answered attempts (with the status of the answers,
 * where the round's last status belongs to a success) and failed attempts by reason. A round
 * keeps its last status and its last failure; when the failure names that status ("status 503
 * not in valid_status_codes"), the successes' status is not known and they count as answered.
 */
export function results(points: readonly SeriesPoint[], probe: string | undefined): ResultRow[] {
  const rows = new Map<string, ResultRow>();
  const add = (key: string, ok: boolean, label: string, attempts: number, rounds: number, time: number, status?: number) => {
    let r = rows.get(key);
    if (!r) rows.set(key, (r = { ok, label, attempts: 0, rounds: 0, last: 0, ...(status !== undefined ? { status } : {}) }));
    r.attempts += attempts;
    r.rounds += rounds;
    r.last = Math.max(r.last, time);
  };
  const statusWord = probe === 'dns' ? 'rcode' : 'HTTP';
  for (const p of points) {
    const answered = p.sent - p.lost;
    const statusOfFailure = p.error !== undefined && p.status !== undefined && new RegExp(`\\b${p.status}\\b`).test(p.error);
    if (answered > 0) {
      if (p.status !== undefined && !statusOfFailure) add(`ok ${p.status}`, true, `${statusWord} ${p.status}`, answered, p.rounds, p.time, p.status);
      else add('ok', true, probe === 'icmp' ? t('replies') : t('answered'), answered, p.rounds, p.time);
    }
    if (p.lost > 0) {
      const reason = p.error ?? (probe === 'icmp' ? t('noReply') : t('failedNoReason'));
      add(`fail ${reason}`, false, reason, p.lost, p.rounds, p.time);
    }
  }
  return [...rows.values()].sort((a, b) => Number(a.ok) - Number(b.ok) || b.attempts - a.attempts);
}

/**
 * The table of results under a graph: failures first, each with its reason in plain sight (not
 * only on hover), then the answers. Nothing when every attempt of a ping or TCP target answered.
 */
export function resultsTable(points: readonly SeriesPoint[], probe: string | undefined, agent?: string): HTMLElement | null {
  const rows = results(points, probe);
  const protocol = probe === 'http' || probe === 'dns';
  if (!rows.some((r) => !r.ok) && !protocol) return null;
  return h('div', { class: 'results-block', 'data-agent': agent ?? '' },
    h('h3', {}, protocol ? t('statusAndFailures') : t('failures'), agent ? ` · ${agent}` : ''),
    h('div', { class: 'scroll' }, h('table', { class: 'results-table' },
      h('thead', {}, h('tr', {}, h('th', {}, t('result')), h('th', { class: 'num' }, t('attempts')), h('th', { class: 'num' }, t('rounds')), h('th', {}, t('lastSeenAt')))),
      h('tbody', {}, rows.map((r) => h('tr', { 'data-outcome': r.ok ? 'ok' : 'failed', 'data-status': r.status ?? '' },
        h('td', { class: 'wrap' }, h('i', { class: `swatch ${r.ok ? 'ok' : 'bad'}` }), r.label),
        h('td', { class: 'num' }, r.attempts), h('td', { class: 'num' }, r.rounds), h('td', {}, fmtTime(r.last))))))));
}
