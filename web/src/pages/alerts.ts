import { api, HttpError } from '../api.ts';
import type { Cleanup } from '../app.ts';
import { h, replace } from '../dom.ts';
import { fmtTime } from '../format.ts';
import { t } from '../i18n.ts';
import { note } from '../layout.ts';
import { targetHref } from '../route.ts';

type AlertRow = Record<string, unknown>;

/**
 * Active alerts from GET /api/v1/alerts. The alert engine is another concern; until it is
 * there (404) the page says so calmly. Rows are read loosely: target, alert/name, state,
 * since/time, agent, message — whatever of these the API gives ({ active: [...] } from the
 * alert engine: target, agent, alert, prevmatch, since).
 */
export function alertsPage(main: HTMLElement): Cleanup {
  const body = h('div', { 'data-state': 'loading' }, note(t('loading')));
  replace(main, h('h1', {}, t('alerts')), body);
  let live = true;
  api.alerts().then((res) => {
    if (!live) return;
    const rows = (Array.isArray(res) ? res : ((res as { alerts?: unknown }).alerts ?? (res as { active?: unknown }).active ?? [])) as AlertRow[];
    if (!Array.isArray(rows) || rows.length === 0) replace(body, note(t('noAlerts')));
    else replace(body, table(rows));
    body.dataset.state = 'ready';
  }).catch((e: Error) => {
    if (!live) return;
    if (e instanceof HttpError && e.status === 404) replace(body, note(t('noAlerts')), note(t('alertsUnavailable')));
    else replace(body, note(`${t('error')}: ${e.message}`, 'error'));
    body.dataset.state = 'ready';
  });
  return () => { live = false; };
}

function table(rows: AlertRow[]): HTMLElement {
  const str = (v: unknown) => (v === undefined || v === null ? '–' : typeof v === 'object' ? JSON.stringify(v) : String(v));
  const time = (v: unknown) => (typeof v === 'number' ? fmtTime(v > 1e12 ? v : v * 1000) : str(v));
  return h('div', { class: 'scroll' }, h('table', { class: 'alerts' },
    h('thead', {}, h('tr', {}, h('th', {}, t('alerts')), h('th', {}, t('target')), h('th', {}, t('agent')), h('th', {}, t('state')),
      h('th', {}, t('since')), h('th', {}, t('message')))),
    h('tbody', {}, rows.map((r) => h('tr', {},
      h('td', {}, str(r.alert ?? r.name)),
      h('td', {}, typeof r.target === 'string' ? h('a', { href: targetHref(r.target) }, r.target) : '–'),
      h('td', {}, str(r.agent)), h('td', {}, str(r.state ?? r.status ?? (typeof r.prevmatch === 'number' ? `${t('matching')} ×${r.prevmatch + 1}` : undefined))), h('td', {}, time(r.since ?? r.time ?? r.started)),
      h('td', {}, str(r.message ?? r.comment)))))));
}
