import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import * as packet from 'dns-packet';
import { dnsProbe } from './dns.ts';
import { DnsParamsSchema, type DnsParams } from './params.ts';
import { ABORTED } from './net-round.ts';
import { startDnsmasq, type Dnsmasq } from '../../test/fixtures/probes/dnsmasq.ts';
import { paramsFor } from '../../test/fixtures/probes/params.ts';
import { UNRESOLVABLE } from '../../test/fixtures/names.ts';
import { closedUdpPort } from '../../test/fixtures/ports.ts';

let dns: Dnsmasq;
before(async () => {
  dns = await startDnsmasq([
    '--address=/probe.test/127.0.0.9',
    '--address=/nx.test/',
    '--txt-record=txt.probe.test,hello world',
    '--mx-host=mx.probe.test,mail.probe.test,10',
  ]);
});
after(async () => { await dns?.stop(); });

async function run(params: Record<string, unknown>, host = '127.0.0.1', signal = new AbortController().signal, unchecked: Partial<DnsParams> = {}) {
  const p = { ...paramsFor<DnsParams>(DnsParamsSchema, { port: dns.port, query_name: 'probe.test', ...params }), ...unchecked };
  const [m] = await dnsProbe.measure([{ path: '/t', host, params: p }], signal);
  return m!;
}

test('dns over UDP: every query answered, rcode NOERROR, request phase measured', async () => {
  const m = await run({ pings: 4 });
  assert.equal(m.error, undefined);
  assert.equal(m.sent, 4);
  assert.equal(m.rtts.length, 4);
  assert.equal(m.status, 0);
  assert.ok(m.phases && m.phases.request! > 0);
  assert.equal(m.phases.connect, undefined);
});

test('dns over TCP: answered, with connect and request phases', async () => {
  const m = await run({ pings: 3, transport_protocol: 'tcp' });
  assert.equal(m.error, undefined);
  assert.equal(m.rtts.length, 3);
  assert.equal(m.status, 0);
  assert.ok(m.phases && m.phases.connect! > 0 && m.phases.request! > 0);
});

test('NXDOMAIN fails by default and passes when listed in valid_rcodes', async () => {
  for (const transport_protocol of ['udp', 'tcp']) {
    const bad = await run({ query_name: 'x.nx.test', transport_protocol });
    assert.equal(bad.rtts.length, 0);
    assert.equal(bad.status, 3);
    assert.match(bad.error ?? '', /rcode NXDOMAIN not in valid_rcodes \[NOERROR\]/);
    const ok = await run({ query_name: 'x.nx.test', transport_protocol, valid_rcodes: ['NXDOMAIN'] });
    assert.equal(ok.error, undefined);
    assert.equal(ok.rtts.length, 3);
  }
});

test('REFUSED (a name dnsmasq has no upstream for) is reported with its rcode number', async () => {
  const m = await run({ query_name: 'elsewhere.invalid' });
  assert.equal(m.status, 5);
  assert.match(m.error ?? '', /rcode REFUSED not in valid_rcodes/);
  const ok = await run({ query_name: 'elsewhere.invalid', valid_rcodes: ['REFUSED'] });
  assert.equal(ok.rtts.length, 3);
});

test('validate_answer_rrs regexps run on the answer RRs in text form', async () => {
  const pass = await run({ validate_answer_rrs: { fail_if_not_matches_regexp: ['^probe\\.test\\.\\t\\d+\\tIN\\tA\\t127\\.0\\.0\\.9$'] } });
  assert.equal(pass.error, undefined);
  assert.equal(pass.rtts.length, 3);

  const notMatch = await run({ validate_answer_rrs: { fail_if_not_matches_regexp: ['127\\.0\\.0\\.8'] } });
  assert.equal(notMatch.rtts.length, 0);
  assert.match(notMatch.error ?? '', /did not match fail_if_not_matches_regexp 127\\\.0\\\.0\\\.8/);

  const match = await run({ validate_answer_rrs: { fail_if_matches_regexp: ['IN\\tA\\t127\\.0\\.0\\.9'] } });
  assert.equal(match.rtts.length, 0);
  assert.match(match.error ?? '', /matched fail_if_matches_regexp/);

  const none = await run({ query_name: 'x.nx.test', valid_rcodes: ['NXDOMAIN'], validate_answer_rrs: { fail_if_none_matches_regexp: ['.'] } });
  assert.match(none.error ?? '', /no answer RR matched fail_if_none_matches_regexp \. \(empty answer\)/);

  const txt = await run({ query_name: 'txt.probe.test', query_type: 'TXT', validate_answer_rrs: { fail_if_not_matches_regexp: ['(?i)TXT\\t"HELLO WORLD"$'] } });
  assert.equal(txt.error, undefined);
  const mx = await run({ query_name: 'mx.probe.test', query_type: 'MX', validate_answer_rrs: { fail_if_not_matches_regexp: ['\\tMX\\t10 mail\\.probe\\.test\\.$'] } });
  assert.equal(mx.error, undefined);
});

