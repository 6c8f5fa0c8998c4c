import type { AgentResult } from '../../../src/tasks/record.ts';
import { lossColor } from '../chart/palette.ts';
import { h, type Child } from '../dom.ts';
import { fmtTime } from '../time.ts';
import type { AttemptsOutput, DnsTaskOutput, HttpTaskOutput, MtrReport, TaskRecord, TracerouteReport } from './tasks-api.ts';
import { tt } from './tasks-i18n.ts';

/** The results of a task side by side: one card per agent, the kind's own table in each. */
export function resultCards(rec: TaskRecord): HTMLElement {
  return h('div', { class: 'task-results' }, rec.results.map((r) => resultCard(rec.kind, r)));
}

function resultCard(kind: string, r: AgentResult): HTMLElement {
  const took = r.started !== undefined && r.finished !== undefined ? ` · ${((r.finished - r.started) / 1000).toFixed(1)} s` : '';
  return h('section', { class: 'task-result', 'data-agent': r.agent, 'data-status': r.status },
    h('header', {}, h('strong', {}, r.agent), ' ', h('span', { class: `chip t-${r.status}` }, r.status), h('span', { class: 'host' }, took)),
    r.summary ? h('p', { class: 'task-summary' }, r.summary) : null,
    r.error ? h('p', { class: 'task-error' }, r.error) : null,
    r.status === 'queued' || r.status === 'running' ? h('p', { class: 'note' }, tt('waiting')) : null,
    r.output === undefined ? null : output(kind, r.output));
}

function output(kind: string, out: unknown): Child {
  const o = out as Record<string, unknown>;
  if (kind === 'mtr' && Array.isArray(o.hops)) return mtrTable(out as MtrReport);
  if (kind === 'traceroute' && Array.isArray(o.hops)) return tracerouteTable(out as TracerouteReport);
  if ((kind === 'ping' || kind === 'tcp') && typeof o.sent === 'number') return attempts(out as AttemptsOutput);
  if (kind === 'dns' && typeof o.rcode === 'string') return dns(out as DnsTaskOutput);
  if (kind === 'http' && typeof o.url === 'string') return http(out as HttpTaskOutput);
  return h('pre', {}, JSON.stringify(out, null, 2));
}

const ms = (v: number | null | undefined) => (v === null || v === undefined ? '–' : v.toFixed(3));
const num = (v: Child) => h('td', { class: 'num' }, v);

/** mtr's hop table: loss, sent, last, avg, best, worst, stdev per hop; the host with its AS number when given. */
export function mtrTable(r: MtrReport): HTMLElement {
  return h('div', { class: 'scroll' }, h('table', { class: 'hops' },
    h('thead', {}, h('tr', {}, [tt('hop'), tt('host'), tt('lossPct'), tt('sent'), tt('last'), tt('avg'), tt('best'), tt('worst'), tt('stdev')].map((c) => h('th', {}, c)))),
    h('tbody', {}, r.hops.map((hop) => h('tr', { 'data-hop': hop.hop },
      num(hop.hop),
      h('td', { class: hop.host ? '' : 'muted' }, hop.asn ? h('span', { class: 'asn' }, hop.asn, ' ') : null, hop.host ?? '???'),
      h('td', { class: 'num' }, h('span', { class: 'loss-chip', style: `background:${lossColor(hop.loss_pct, hop.sent)}` }, hop.loss_pct.toFixed(1))),
      num(hop.sent), num(ms(hop.last)), num(ms(hop.avg)), num(ms(hop.best)), num(ms(hop.worst)), num(ms(hop.stdev)))))));
}

function tracerouteTable(r: TracerouteReport): HTMLElement {
  return h('div', { class: 'scroll' }, h('table', { class: 'hops' },
    h('thead', {}, h('tr', {}, h('th', {}, tt('hop')), h('th', {}, tt('host')), h('th', {}, tt('probes')))),
    h('tbody', {}, r.hops.map((hop) => h('tr', { 'data-hop': hop.hop },
      num(hop.hop),
      h('td', { class: hop.addresses.length ? '' : 'muted' }, hop.addresses.join(' / ') || '*'),
      h('td', {}, hop.probes.map((p) => (p ? `${p.rtt_ms.toFixed(3)}${p.note ? ' ' + p.note : ''}` : '*')).join('  ')))))));
}

function attempts(o: AttemptsOutput): HTMLElement {
  return h('div', {},
    h('p', { class: 'figures' },
      h('span', { class: 'loss-chip', style: `background:${lossColor(o.loss_pct, o.sent)}` }, `${o.loss_pct}%`),
      ` ${o.received}/${o.sent} · min ${ms(o.min_ms)} · median ${ms(o.median_ms)} · max ${ms(o.max_ms)} · σ ${ms(o.stddev_ms)} ms`),
    o.rtts_ms.length ? h('p', { class: 'host' }, o.rtts_ms.map((v) => v.toFixed(3)).join(' ')) : null,
    o.error ? h('p', { class: 'task-error' }, o.error) : null);
}

function dns(o: DnsTaskOutput): HTMLElement {
  return h('div', {},
    h('p', {}, `${o.server}/${o.transport} · ${o.rcode} · ${o.flags.join(' ') || '–'} · ${o.time_ms.toFixed(3)} ms`),
    h('pre', { class: 'rrs' }, [...o.answers, ...o.authorities, ...o.additionals].join('\n') || '(no records)'));
}

function http(o: HttpTaskOutput): HTMLElement {
  return h('div', {},
    h('p', {}, `${o.status ?? '–'} · ${ms(o.total_ms)} ms`, o.cert_expiry ? ` · cert ${fmtTime(Date.parse(o.cert_expiry))}` : ''),
    o.phases_ms ? h('table', { class: 'hops' }, h('tbody', {}, Object.entries(o.phases_ms).map(([k, v]) => h('tr', {}, h('th', {}, k), num(ms(v)))))) : null);
}
