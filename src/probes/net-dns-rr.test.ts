import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as packet from 'dns-packet';
import { rrText } from './net-dns-rr.ts';

/** Round-trips records through the wire format, as the probe sees them. */
function decoded(answers: packet.Answer[]): packet.Answer[] {
  return packet.decode(packet.encode({ type: 'response', id: 1, answers })).answers ?? [];
}

test('records print in zone-file form like dig/miekg', () => {
  const rrs = decoded([
    { type: 'A', name: 'a.test', ttl: 60, data: '127.0.0.9' },
    { type: 'AAAA', name: 'a.test', ttl: 60, data: '::1' },
    { type: 'CNAME', name: 'c.test', ttl: 5, data: 'a.test' },
    { type: 'MX', name: 'a.test', ttl: 5, data: { preference: 10, exchange: 'mail.test' } },
    { type: 'TXT', name: 'a.test', ttl: 5, data: ['hello "world"', 'two'] },
    { type: 'SRV', name: '_x._tcp.test', ttl: 5, data: { priority: 1, weight: 2, port: 80, target: 'a.test' } },
    { type: 'SOA', name: 'test', ttl: 5, data: { mname: 'ns.test', rname: 'hm.test', serial: 7, refresh: 1, retry: 2, expire: 3, minimum: 4 } },
  ]);
  assert.deepEqual(rrs.map(rrText), [
    'a.test.\t60\tIN\tA\t127.0.0.9',
    'a.test.\t60\tIN\tAAAA\t::1',
    'c.test.\t5\tIN\tCNAME\ta.test.',
    'a.test.\t5\tIN\tMX\t10 mail.test.',
    'a.test.\t5\tIN\tTXT\t"hello \\"world\\"" "two"',
    '_x._tcp.test.\t5\tIN\tSRV\t1 2 80 a.test.',
    'test.\t5\tIN\tSOA\tns.test. hm.test. 7 1 2 3 4',
  ]);
});
