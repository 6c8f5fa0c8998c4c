import { api } from '../api.ts';
import type { App, Cleanup } from '../app.ts';
import { colorOf } from '../app.ts';
import { lossColor } from '../chart/palette.ts';
import { h, replace } from '../dom.ts';
import { fmtMs, fmtPct, fmtTime } from '../format.ts';
import { t, type Key } from '../i18n.ts';
import { note } from '../layout.ts';
import { pageHref, targetHref, type Route } from '../route.ts';

const METRICS: { id: string; label: Key }[] = [
  { id: 'loss', label: 'topLoss' }, { id: 'median', label: 'topMedian' }, { id: 'max', label: 'topMax' }, { id: 'stddev', label: 'topStddev' },
];

/** SmokePing's Charts page: top targets by loss, median, max and std dev (last round or last hour). */
export function chartsPage(main: HTMLElement, app: App, route: Route): Cleanup {
  const window = route.params.get('window') === '1h' ? '1h' : 'last';
  const tables = h('div', { class: 'top-tables', 'data-state': 'loading' });
  replace(main, h('h1', {}, t('charts')),
    h('div', { class: 'tabs' },
      h('a', { href: pageHref('charts'), class: window === 'last' ? 'active' : '' }, t('lastRound')),
      h('a', { href: pageHref('charts', { window: '1h' }), class: window === '1h' ? 'active' : '' }, t('lastHour'))),
    tables);
  let live = true;
  void Promise.all(METRICS.map(async (m) => {
    const section = h('section', { class: 'top', 'data-metric': m.id }, h('h2', {}, t(m.label)), note(t('loading')));
    tables.append(section);
    try {
      const { rows } = await api.top(m.id, window, 10);
      if (!live) return;
      section.lastChild?.remove();
      if (!rows.length) { section.append(note(t('noData'))); return; }
      section.append(h('table', {},
        h('thead', {}, h('tr', {}, h('th', {}, t('target')), h('th', {}, t('agent')), h('th', {}, t('value')), h('th', {}, t('median')), h('th', {}, t('loss')), h('th', {}, t('time')))),
        h('tbody', {}, rows.map((r) => h('tr', {},
          h('td', {}, h('a', { href: targetHref(r.target) }, r.target)),
          h('td', {}, h('i', { class: 'swatch', style: `background:${colorOf(app, r.agent)}` }), r.agent),
          h('td', { class: 'num' }, m.id === 'loss' ? fmtPct(r.value) : fmtMs(r.value)),
          h('td', { class: 'num' }, fmtMs(r.median)),
          h('td', { class: 'num' }, h('span', { class: 'loss-chip', style: `background:${lossColor(r.loss_pct)}` }, fmtPct(r.loss_pct))),
          h('td', {}, fmtTime(r.time)))))));
    } catch (e) {
      section.lastChild?.remove();
      section.append(note(`${t('error')}: ${(e as Error).message}`, 'error'));
    }
  })).then(() => { tables.dataset.state = 'ready'; });
  return () => { live = false; };
}
