import { HttpError, type TreeNode } from './api.ts';
import { menuLabel, type App } from './app.ts';
import { h, type Child } from './dom.ts';
import { currentLang, setLang, t, type Lang } from './i18n.ts';
import { currentTheme, setTheme } from './prefs.ts';
import { pageHref, targetHref, type Route } from './route.ts';
import { tt } from './pages/tasks-i18n.ts';
import { localizeLabel } from './pages/localize-i18n.ts';
import { browserZone, setZoneChoice, zoneChoice, zoneOf, type ZoneChoice } from './time.ts';

/** The page frame: header (nav, search, language, time zone, theme), the tree menu and the main area. */
export function frame(app: App, route: Route, onPrefs: () => void): { root: HTMLElement; main: HTMLElement } {
  const main = h('main', { id: 'main', class: 'main' });
  const nav = (page: string, label: string, href: string) =>
    h('a', { href, class: route.page === page ? 'active' : '' }, label);
  const search = h('input', {
    type: 'search', name: 'q', placeholder: t('searchPlaceholder'), 'aria-label': t('search'),
    value: route.page === 'search' ? route.params.get('q') ?? '' : '',
  });
  const langSel = h('select', { 'aria-label': t('language'), id: 'lang' },
    h('option', { value: 'en' }, 'English'), h('option', { value: 'zh-CN' }, '简体中文'));
  langSel.value = currentLang();
  langSel.addEventListener('change', () => { setLang(langSel.value as Lang); onPrefs(); });
  const zoneSel = h('select', { 'aria-label': t('timeZone'), id: 'tz', title: t('timeZone') },
    (['browser', 'server', 'UTC'] as ZoneChoice[]).map((z) => h('option', { value: z },
      z === 'UTC' ? 'UTC' : `${t(z === 'browser' ? 'zoneBrowser' : 'zoneServer')} · ${z === 'browser' ? browserZone() : zoneOf('server')}`)));
  zoneSel.value = zoneChoice();
  zoneSel.addEventListener('change', () => { setZoneChoice(zoneSel.value as ZoneChoice); onPrefs(); });
  const themeBtn = h('button', { type: 'button', id: 'theme', title: t('theme') },
    currentTheme() === 'dark' ? '☀ ' + t('light') : '☾ ' + t('dark'));
  themeBtn.addEventListener('click', () => { setTheme(currentTheme() === 'dark' ? 'light' : 'dark'); onPrefs(); });
  const menuBtn = h('button', { type: 'button', class: 'menu-toggle', 'aria-label': t('menu') }, '☰');
  const side = h('nav', { class: 'side', 'aria-label': t('targets') }, treeMenu(app.tree, route.page === 't' || route.page === '' ? route.path : ''));
  menuBtn.addEventListener('click', () => side.classList.toggle('open'));

  const header = h('header', { class: 'top' },
    menuBtn,
    h('a', { class: 'brand', href: '#/' }, app.title),
    h('div', { class: 'nav' },
      nav('', t('overview'), '#/'), nav('charts', t('charts'), pageHref('charts')), nav('compare', t('compare'), pageHref('compare')),
      nav('agents', t('agents'), pageHref('agents')), nav('regions', t('regions'), pageHref('regions')), nav('localize', localizeLabel(), pageHref('localize')), nav('alerts', t('alerts'), pageHref('alerts')), nav('tasks', tt('tasks'), pageHref('tasks'))),
    h('form', {
      class: 'search', role: 'search',
      onsubmit: (e: Event) => { e.preventDefault(); location.hash = pageHref('search', { q: search.value.trim() }); },
    }, search),
    h('div', { class: 'prefs' }, langSel, zoneSel, themeBtn));
  const root = h('div', { class: 'layout' }, header, h('div', { class: 'body' }, side, main));
  return { root, main };
}

/** The target tree as nested lists; hidden nodes stay out, the branch of `current` is open. */
function treeMenu(node: TreeNode, current: string): HTMLElement {
  const item = (n: TreeNode): Child => {
    if (n.hidden) return null;
    const link = h('a', { href: targetHref(n.path), class: n.path === current ? 'current' : '', title: n.title }, n.menu);
    const kids = n.children.filter((c) => !c.hidden);
    if (!kids.length) return h('li', {}, link);
    const open = current === n.path || current.startsWith(n.path === '/' ? '/' : n.path + '/');
    return h('li', {}, h('details', { open }, h('summary', {}, link), h('ul', {}, kids.map(item))));
  };
  return h('ul', { class: 'tree' }, h('li', {}, h('a', { href: '#/', class: current === '/' ? 'current' : '' }, menuLabel(node))),
    node.children.map(item));
}

/** Breadcrumbs from the root to the node. */
export function breadcrumbs(nodes: { path: string; menu: string }[]): HTMLElement {
  return h('nav', { class: 'crumbs', 'aria-label': 'breadcrumbs' },
    nodes.map((n, i) => [i > 0 ? h('span', { class: 'sep' }, '›') : null,
      i === nodes.length - 1 ? h('span', {}, menuLabel(n)) : h('a', { href: n.path === '/' ? '#/' : targetHref(n.path) }, menuLabel(n))]));
}

/** A full-width message (loading, empty, error). */
export function note(text: string, kind: 'info' | 'error' = 'info'): HTMLElement {
  return h('p', { class: `note ${kind}` }, text);
}

/**
 * The message for a failed request: a server that wants a login (401) says so plainly,
 * everything else shows the server's own error.
 */
export function errorNote(e: unknown): HTMLElement {
  if (e instanceof HttpError && e.status === 401) {
    const el = note(t('authRequired'), 'error');
    el.classList.add('auth-required');
    return el;
  }
  return note(`${t('error')}: ${(e as Error).message}`, 'error');
}
