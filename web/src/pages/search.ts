import { api } from '../api.ts';
import type { Cleanup } from '../app.ts';
import { h, replace } from '../dom.ts';
import { t } from '../i18n.ts';
import { note } from '../layout.ts';
import { targetHref, type Route } from '../route.ts';

/** Search results by name, host, title or label. */
export function searchPage(main: HTMLElement, route: Route): Cleanup {
  const q = route.params.get('q') ?? '';
  const body = h('div', { 'data-state': 'loading' });
  replace(main, h('h1', {}, `${t('search')}: `, h('q', {}, q)), body);
  if (!q) { body.dataset.state = 'ready'; return () => {}; }
  let live = true;
  api.search(q).then(({ results }) => {
    if (!live) return;
    if (!results.length) replace(body, note(t('noResults')));
    else replace(body, h('ul', { class: 'results' }, results.map((r) => h('li', {},
      h('a', { href: targetHref(r.path) }, r.title), ' ', h('span', { class: 'host' }, r.path),
      r.host ? h('span', { class: 'host' }, ` · ${r.host}`) : null,
      Object.entries(r.labels).map(([k, v]) => h('span', { class: 'label' }, `${k}=${v}`))))));
    body.dataset.state = 'ready';
  }).catch((e: Error) => replace(body, note(`${t('error')}: ${e.message}`, 'error')));
  return () => { live = false; };
}
