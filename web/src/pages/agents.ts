import { api } from '../api.ts';
import { colorOf, type App, type Cleanup } from '../app.ts';
import { h, replace } from '../dom.ts';
import { fmtAgo } from '../format.ts';
import { t } from '../i18n.ts';
import { note } from '../layout.ts';

/** Every agent: name, region, addresses, version, last seen, alive. */
export function agentsPage(main: HTMLElement, app: App): Cleanup {
  const body = h('div', { 'data-state': 'loading' }, note(t('loading')));
  replace(main, h('h1', {}, t('agents')), body);
  let live = true;
  api.agents().then(({ agents }) => {
    if (!live) return;
    app.agents = agents;
    replace(body, h('div', { class: 'scroll' }, h('table', { class: 'agents' },
      h('thead', {}, h('tr', {}, h('th', {}, t('agent')), h('th', {}, t('region')), h('th', {}, t('address')),
        h('th', {}, t('version')), h('th', {}, t('lastSeen')), h('th', {}, t('alive')))),
      h('tbody', {}, agents.map((a) => h('tr', { 'data-agent': a.name },
        h('td', {}, h('i', { class: 'swatch', style: `background:${colorOf(app, a.name)}` }), a.display_name ?? a.name,
          a.location ? h('span', { class: 'host' }, ` ${a.location}`) : null),
        h('td', {}, a.region), h('td', {}, a.addresses.join(', ')), h('td', {}, a.version ?? '–'),
        h('td', {}, fmtAgo(a.last_seen)),
        h('td', {}, h('span', { class: a.alive ? 'dot up' : 'dot down' }), a.alive ? t('yes') : t('no'))))))));
    body.dataset.state = 'ready';
  }).catch((e: Error) => { replace(body, note(`${t('error')}: ${e.message}`, 'error')); });
  return () => { live = false; };
}
