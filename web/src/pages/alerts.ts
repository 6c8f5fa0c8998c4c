import './alerts.css';
import { api, HttpError, type AlertsSummary, type TreeNode } from '../api.ts';
import { autoRefresh, refreshSeconds, type App, type Cleanup } from '../app.ts';
import { h, replace } from '../dom.ts';
import { t } from '../i18n.ts';
import { errorNote, note } from '../layout.ts';
import type { Route } from '../route.ts';
import { tokenBar } from './alerts-admin.ts';
import { filterForm, listState, pager, type Field } from './alerts-filters.ts';
import { silenceForm, silenceList, statusLine } from './alerts-silences.ts';
import { activeTable, channelsTable, deliveriesTable, historyTable } from './alerts-tables.ts';

/**
 * The Alerts page: active alerts, channel health (failures highlighted), silences (create and
 * expire, with the admin token), the history of raised/cleared events and every delivery, both
 * filtered and paged by the server (filters and page in the URL).
 * Data sections refresh every `?refresh=N` seconds (default 60); the forms are left alone.
 */
export function alertsPage(main: HTMLElement, app: App, route: Route): Cleanup {
  const params = route.params;
  const body = h('div', { class: 'alerts-page', 'data-state': 'loading' }, note(t('loading')));
  replace(main, h('h1', {}, t('alerts')), body);
  const section = (cls: string, title: string) => {
    const content = h('div', { class: 'content' });
    return { el: h('section', { class: `alert-section ${cls}` }, h('h2', {}, title), content), content };
  };
  const active = section('active', t('activeAlerts'));
  const channels = section('channel-status', t('channels'));
  const silences = section('silence-section', t('silences'));
  const history = section('history', t('history'));
  const deliveries = section('delivery-section', t('deliveries'));
  const expiryMsg = statusLine();
  const listBox = h('div', {});
  const historyBox = h('div', {});
  const historyPager = h('div', {});
  const deliveryBox = h('div', {});
  const deliveryPager = h('div', {});
  let live = true;
  let built = false;
  const paths: string[] = [];
  const walk = (n: TreeNode) => { if (n.path !== '/') paths.push(n.path); n.children.forEach(walk); };
  walk(app.tree);

  const load = async (): Promise<void> => {
    let summary: AlertsSummary;
    const fields = (s: AlertsSummary) => listFields(s, paths);
    try {
      const s = await api.alertsSummary();
      const f = fields(s);
      const [ev, dl, sl] = await Promise.all([
        api.alertHistory(listState(params, 'h', f.history).query), api.alertDeliveries(listState(params, 'd', f.deliveries).query), api.silences()]);
      if (!live) return;
      summary = s;
      replace(active.content, activeTable(s));
      replace(channels.content, channelsTable(s.channels));
      replace(listBox, silenceList(sl, expiryMsg, () => void load()));
      replace(historyBox, historyTable(ev.rows, sl));
      replace(historyPager, pager(params, 'h', f.history, ev.total));
      replace(deliveryBox, deliveriesTable(dl.rows));
      replace(deliveryPager, pager(params, 'd', f.deliveries, dl.total));
    } catch (e) {
      if (!live) return;
      if (e instanceof HttpError && e.status === 404) replace(body, note(t('noAlerts')), note(t('alertsUnavailable')));
      else if (!built) replace(body, errorNote(e));
      body.dataset.state = 'ready';
      return;
    }
    if (!built) {
      built = true;
      const f = fields(summary);
      replace(silences.content, tokenBar(), h('h3', {}, t('newSilence')),
        silenceForm(summary.rules.map((r) => r.name), () => void load()), listBox, expiryMsg);
      replace(history.content, filterForm(params, 'h', f.history), historyPager, historyBox);
      replace(deliveries.content, filterForm(params, 'd', f.deliveries), deliveryPager, deliveryBox);
      replace(body, active.el, channels.el, silences.el, history.el, deliveries.el);
    }
    body.dataset.state = 'ready';
    body.dataset.loaded = String(Date.now());
  };
  void load();
  const stop = autoRefresh(refreshSeconds(params), load);
  return () => { live = false; stop(); };
}

/** The filters of the history and of the deliveries (the API's query parameters). */
function listFields(s: AlertsSummary, paths: string[]): { history: Field[]; deliveries: Field[] } {
  const alerts = s.rules.map((r) => ({ value: r.name, label: r.name }));
  const common: Field[] = [
    { name: 'target', label: 'target', kind: 'text', suggestions: paths },
    { name: 'alert', label: 'alertName', kind: 'select', options: alerts },
  ];
  const time: Field[] = [{ name: 'from', label: 'from', kind: 'time' }, { name: 'to', label: 'to', kind: 'time' }];
  return {
    history: [...common, { name: 'agent', label: 'agent', kind: 'text' },
      { name: 'state', label: 'state', kind: 'select', options: ['raised', 'cleared', 'firing'].map((x) => ({ value: x, label: t(`ev_${x}` as 'ev_raised') })) }, ...time],
    deliveries: [{ name: 'channel', label: 'channel', kind: 'select', options: s.channels.map((c) => ({ value: c.name, label: c.name })) },
      { name: 'status', label: 'state', kind: 'select', options: ['pending', 'sent', 'failed', 'silenced', 'suppressed'].map((x) => ({ value: x, label: t(`ds_${x}` as 'ds_sent') })) },
      ...common, ...time],
  };
}
