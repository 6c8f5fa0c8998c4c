import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import { performance } from 'node:perf_hooks';
import { randomInt } from 'node:crypto';
import * as packet from 'dns-packet';
import { rrText } from './net-dns-rr.ts';
import { describeError } from './net-errors.ts';
import { compileAnswerRules, hasAnswerRegexps } from './dns-checks.ts';
import { runCheck, warmRegexpWorker } from './net-regexp-worker.ts';
import { resolveHost } from './net-resolve.ts';
import { attemptSignal, runAttempts, unmeasurable, type AttemptOutcome } from './net-round.ts';
import { DnsParamsSchema, type DnsParams } from './params.ts';
import type { Probe, ProbeTarget } from './probe.ts';
import type { Measurement } from './round.ts';
import { hostPort } from './tcp.ts';

/**
 * DNS query time: the target host is the DNS server; each attempt sends one query
 * (fresh socket, random id) over UDP or TCP and times query sent → full answer received.
 * The answer is checked like blackbox_exporter does (valid_rcodes, validate_answer_rrs);
 * round.status is the rcode number of the last answer. Phases: `request` (and `connect`
 * over TCP), averaged over successful attempts.
 */
export const dnsProbe: Probe<DnsParams> = {
  type: 'dns',
  batch: 1,
  paramsSchema: DnsParamsSchema,
  async measure(targets, signal) {
    const out: Measurement[] = [];
    for (const t of targets) out.push(await measureOne(t, signal));
    return out;
  },
};

async function measureOne(t: ProbeTarget<DnsParams>, signal: AbortSignal): Promise<Measurement> {
  const p = t.params;
  let checkRrs: boolean;
  let query: Buffer;
  try {
    checkRrs = hasAnswerRegexps(compileAnswerRules(p.validate_answer_rrs));
    if (checkRrs) warmRegexpWorker();
    query = encodeQuery(p, 0);
  } catch (e) {
    return unmeasurable(p.pings, (e as Error).message);
  }
  const att = attemptSignal(signal, p.timeout);
  let server: { address: string; family: 4 | 6 };
  try {
    server = await resolveHost(t.host, p, att.signal);
  } catch (e) {
    return unmeasurable(p.pings, att.timedOut() ? `cannot resolve "${t.host}": timeout after ${p.timeout} ms` : (e as Error).message);
  } finally {
    att.dispose();
  }
  return runAttempts(p, signal, async (_i, s) => {
    const id = randomInt(0, 0x10000);
    query.writeUInt16BE(id, 0);
    const ex = await (p.transport_protocol === 'tcp' ? exchangeTcp : exchangeUdp)(server, p.port, query, p.timeout, s);
    if (!ex.ok) return ex;
    return judgeAnswer(ex.answer, id, p, checkRrs, ex.phases, s);
  });
}

/** Encodes the query of a round; throws on an unknown query_type or a bad name. */
export function encodeQuery(p: Pick<DnsParams, 'query_name' | 'query_type' | 'recursion_desired'>, id: number): Buffer {
  let buf: Buffer;
  try {
    buf = packet.encode({
      type: 'query',
      id,
      flags: p.recursion_desired ? packet.RECURSION_DESIRED : 0,
      questions: [{ type: p.query_type as packet.RecordType, name: p.query_name, class: 'IN' }],
    });
  } catch (e) {
    throw new Error(`cannot encode a query for ${JSON.stringify(p.query_name)}: ${(e as Error).message}`);
  }
  // dns-packet encodes a type it does not know as 0; the question's type sits 4 bytes from the end.
  if (buf.readUInt16BE(buf.length - 4) === 0) throw new Error(`unknown query_type ${JSON.stringify(p.query_type)}`);
  return buf;
}

export type Exchange = { ok: true; answer: Buffer; phases: Record<string, number> } | { ok: false; error: string };

/** One query/answer over UDP on a fresh socket; answers with another id are ignored. */
export function exchangeUdp(server: { address: string; family: 4 | 6 }, port: number, query: Buffer, timeout: number, round: AbortSignal): Promise<Exchange> {
  return new Promise((resolve) => {
    const where = `query ${hostPort(server.address, port)}/udp`;
    const id = query.readUInt16BE(0);
    const att = attemptSignal(round, timeout);
    const sock = createSocket(server.family === 6 ? 'udp6' : 'udp4');
    let t0 = 0;
    let done = false;
    const finish = (x: Exchange): void => {
      if (done) return;
      done = true;
      att.dispose();
      att.signal.removeEventListener('abort', onAbort);
      sock.close();
      resolve(x);
    };
    const onAbort = (): void => finish({ ok: false, error: att.timedOut() ? `${where}: no answer within ${timeout} ms` : 'aborted' });
    att.signal.addEventListener('abort', onAbort, { once: true });
    if (att.signal.aborted) return onAbort();
    sock.on('error', (e) => finish({ ok: false, error: describeError(e, where) }));
    sock.on('message', (msg) => {
      if (msg.length >= 2 && msg.readUInt16BE(0) !== id) return;
      finish({ ok: true, answer: msg, phases: { request: performance.now() - t0 } });
    });
    sock.connect(port, server.address, () => {
      // The attempt may have ended (timeout, abort) while connecting: the socket is closed then.
      if (done) return;
      t0 = performance.now();
      // A send that throws (a socket closed or disconnected under it) ends the attempt, not the process.
      try {
        sock.send(query, (e) => { if (e) finish({ ok: false, error: describeError(e, where) }); });
      } catch (e) {
        finish({ ok: false, error: describeError(e as Error, where) });
      }
    });
  });
}

