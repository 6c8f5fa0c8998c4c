import { isIP } from 'node:net';
import { validate } from '../config/validate.ts';
import { MtrReportSchema, TracerouteReportSchema, type MtrReport, type TracerouteReport } from './outputs.ts';

/**
 * What a path trace says, whichever tool traced it: one plain view of the hops, a verdict in
 * a network engineer's words ("loss starts at hop 4, 10.0.3.1"), and what changed between two
 * traces ("path changed at hop 3"). Pure functions over plain data.
 */

/** One hop as both tools see it. */
export interface PathHop {
  hop: number;
  /** Addresses that answered; empty when nothing did. */
  hosts: string[];
  sent: number;
  loss_pct: number;
  avg_ms: number | null;
  worst_ms: number | null;
}

/** The hops of an mtr report. */
export function hopsOfMtr(r: MtrReport): PathHop[] {
  return r.hops.map((h) => ({ hop: h.hop, hosts: h.host ? [h.host] : [], sent: h.sent, loss_pct: h.loss_pct, avg_ms: h.avg, worst_ms: h.worst }));
}

/** The hops of a traceroute run: loss = share of its probes without an answer. */
export function hopsOfTraceroute(r: TracerouteReport): PathHop[] {
  return r.hops.map((h) => {
    const rtts = h.probes.flatMap((p) => (p ? [p.rtt_ms] : []));
    const sent = h.probes.length;
    return {
      hop: h.hop, hosts: h.addresses, sent,
      loss_pct: sent ? Math.round((1000 * (sent - rtts.length)) / sent) / 10 : 100,
      avg_ms: rtts.length ? Math.round((1000 * rtts.reduce((a, b) => a + b, 0)) / rtts.length) / 1000 : null,
      worst_ms: rtts.length ? Math.max(...rtts) : null,
    };
  });
}

/** The verdict on one trace. */
export interface PathVerdict {
  /** Whether the last hop is the destination (an address the trace was sent to). */
  reached: boolean;
  hops: number;
  /** Loss at the last hop. */
  loss_pct: number;
  /** The first hop of the lossy stretch that reaches the destination; undefined when there is no loss. */
  loss_from?: { hop: number; host: string };
  /** Hops with loss that does not carry on to the next answering hops: ICMP rate limits, not path loss. */
  rate_limited: { hop: number; host: string; loss_pct: number }[];
  /** Hops where nothing answered. */
  silent: number[];
  /** Last hop that answered (for an unreached destination). */
  last?: { hop: number; host: string };
}

const hostOf = (h: PathHop) => h.hosts.join(' / ');

/**
 * Judges a trace. Loss "starts" at the first answering hop from which every answering hop to
 * the end loses probes: routers answer TTL expiry from their control plane and rate-limit it,
 * so loss at a middle hop that later hops do not show is not loss on the path.
 */
export function judgePath(hops: readonly PathHop[], destination: string): PathVerdict {
  const answered = hops.filter((h) => h.hosts.length > 0);
  const last = hops[hops.length - 1];
  const bare = destination.replace(/^\[|\]$/g, '');
  const reached = !!last && last.hosts.length > 0 && last.loss_pct < 100 && (!isIP(bare) || last.hosts.includes(bare));
  const v: PathVerdict = {
    reached, hops: hops.length, loss_pct: last?.loss_pct ?? 100,
    rate_limited: [], silent: hops.filter((h) => h.hosts.length === 0).map((h) => h.hop),
  };
  const lastAnswered = answered[answered.length - 1];
  if (lastAnswered) v.last = { hop: lastAnswered.hop, host: hostOf(lastAnswered) };
  // The lossy tail: answering hops from the end backwards while they lose probes.
  let from = answered.length;
  if (reached && last!.loss_pct > 0) while (from > 0 && answered[from - 1]!.loss_pct > 0) from--;
  if (from < answered.length) v.loss_from = { hop: answered[from]!.hop, host: hostOf(answered[from]!) };
  for (const h of answered.slice(0, from)) {
    if (h.loss_pct > 0) v.rate_limited.push({ hop: h.hop, host: hostOf(h), loss_pct: h.loss_pct });
  }
  return v;
}

const pct = (v: number) => `${Math.round(v * 10) / 10}%`;

