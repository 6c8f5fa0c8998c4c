import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fixture } from './fixtures.testkit.ts';
import { parseMtrJson } from './mtr-parser.ts';

test('loopback: one hop, times in ms as mtr printed them', () => {
  const r = parseMtrJson(fixture('mtr-loopback').out);
  assert.equal(r.destination, '127.0.0.1');
  assert.equal(r.cycles, 10);
  assert.equal(r.hops.length, 1);
  assert.deepEqual(r.hops[0], { hop: 1, host: '127.0.0.1', loss_pct: 0, sent: 10, last: 0.071, avg: 0.08, best: 0.021, worst: 0.151, stdev: 0.036 });
});

test('IPv6: ::1 and four hops through the routers to fd18:6::2', () => {
  assert.equal(parseMtrJson(fixture('mtr-loopback6').out).hops[0]!.host, '::1');
  const r = parseMtrJson(fixture('mtr-clean6').out);
  assert.deepEqual(r.hops.map((h) => h.host), ['fd18:1::1', 'fd18:2::2', 'fd18:3::2', 'fd18:6::2']);
  assert.ok(r.hops.every((h) => h.loss_pct === 0 && h.sent === 10));
});

test('loss injected at r2: loss from hop 2 on, hop 1 clean', () => {
  const r = parseMtrJson(fixture('mtr-loss-r2').out);
  assert.deepEqual(r.hops.map((h) => [h.hop, h.host, h.loss_pct]), [[1, '198.18.1.1', 0], [2, '198.18.2.2', 20], [3, '198.18.3.2', 30], [4, '198.18.6.2', 20]]);
});

test('a hop that never answers is "???" in mtr and null here, with no times', () => {
  const hop = parseMtrJson(fixture('mtr-unanswered').out).hops[2]!;
  assert.deepEqual(hop, { hop: 3, host: null, loss_pct: 100, sent: 10, last: null, avg: null, best: null, worst: null, stdev: null });
});

test('TCP mode: dropped SYNs are retransmitted by the kernel and show as RTTs of a second or more', () => {
  const r = parseMtrJson(fixture('mtr-loss-r2-tcp').out);
  assert.equal(r.hops[3]!.loss_pct, 0);
  assert.ok(r.hops[3]!.worst! > 1000, 'the retransmitted SYN is in the worst time');
});

test('path change and ECMP: the JSON report names one address per hop', () => {
  const change = parseMtrJson(fixture('mtr-path-change').out);
  assert.deepEqual(change.hops.map((h) => h.host), ['198.18.1.1', '198.18.4.2', '198.18.3.2', '198.18.6.2']);
  const ecmp = parseMtrJson(fixture('mtr-ecmp-udp').out);
  assert.equal(ecmp.hops[1]!.host, '198.18.4.2');
  assert.equal(ecmp.hops[3]!.loss_pct, 70, 'the end host rate-limits its port-unreachable answers to UDP probes');
});

test('an unreachable host: the last router answers after its ARP timeout', () => {
  const r = parseMtrJson(fixture('mtr-unreachable').out);
  assert.equal(r.destination, '198.18.6.99');
  assert.equal(r.hops[3]!.host, '198.18.3.2');
  assert.ok(r.hops[3]!.avg! > 2000);
});

test('an unresolvable name: mtr exits 0 with nothing on stdout; the parser says so', () => {
  const f = fixture('mtr-unresolvable');
  assert.equal(f.exitCode, 0);
  assert.equal(f.out, '');
  assert.match(f.stderr, /Failed to resolve host: name\.invalid/);
  assert.throws(() => parseMtrJson(f.out), /mtr output is not JSON/);
});

test('malformed reports name the field', () => {
  assert.throws(() => parseMtrJson('{"report":{"mtr":{"src":"a","dst":"b","tests":1},"hubs":[{"count":1,"host":"x"}]}}'), /report\.hubs\.0: missing required field "Loss%"/);
  assert.throws(() => parseMtrJson('[1,2'), /not JSON/);
  const asn = parseMtrJson('{"report":{"mtr":{"src":"a","dst":"b","tests":1},"hubs":[{"count":1,"host":"10.0.0.1","ASN":"AS64500","Loss%":0,"Snt":1,"Last":1,"Avg":1,"Best":1,"Wrst":1,"StDev":0}]}}');
  assert.equal(asn.hops[0]!.asn, 'AS64500');
});