/** One query/answer over a fresh TCP connection (RFC 7766 two-byte length framing). */
export function exchangeTcp(server: { address: string; family: 4 | 6 }, port: number, query: Buffer, timeout: number, round: AbortSignal): Promise<Exchange> {
  return new Promise((resolve) => {
    const where = `query ${hostPort(server.address, port)}/tcp`;
    const att = attemptSignal(round, timeout);
    const framed = Buffer.concat([Buffer.from([query.length >> 8, query.length & 0xff]), query]);
    const t0 = performance.now();
    let t1 = 0;
    let got = Buffer.alloc(0);
    let done = false;
    const sock = connect({ host: server.address, port, family: server.family });
    const finish = (x: Exchange): void => {
      if (done) return;
      done = true;
      att.dispose();
      att.signal.removeEventListener('abort', onAbort);
      sock.destroy();
      resolve(x);
    };
    const onAbort = (): void => finish({
      ok: false,
      error: att.timedOut() ? `${where}: ${t1 ? 'no answer' : 'not connected'} within ${timeout} ms` : 'aborted',
    });
    att.signal.addEventListener('abort', onAbort, { once: true });
    if (att.signal.aborted) return onAbort();
    sock.on('error', (e) => finish({ ok: false, error: describeError(e, where) }));
    sock.once('connect', () => {
      t1 = performance.now();
      sock.write(framed);
    });
    sock.on('data', (chunk: Buffer) => {
      got = Buffer.concat([got, chunk]);
      if (got.length < 2) return;
      const len = got.readUInt16BE(0);
      if (got.length < 2 + len) return;
      const now = performance.now();
      finish({ ok: true, answer: got.subarray(2, 2 + len), phases: { connect: t1 - t0, request: now - t1 } });
    });
    sock.on('end', () => finish({
      ok: false,
      error: `${where}: connection closed before a full answer (${Math.max(0, got.length - 2)} of ${got.length >= 2 ? got.readUInt16BE(0) : '?'} bytes)`,
    }));
  });
}

/**
 * Decodes and checks one answer: a malformed packet, a truncated (TC) answer, an rcode
 * outside valid_rcodes or an answer RR failing validate_answer_rrs each fail the attempt
 * with a reason saying which. The RR regexps run on the regexp worker (the answer comes
 * from the target), bounded by the probe's timeout. Never rejects.
 */
export async function judgeAnswer(
  buf: Buffer,
  id: number,
  p: Pick<DnsParams, 'valid_rcodes' | 'validate_answer_rrs' | 'timeout'>,
  checkRrs: boolean,
  phases: Record<string, number>,
  signal: AbortSignal,
): Promise<AttemptOutcome> {
  let msg: packet.Packet;
  try {
    msg = packet.decode(buf);
    // dns-packet reads past the end of a cut-off packet without complaint; its byte count tells.
    const used = (packet.decode as unknown as { bytes: number }).bytes;
    if (used > buf.length) throw new Error(`answer cut off: records need ${used} bytes`);
  } catch (e) {
    return { ok: false, error: `malformed DNS answer (${buf.length} bytes): ${(e as Error).message}` };
  }
  if (msg.id !== id) return { ok: false, error: `malformed DNS answer: id ${msg.id} does not match query id ${id}` };
  if (msg.type !== 'response') return { ok: false, error: 'malformed DNS answer: QR bit not set' };
  const flags = msg.flags ?? 0;
  const rcode = flags & 0xf;
  const rcodeName = (msg as { rcode?: string }).rcode ?? String(rcode);
  if (flags & packet.TRUNCATED_RESPONSE) {
    return { ok: false, status: rcode, error: 'DNS answer truncated (TC flag): it does not fit in UDP; use transport_protocol: tcp' };
  }
  if (!p.valid_rcodes.includes(rcodeName)) {
    return { ok: false, status: rcode, error: `rcode ${rcodeName} not in valid_rcodes [${p.valid_rcodes.join(', ')}]` };
  }
  if (checkRrs) {
    const rrs = (msg.answers ?? []).map(rrText);
    let reason: string | undefined;
    try {
      reason = await runCheck('dnsAnswers', { rrs, rules: p.validate_answer_rrs ?? {} }, { deadlineMs: p.timeout, signal });
    } catch (e) {
      reason = (e as Error).message;
    }
    if (reason) return { ok: false, status: rcode, error: reason };
  }
  return { ok: true, rtt: phases.request ?? 0, phases, status: rcode };
}