/** One line for a notification: where loss starts, or that the path is clean, plus caveats. */
export function summarizePath(hops: readonly PathHop[], destination: string): string {
  const v = judgePath(hops, destination);
  const parts: string[] = [];
  if (hops.length === 0) return `no hops traced to ${destination}`;
  if (!v.reached) {
    parts.push(`${destination} not reached: ${v.last ? `last answer from hop ${v.last.hop}, ${v.last.host}` : 'no hop answered'}`);
  } else if (v.loss_from) {
    parts.push(`loss starts at hop ${v.loss_from.hop}, ${v.loss_from.host} (${pct(v.loss_pct)} at ${destination}, hop ${v.hops})`);
  } else {
    const avg = hops[hops.length - 1]!.avg_ms;
    parts.push(`path clean: ${v.hops} hop${v.hops === 1 ? '' : 's'} to ${destination}, no loss${avg !== null ? `, ${avg} ms` : ''}`);
  }
  const slow = v.reached ? hops.find((h) => (h.worst_ms ?? 0) >= 1000) : undefined;
  if (slow) parts.push(`hop ${slow.hop} (${hostOf(slow)}) has RTTs over 1 s (${Math.round(slow.worst_ms!)} ms): in tcp mode that is a retransmitted SYN, i.e. loss`);
  for (const r of v.rate_limited) parts.push(`hop ${r.hop} (${r.host}) drops ${pct(r.loss_pct)} of its own answers only (ICMP rate limit, not path loss)`);
  if (v.silent.length) parts.push(`hop${v.silent.length > 1 ? 's' : ''} ${v.silent.join(', ')} did not answer`);
  return parts.join('; ');
}

/** What changed from one trace to the next, in a few lines (empty: nothing worth saying). */
export function comparePaths(before: readonly PathHop[], after: readonly PathHop[], destination: string): string[] {
  const out: string[] = [];
  const n = Math.min(before.length, after.length);
  for (let i = 0; i < n; i++) {
    const a = before[i]!;
    const b = after[i]!;
    if (a.hosts.length && b.hosts.length && !a.hosts.some((x) => b.hosts.includes(x))) {
      out.push(`path changed at hop ${b.hop}: ${hostOf(a)} → ${hostOf(b)}`);
      break;
    }
  }
  if (before.length !== after.length) out.push(`${after.length} hops now (${before.length} before)`);
  const va = judgePath(before, destination);
  const vb = judgePath(after, destination);
  if (va.reached !== vb.reached) out.push(vb.reached ? `${destination} reached again` : `${destination} no longer reached`);
  const dest = `${destination}: ${pct(va.loss_pct)} → ${pct(vb.loss_pct)}`;
  if (va.loss_from && !vb.loss_from) out.push(`loss from hop ${va.loss_from.hop}, ${va.loss_from.host} is gone (${dest})`);
  else if (!va.loss_from && vb.loss_from) out.push(`loss starts at hop ${vb.loss_from.hop}, ${vb.loss_from.host} (${dest})`);
  else if (va.loss_from && vb.loss_from) {
    out.push(va.loss_from.hop === vb.loss_from.hop && va.loss_from.host === vb.loss_from.host
      ? `loss still starts at hop ${vb.loss_from.hop}, ${vb.loss_from.host} (${dest})`
      : `loss now starts at hop ${vb.loss_from.hop}, ${vb.loss_from.host} (was hop ${va.loss_from.hop}, ${va.loss_from.host}; ${dest})`);
  }
  return out;
}

/**
 * The path hops of a task's output when it is a trace (mtr or traceroute) of the expected
 * shape, else undefined. Outputs come from agents: they are checked before anything reads them.
 */
export function hopsOfOutput(kind: string, output: unknown): { hops: PathHop[]; destination: string } | undefined {
  if (kind === 'mtr' && validate(MtrReportSchema, output).length === 0) {
    const r = output as MtrReport;
    return { hops: hopsOfMtr(r), destination: r.destination };
  }
  if (kind === 'traceroute' && validate(TracerouteReportSchema, output).length === 0) {
    const r = output as TracerouteReport;
    return { hops: hopsOfTraceroute(r), destination: r.address };
  }
  return undefined;
}
