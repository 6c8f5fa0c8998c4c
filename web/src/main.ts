import 'uplot/dist/uPlot.min.css';
import './style.css';
import { api, HttpError } from './api.ts';
import { findTreeNode, refreshSeconds, type App, type Cleanup } from './app.ts';
import { replace } from './dom.ts';
import { currentLang, setLang, t } from './i18n.ts';
import { errorNote, frame, note } from './layout.ts';
import { agentsPage } from './pages/agents.ts';
import { alertsPage } from './pages/alerts.ts';
import { chartsPage } from './pages/charts.ts';
import { comparePage } from './pages/compare.ts';
import { detailPage } from './pages/detail.ts';
import { dropPrefetch, overviewPage, overviewPageNumber, prefetchOverview } from './pages/overview.ts';
import { localizePage } from './pages/localize.ts';
import { regionsPage } from './pages/regions.ts';
import { searchPage } from './pages/search.ts';
import { tasksPage } from './pages/tasks.ts';
import { applyTheme } from './prefs.ts';
import { parseRoute, targetHref } from './route.ts';
import { setZoneDefaults } from './time.ts';

/**
 * Boot: load the tree and the agents once, then render the page the URL names; every
 * navigation (hash change, language or theme switch) re-renders from the URL.
 */
const root = document.getElementById('app')!;
let cleanup: Cleanup = () => {};
let app: App | undefined;
let renderSeq = 0;

applyTheme();
setLang(currentLang());
openLinkedTarget();

/**
 * Links in alerts (webhooks, mail, chat) and SmokePing's own links point at `/?target=<path>`
 * (SmokePing: `?target=Group.Host`): open that target's page, keeping the URL in the app's form.
 */
function openLinkedTarget(): void {
  const q = new URLSearchParams(location.search);
  const target = q.get('target');
  if (!target) return;
  const path = target.includes('/') ? target : '/' + target.split('.').join('/');
  history.replaceState(null, '', location.pathname + targetHref(path));
}

async function boot(): Promise<void> {
  replace(root, note(t('loading')));
  const treeP = api.tree();
  const agentsP = api.agents().catch(() => ({ agents: [] }));
  // A group's overview is the usual landing page: fetch its series alongside the tree
  // (asked last, so that the server answers the quick tree first).
  const first = parseRoute(location.hash);
  if (first.page === '' || first.page === 't') prefetchOverview(first.path, overviewPageNumber(first.params));
  try {
    const [tree, agents] = await Promise.all([treeP, agentsP]);
    app = { title: tree.title, tree: tree.root, agents: agents.agents, presentation: tree.presentation };
    setZoneDefaults(tree.presentation.server_time_zone, tree.presentation.time_zone);
    performance.mark('app:tree');
    document.title = tree.title;
  } catch (e) {
    replace(root, errorNote(e));
    return;
  }
  window.addEventListener('hashchange', () => void render());
  await render();
}

async function render(): Promise<void> {
  if (!app) return;
  const seq = ++renderSeq;
  cleanup();
  cleanup = () => {};
  const route = parseRoute(location.hash);
  const { root: layout, main } = frame(app, route, () => void render());
  replace(root, layout);
  main.dataset.page = route.page || 'overview';
  switch (route.page) {
    case 'charts': cleanup = chartsPage(main, app, route); return;
    case 'compare': cleanup = comparePage(main, app, route); return;
    case 'agents': cleanup = agentsPage(main, app); return;
    case 'alerts': cleanup = alertsPage(main, app, route); return;
    case 'search': cleanup = searchPage(main, route); return;
    case 'regions': cleanup = regionsPage(main, route); return;
    case 'tasks': cleanup = tasksPage(main, app, route); return;
    case 'localize': cleanup = localizePage(main, route); return;
    case '': case 't': break;
    default: replace(main, note(t('notFound'), 'error')); return;
  }
  const node = findTreeNode(app.tree, route.path);
  if (!node) {
    replace(main, note(`${t('notFound')}: ${route.path}`, 'error'));
    return;
  }
  if (!node.probe) {
    cleanup = overviewPage(main, app, node, refreshSeconds(route.params), route.params);
    return;
  }
  dropPrefetch();
  replace(main, note(t('loading')));
  try {
    const detail = await api.target(node.path);
    if (seq !== renderSeq) return;
    cleanup = detailPage(main, app, detail, route);
  } catch (e) {
    if (seq !== renderSeq) return;
    replace(main, e instanceof HttpError && e.status === 404 ? note(`${t('notFound')}: ${route.path}`, 'error') : errorNote(e));
  }
}

// Keep the charts' width in step with the window (phones rotate, side panels open); a change
// of height alone (a browser bar appearing) leaves the page as it is.
let resizeTimer = 0;
let lastWidth = window.innerWidth;
window.addEventListener('resize', () => {
  clearTimeout(resizeTimer);
  resizeTimer = window.setTimeout(() => {
    if (window.innerWidth === lastWidth) return;
    lastWidth = window.innerWidth;
    void render();
  }, 250);
});

void boot();
