import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fixture } from './fixtures.testkit.ts';
import { parseTraceroute } from './traceroute-parser.ts';

test('header and one probe per answer, RTTs in ms', () => {
  const r = parseTraceroute(fixture('traceroute-loopback').out);
  assert.deepEqual(r, {
    destination: '127.0.0.1', address: '127.0.0.1', max_hops: 30,
    hops: [{ hop: 1, addresses: ['127.0.0.1'], probes: [{ address: '127.0.0.1', rtt_ms: 0.02 }, { address: '127.0.0.1', rtt_ms: 0.003 }, { address: '127.0.0.1', rtt_ms: 0.003 }] }],
  });
});

test('IPv6 addresses', () => {
  assert.deepEqual(parseTraceroute(fixture('traceroute-loopback6').out).hops[0]!.addresses, ['::1']);
  assert.deepEqual(parseTraceroute(fixture('traceroute-clean6').out).hops.map((h) => h.addresses[0]), ['fd18:1::1', 'fd18:2::2', 'fd18:3::2', 'fd18:6::2']);
});

test('"*" is a probe without an answer, wherever it stands on the line', () => {
  const r = parseTraceroute(fixture('traceroute-loss-r2').out);
  assert.deepEqual(r.hops[1]!.probes, [null, { address: '198.18.2.2', rtt_ms: 0.013 }, null]);
  assert.deepEqual(r.hops[3]!.probes, [{ address: '198.18.6.2', rtt_ms: 0.015 }, null, null]);
  const silent = parseTraceroute(fixture('traceroute-unanswered').out).hops[2]!;
  assert.deepEqual(silent, { hop: 3, probes: [null, null, null], addresses: [] });
});

test('ECMP and a path change mid-run: every address of a hop, each RTT with its own address', () => {
  const ecmp = parseTraceroute(fixture('traceroute-ecmp').out).hops[1]!;
  assert.deepEqual(ecmp.addresses, ['198.18.4.2', '198.18.2.2']);
  assert.deepEqual(ecmp.probes.map((p) => p?.address), ['198.18.4.2', '198.18.4.2', '198.18.2.2', '198.18.2.2', '198.18.4.2', '198.18.2.2']);
  const change = parseTraceroute(fixture('traceroute-path-change').out).hops[1]!;
  assert.deepEqual(change.addresses, ['198.18.4.2', '198.18.2.2']);
});

test('an unreachable host: silent hops up to -m', () => {
  const r = parseTraceroute(fixture('traceroute-unreachable').out);
  assert.equal(r.max_hops, 5);
  assert.deepEqual(r.hops.map((h) => h.addresses.length), [1, 1, 1, 0, 0]);
});

test('ICMP unreachable notes (!H, !N, !X) stay with their probe', () => {
  const r = parseTraceroute('traceroute to 198.18.6.99 (198.18.6.99), 5 hops max, 60 byte packets\n 1  198.18.1.1  0.039 ms  0.007 ms\n 2  198.18.3.2  3062.949 ms !H  3061.1 ms !H\n');
  assert.deepEqual(r.hops[1]!.probes, [{ address: '198.18.3.2', rtt_ms: 3062.949, note: '!H' }, { address: '198.18.3.2', rtt_ms: 3061.1, note: '!H' }]);
});

test('not traceroute output, or names instead of -n: an error naming the line', () => {
  const f = fixture('traceroute-unresolvable');
  assert.equal(f.exitCode, 2);
  assert.match(f.stderr, /Cannot handle "host" cmdline arg/);
  assert.throws(() => parseTraceroute(f.out), /line 1 is not a "traceroute to HOST/);
  assert.throws(() => parseTraceroute('traceroute to a (1.2.3.4), 30 hops max, 60 byte packets\n 1  router.example (198.18.1.1)  0.1 ms\n'), /line 2: unexpected "router\.example"/);
  assert.throws(() => parseTraceroute('traceroute to a (1.2.3.4), 30 hops max\nhello\n'), /line 2 is not a hop line/);
});
