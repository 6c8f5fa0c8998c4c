import type { AlertsSummary, DeliveryListRow, EventRow, Silence } from '../api.ts';
import { h, type Child } from '../dom.ts';
import { fmtAgo, fmtDuration } from '../format.ts';
import { t, type Key } from '../i18n.ts';
import { note } from '../layout.ts';
import { targetHref } from '../route.ts';
import { fmtTime } from '../time.ts';

type ChannelRow = AlertsSummary['channels'][number];

/**
 * A table whose rows become cards on a phone: each cell carries its column's name
 * (`data-label`, shown before the value by CSS below 720 px), so nothing is cut off.
 */
function stackTable(cls: string, keys: Key[], rows: HTMLElement[]): HTMLElement {
  const labels = keys.map((k) => t(k));
  for (const tr of rows) Array.from(tr.children).forEach((td, i) => { if (labels[i]) td.setAttribute('data-label', labels[i]!); });
  return h('table', { class: `${cls} stack` }, h('thead', {}, h('tr', {}, labels.map((l) => h('th', {}, l)))), h('tbody', {}, rows));
}
const targetLink = (path: string) => h('a', { href: targetHref(path) }, path);
/** A coloured word for an event state, delivery status or attempt outcome. */
const chip = (kind: string, label: Key) => h('span', { class: `chip c-${kind}` }, t(label));

/**
 * Alerts currently matching: alert, target, agent, its state (raised for edge-triggered
 * alerts, firing for the others) and for how long, since, the rule's comment.
 */
export function activeTable(s: AlertsSummary): HTMLElement {
  if (!s.active.length) return note(t('noAlerts'));
  const comment = new Map(s.rules.map((r) => [r.name, r.comment]));
  const now = Date.now();
  return stackTable('alerts', ['alertName', 'target', 'agent', 'state', 'since', 'message'], s.active.map((a) =>
    h('tr', { 'data-target': a.target, 'data-alert': a.alert },
      h('td', {}, a.alert), h('td', { class: 'wrap' }, targetLink(a.target)), h('td', {}, a.agent),
      h('td', {}, a.edgetrigger ? chip('raised', 'ev_raised') : chip('firing', 'ev_firing'), ' ', h('span', { class: 'for' }, t('forDuration', { d: fmtDuration(now - a.since) }))),
      h('td', {}, fmtTime(a.since)),
      h('td', { class: 'wrap' }, comment.get(a.alert) || '–'))));
}

/** Channels: queue, last success, failed attempts, last error; a channel whose latest attempt failed is highlighted. */
export function channelsTable(channels: ChannelRow[]): HTMLElement {
  if (!channels.length) return note(t('noChannels'));
  return stackTable('channels', ['channel', 'kind', 'state', 'queued', 'lastOk', 'failedAttempts', 'lastError'], channels.map((c) => {
    const failing = c.last_error !== undefined && (c.last_ok === undefined || (c.last_outcome !== null && c.last_outcome !== 'sent'));
    return h('tr', { 'data-channel': c.name, class: failing ? 'failing' : '' },
      h('td', { class: 'wrap' }, c.name), h('td', {}, c.kind),
      h('td', {}, failing ? chip('failed', 'failing') : c.busy ? chip('pending', 'busy') : chip('sent', 'ok')),
      h('td', { class: 'num' }, c.queued), h('td', {}, c.last_ok ? fmtAgo(c.last_ok) : '–'),
      h('td', { class: 'num' }, c.failed_attempts), h('td', { class: c.last_error ? 'error wrap' : 'wrap' }, c.last_error ?? '–'));
  }));
}

/** Raised / cleared / firing events, newest first, with what muted them (a silence or priority). */
export function historyTable(events: EventRow[], silences: Silence[]): HTMLElement {
  if (!events.length) return note(t('noHistory'));
  const comment = new Map(silences.map((s) => [s.id, s.comment]));
  const muted = (e: EventRow): Child => {
    if (!e.muted_by) return '–';
    if (e.muted_by === 'priority') return t('priorityMuted');
    return h('span', { title: e.muted_by }, t('silencedBy', { c: comment.get(e.muted_by) || e.muted_by.slice(0, 8) }));
  };
  return stackTable('alert-history', ['time', 'state', 'alertName', 'target', 'agent', 'muted'], events.map((e) =>
    h('tr', { 'data-event': e.id, 'data-state': e.state, 'data-muted': e.muted_by ?? '' },
      h('td', {}, fmtTime(e.time)), h('td', {}, chip(e.state, `ev_${e.state}`)), h('td', {}, e.alert),
      h('td', { class: 'wrap' }, targetLink(e.target)), h('td', {}, e.agent), h('td', { class: 'wrap' }, muted(e)))));
}

/**
 * Deliveries, newest first: channel, status, attempts (with how many were retries), last
 * error, the event it carried and its attempt log folded.
 */
export function deliveriesTable(deliveries: DeliveryListRow[]): HTMLElement {
  if (!deliveries.length) return note(t('noDeliveries'));
  return stackTable('deliveries', ['time', 'channel', 'state', 'attempts', 'lastError', 'event'], deliveries.map((d) => {
    const e = d.event;
    const retries = d.attempt_log.filter((a) => a.outcome === 'retry').length;
    return h('tr', { 'data-delivery': d.id, 'data-channel': d.channel, 'data-status': d.status, 'data-retries': retries, class: d.status === 'failed' ? 'failing' : '' },
      h('td', {}, fmtTime(d.created)), h('td', { class: 'wrap' }, d.channel),
      h('td', {}, chip(d.status, `ds_${d.status}`), retries ? h('span', { class: 'retried' }, ' ', t('retried', { n: retries })) : null),
      h('td', { class: 'num' }, d.attempts),
      h('td', { class: d.last_error ? 'error wrap' : 'wrap' }, d.last_error ?? '–'),
      h('td', { class: 'wrap' }, e ? [`${e.alert} `, chip(e.state, `ev_${e.state}`), ' ', targetLink(e.target)] : d.event_id.slice(0, 8),
        d.attempt_log.length ? h('details', {}, h('summary', {}, t('attemptLog')), h('ol', { class: 'attempts' }, d.attempt_log.map((a) =>
          h('li', {}, `${fmtTime(a.time)} · `, chip(a.outcome === 'retry' ? 'pending' : a.outcome, `ao_${a.outcome}`), ` · ${a.duration_ms} ms`, a.error ? ` · ${a.error}` : '', a.note ? ` · ${a.note}` : '')))) : null));
  }));
}
