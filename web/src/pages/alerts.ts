import './alerts.css';
import { api, HttpError, type AlertsSummary } from '../api.ts';
import { autoRefresh, refreshSeconds, type Cleanup } from '../app.ts';
import { h, replace } from '../dom.ts';
import { t } from '../i18n.ts';
import { note } from '../layout.ts';
import { parseRoute } from '../route.ts';
import { tokenBar } from './alerts-admin.ts';
import { silenceForm, silenceList, statusLine } from './alerts-silences.ts';
import { activeTable, channelsTable, deliveriesTable, historyTable } from './alerts-tables.ts';

/**
 * The Alerts page: active alerts, channel health (failures highlighted), silences (create and
 * expire, with the admin token), the history of raised/cleared events and every delivery.
 * Data sections refresh every `?refresh=N` seconds (default 60); the form is left alone.
 */
export function alertsPage(main: HTMLElement): Cleanup {
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
  let live = true;
  let built = false;

  const load = async (): Promise<void> => {
    let summary: AlertsSummary;
    try {
      const [s, ev, dl, sl] = await Promise.all([api.alertsSummary(), api.alertHistory(100), api.alertDeliveries(100), api.silences()]);
      if (!live) return;
      summary = s;
      replace(active.content, activeTable(s));
      replace(channels.content, channelsTable(s.channels, dl));
      replace(listBox, silenceList(sl, expiryMsg, () => void load()));
      replace(history.content, historyTable(ev, sl));
      replace(deliveries.content, deliveriesTable(dl, ev));
    } catch (e) {
      if (!live) return;
      if (e instanceof HttpError && e.status === 404) replace(body, note(t('noAlerts')), note(t('alertsUnavailable')));
      else if (!built) replace(body, note(`${t('error')}: ${(e as Error).message}`, 'error'));
      body.dataset.state = 'ready';
      return;
    }
    if (!built) {
      built = true;
      replace(silences.content, tokenBar(), h('h3', {}, t('newSilence')),
        silenceForm(summary.rules.map((r) => r.name), () => void load()), listBox, expiryMsg);
      replace(body, active.el, channels.el, silences.el, history.el, deliveries.el);
    }
    body.dataset.state = 'ready';
    body.dataset.loaded = String(Date.now());
  };
  void load();
  const stop = autoRefresh(refreshSeconds(parseRoute(location.hash).params), load);
  return () => { live = false; stop(); };
}