test('recursion_desired sets the RD flag of the query', async () => {
  const seen: boolean[] = [];
  const srv = await fakeServer((q) => { seen.push(Boolean(q.flag_rd)); return answerFor(q); });
  try {
    await run({ pings: 1, port: srv.port, recursion_desired: false });
    await run({ pings: 1, port: srv.port, recursion_desired: true });
    assert.deepEqual(seen, [false, true]);
  } finally { srv.sock.close(); }
});

test('bad parameters and unreachable servers give a clear error and lose every ping', async () => {
  const unknown = await run({ query_type: 'NOPE' });
  assert.equal(unknown.sent, 3);
  assert.match(unknown.error ?? '', /unknown query_type "NOPE"/);
  const badRe = await run({}, undefined, undefined, { validate_answer_rrs: { fail_if_matches_regexp: ['('] } });
  assert.match(badRe.error ?? '', /invalid regexp "\(" in validate_answer_rrs\.fail_if_matches_regexp/);
  const closed = await run({ port: await closedUdpPort(), pings: 2 });
  assert.equal(closed.rtts.length, 0);
  assert.match(closed.error ?? '', /127\.0\.0\.1:\d+\/udp: connection refused/);
  const tcpClosed = await run({ port: await closedUdpPort(), pings: 1, transport_protocol: 'tcp' });
  assert.match(tcpClosed.error ?? '', /\/tcp: connection refused/);
  const unresolvable = await run({}, UNRESOLVABLE);
  assert.equal(unresolvable.sent, 3);
  assert.match(unresolvable.error ?? '', new RegExp(`cannot resolve "${UNRESOLVABLE}"`));
});

test('malformed, cut-off and truncated (TC) answers are clear errors, not crashes', async () => {
  const cases: [string, (q: packet.DecodedPacket, raw: Buffer) => Buffer, RegExp][] = [
    ['garbage', (_q, raw) => Buffer.concat([raw.subarray(0, 2), Buffer.from([0x80])]), /malformed DNS answer \(3 bytes\)/],
    ['cut off', (q) => answerFor(q).subarray(0, answerFor(q).length - 3), /malformed DNS answer/],
    ['TC flag', (q) => packet.encode({ type: 'response', id: q.id, flags: packet.TRUNCATED_RESPONSE, questions: q.questions, answers: [] }), /truncated \(TC flag\)/],
    ['not a response', (q) => { const b = answerFor(q); b[2] = b[2]! & 0x7f; return b; }, /QR bit not set/],
  ];
  for (const [name, reply, re] of cases) {
    const srv = await fakeServer(reply);
    try {
      const m = await run({ pings: 2, port: srv.port });
      assert.equal(m.rtts.length, 0, name);
      assert.equal(m.sent, 2, name);
      assert.match(m.error ?? '', re, name);
    } finally { srv.sock.close(); }
  }
});

test('answers with a foreign id are ignored; the matching one counts', async () => {
  const srv = await fakeServer(() => undefined, (q, send) => {
    send(packet.encode({ type: 'response', id: (q.id! + 1) & 0xffff, questions: q.questions, answers: [] }));
    send(answerFor(q));
  });
  try {
    const m = await run({ pings: 2, port: srv.port });
    assert.equal(m.error, undefined);
    assert.equal(m.rtts.length, 2);
  } finally { srv.sock.close(); }
});

test('aborting the round stops a query that would otherwise wait for its timeout', async () => {
  const ctl = new AbortController();
  const srv = await fakeServer(() => undefined);
  srv.sock.once('message', () => ctl.abort());
  try {
    const m = await run({ pings: 5, timeout: 60000, port: srv.port }, '127.0.0.1', ctl.signal);
    assert.equal(m.sent, 0);
    assert.equal(m.error, ABORTED);
  } finally { srv.sock.close(); }
});

/** A UDP "server" on 127.0.0.1 answering each query with `reply(query)` (undefined = silence). */
async function fakeServer(
  reply: (q: packet.DecodedPacket, raw: Buffer) => Buffer | undefined,
  custom?: (q: packet.DecodedPacket, send: (b: Buffer) => void) => void,
): Promise<{ sock: Socket; port: number }> {
  const sock = createSocket('udp4');
  sock.on('message', (raw, rinfo) => {
    const q = packet.decode(raw);
    const send = (b: Buffer): void => sock.send(b, rinfo.port, rinfo.address);
    if (custom) return custom(q, send);
    const b = reply(q, raw);
    if (b) send(b);
  });
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
  return { sock, port: sock.address().port };
}

function answerFor(q: packet.DecodedPacket): Buffer {
  return packet.encode({
    type: 'response', id: q.id, flags: 0, questions: q.questions,
    answers: [{ type: 'A', name: q.questions![0]!.name, ttl: 5, data: '127.0.0.9' }],
  });
}

