import type { AlertsSummary, AttemptRow, DeliveryRow, EventRow, Silence } from '../api.ts';
import { h } from '../dom.ts';
import { fmtAgo, fmtTime } from '../format.ts';
import { t, type Key } from '../i18n.ts';
import { note } from '../layout.ts';
import { targetHref } from '../route.ts';

type Delivery = DeliveryRow & { attempt_log: AttemptRow[] };
type ChannelRow = AlertsSummary['channels'][number];

const th = (...keys: Key[]) => h('thead', {}, h('tr', {}, keys.map((k) => h('th', {}, t(k)))));
const scroll = (table: HTMLElement) => h('div', { class: 'scroll' }, table);
const targetLink = (path: string) => h('a', { href: targetHref(path) }, path);
/** A coloured word for an event state, delivery status or attempt outcome. */
const chip = (kind: string, label: Key) => h('span', { class: `chip c-${kind}` }, t(label));

/** Alerts currently matching: alert, target, agent, rounds matching, since, the rule's comment. */
export function activeTable(s: AlertsSummary): HTMLElement {
  if (!s.active.length) return note(t('noAlerts'));
  const comment = new Map(s.rules.map((r) => [r.name, r.comment]));
  return scroll(h('table', { class: 'alerts' }, th('alertName', 'target', 'agent', 'state', 'since', 'message'),
    h('tbody', {}, s.active.map((a) => h('tr', { 'data-target': a.target, 'data-alert': a.alert },
      h('td', {}, a.alert), h('td', {}, targetLink(a.target)), h('td', {}, a.agent),
      h('td', {}, `${t('matching')} ×${a.prevmatch}`), h('td', {}, fmtTime(a.since)),
      h('td', { class: 'wrap' }, comment.get(a.alert) || '–'))))));
}

/**
 * The newest outcome among loaded attempts of each channel: a channel whose last attempt
 * failed is "failing" even if it once delivered (the dispatcher keeps its last error forever).
 */
export function lastOutcomes(deliveries: Delivery[]): Map<string, AttemptRow> {
  const out = new Map<string, AttemptRow>();
  for (const d of deliveries) {
    for (const a of d.attempt_log) {
      const prev = out.get(d.channel);
      if (!prev || a.time >= prev.time) out.set(d.channel, a);
    }
  }
  return out;
}

/** Channels: queue, last success, failed attempts, last error; failing channels highlighted. */
export function channelsTable(channels: ChannelRow[], deliveries: Delivery[]): HTMLElement {
  if (!channels.length) return note(t('noChannels'));
  const last = lastOutcomes(deliveries);
  return scroll(h('table', { class: 'channels' }, th('channel', 'kind', 'state', 'queued', 'lastOk', 'failedAttempts', 'lastError'),
    h('tbody', {}, channels.map((c) => {
      const lastOutcome = last.get(c.name)?.outcome;
      const failing = c.last_error !== undefined && (c.last_ok === undefined || (lastOutcome !== undefined && lastOutcome !== 'sent'));
      return h('tr', { 'data-channel': c.name, class: failing ? 'failing' : '' },
        h('td', { class: 'wrap' }, c.name), h('td', {}, c.kind),
        h('td', {}, failing ? chip('failed', 'failing') : c.busy ? chip('pending', 'busy') : chip('sent', 'ok')),
        h('td', { class: 'num' }, c.queued), h('td', {}, c.last_ok ? fmtAgo(c.last_ok) : '–'),
        h('td', { class: 'num' }, c.failed_attempts), h('td', { class: c.last_error ? 'error wrap' : '' }, c.last_error ?? '–'));
    }))));
}

/** Raised / cleared / firing events, newest first, with what muted them (a silence or priority). */
export function historyTable(events: EventRow[], silences: Silence[]): HTMLElement {
  if (!events.length) return note(t('noHistory'));
  const comment = new Map(silences.map((s) => [s.id, s.comment]));
  const muted = (e: EventRow) => {
    if (!e.muted_by) return '–';
    if (e.muted_by === 'priority') return t('priorityMuted');
    return h('span', { title: e.muted_by }, t('silencedBy', { c: comment.get(e.muted_by) || e.muted_by.slice(0, 8) }));
  };
  return scroll(h('table', { class: 'alert-history' }, th('time', 'state', 'alertName', 'target', 'agent', 'muted'),
    h('tbody', {}, events.map((e) => h('tr', { 'data-event': e.id, 'data-state': e.state, 'data-muted': e.muted_by ?? '' },
      h('td', {}, fmtTime(e.time)), h('td', {}, chip(e.state, `ev_${e.state}`)), h('td', {}, e.alert),
      h('td', {}, targetLink(e.target)), h('td', {}, e.agent), h('td', { class: 'wrap' }, muted(e)))))));
}

/**
 * Every delivery, newest first: channel, status, attempts (with how many were retries), last
 * error, the event it carried (from the loaded history) and its attempt log folded.
 */
export function deliveriesTable(deliveries: Delivery[], events: EventRow[]): HTMLElement {
  if (!deliveries.length) return note(t('noDeliveries'));
  const byId = new Map(events.map((e) => [e.id, e]));
  return scroll(h('table', { class: 'deliveries' }, th('time', 'channel', 'state', 'attempts', 'lastError', 'event'),
    h('tbody', {}, deliveries.map((d) => {
      const e = byId.get(d.event_id);
      const retries = d.attempt_log.filter((a) => a.outcome === 'retry').length;
      return h('tr', { 'data-delivery': d.id, 'data-channel': d.channel, 'data-status': d.status, 'data-retries': retries, class: d.status === 'failed' ? 'failing' : '' },
        h('td', {}, fmtTime(d.created)), h('td', { class: 'wrap' }, d.channel),
        h('td', {}, chip(d.status, `ds_${d.status}`), retries ? h('span', { class: 'retried' }, ' ', t('retried', { n: retries })) : null),
        h('td', { class: 'num' }, d.attempts),
        h('td', { class: d.last_error ? 'error wrap' : '' }, d.last_error ?? '–'),
        h('td', { class: 'wrap' }, e ? [`${e.alert} `, chip(e.state, `ev_${e.state}`), ' ', targetLink(e.target)] : d.event_id.slice(0, 8),
          d.attempt_log.length ? h('details', {}, h('summary', {}, t('attemptLog')), h('ol', { class: 'attempts' }, d.attempt_log.map((a) =>
            h('li', {}, `${fmtTime(a.time)} · `, chip(a.outcome === 'retry' ? 'pending' : a.outcome, `ao_${a.outcome}`), ` · ${a.duration_ms} ms`, a.error ? ` · ${a.error}` : '')))) : null));
    }))));
}
