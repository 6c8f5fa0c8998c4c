import { validate } from '../config/validate.ts';
import {
  AttemptsOutputSchema, DnsTaskOutputSchema, HttpTaskOutputSchema, MtrReportSchema, TracerouteReportSchema,
  type AttemptsOutput, type DnsTaskOutput, type HttpTaskOutput, type MtrReport, type TracerouteReport,
} from './outputs.ts';
import type { AgentResult } from './record.ts';

/**
 * One agent's result as terminal text (the CLI): a heading with the status, then the kind's
 * own table: mtr's hop table, traceroute's hop lines, ping/tcp figures, dig-like DNS, HTTP
 * phases. Outputs that do not fit their kind's schema are shown as JSON.
 */
export function formatResult(kind: string, r: AgentResult): string {
  const took = r.started !== undefined && r.finished !== undefined ? ` in ${((r.finished - r.started) / 1000).toFixed(1)} s` : '';
  const lines = [`== ${r.agent}: ${r.status}${took}${r.summary ? ` — ${r.summary}` : ''}`];
  if (r.error) lines.push(`   error: ${r.error}`);
  if (r.output !== undefined) lines.push(...body(kind, r.output));
  return lines.join('\n') + '\n';
}

function fits<T>(schema: Parameters<typeof validate>[0], v: unknown): v is T {
  return validate(schema, v).length === 0;
}

function body(kind: string, out: unknown): string[] {
  if (kind === 'mtr' && fits<MtrReport>(MtrReportSchema, out)) return mtrTable(out);
  if (kind === 'traceroute' && fits<TracerouteReport>(TracerouteReportSchema, out)) return tracerouteLines(out);
  if ((kind === 'ping' || kind === 'tcp') && fits<AttemptsOutput>(AttemptsOutputSchema, out)) return attempts(out);
  if (kind === 'dns' && fits<DnsTaskOutput>(DnsTaskOutputSchema, out)) return dns(out);
  if (kind === 'http' && fits<HttpTaskOutput>(HttpTaskOutputSchema, out)) return http(out);
  return [JSON.stringify(out)];
}

const ms = (v: number | null) => (v === null ? '-' : v.toFixed(3));

/** mtr's report table: one line per hop, with the AS number when mtr gave one. */
export function mtrTable(r: MtrReport): string[] {
  const width = Math.max(4, ...r.hops.map((h) => (h.host ?? '???').length + (h.asn ? h.asn.length + 1 : 0)));
  const row = (c: string[]) => c.map((x, i) => (i === 1 ? x.padEnd(width) : x.padStart(i === 0 ? 4 : 8))).join(' ');
  return [
    row(['hop', 'host', 'loss%', 'sent', 'last', 'avg', 'best', 'worst', 'stdev']),
    ...r.hops.map((h) => row([String(h.hop), `${h.asn ? h.asn + ' ' : ''}${h.host ?? '???'}`, h.loss_pct.toFixed(1), String(h.sent),
      ms(h.last), ms(h.avg), ms(h.best), ms(h.worst), ms(h.stdev)])),
  ];
}

function tracerouteLines(r: TracerouteReport): string[] {
  return r.hops.map((h) => {
    let addr: string | undefined;
    const parts = h.probes.map((p) => {
      if (!p) return '*';
      const shown = p.address === addr ? '' : `${p.address}  `;
      addr = p.address;
      return `${shown}${p.rtt_ms.toFixed(3)} ms${p.note ? ` ${p.note}` : ''}`;
    });
    return `${String(h.hop).padStart(3)}  ${parts.join('  ')}`;
  });
}

function attempts(o: AttemptsOutput): string[] {
  const lines = [`   ${o.sent} sent, ${o.received} received, ${o.loss_pct}% loss; min ${ms(o.min_ms)}, median ${ms(o.median_ms)}, mean ${ms(o.mean_ms)}, max ${ms(o.max_ms)}, stddev ${ms(o.stddev_ms)} ms`];
  if (o.rtts_ms.length) lines.push(`   rtts: ${o.rtts_ms.map((v) => v.toFixed(3)).join(' ')} ms`);
  if (o.error) lines.push(`   last error: ${o.error}`);
  return lines;
}

function dns(o: DnsTaskOutput): string[] {
  return [
    `   ${o.server}/${o.transport}: ${o.rcode}, flags ${o.flags.join(' ') || '-'}, ${o.time_ms.toFixed(3)} ms`,
    ...(o.answers.length ? [';; ANSWER', ...o.answers] : []),
    ...(o.authorities.length ? [';; AUTHORITY', ...o.authorities] : []),
    ...(o.additionals.length ? [';; ADDITIONAL', ...o.additionals] : []),
  ];
}

function http(o: HttpTaskOutput): string[] {
  const lines = [`   ${o.url}: ${o.status ?? 'no answer'}${o.total_ms !== null ? `, ${o.total_ms.toFixed(3)} ms` : ''}`];
  if (o.phases_ms) lines.push('   phases (ms): ' + Object.entries(o.phases_ms).map(([k, v]) => `${k} ${v.toFixed(3)}`).join(', '));
  if (o.cert_expiry) lines.push(`   certificate expires ${o.cert_expiry}`);
  return lines;
}
