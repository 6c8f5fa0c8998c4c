import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { hostResult, matchResultLine, parseFpingLine, parseFpingOutput, scanResultLine, type HostResult } from './parser.ts';

/** A fixture captured from the real fping 5.1 by fixtures/capture.sh. */
function fixture(name: string): { stderr: string; argv: string[]; exitCode: number } {
  const dir = new URL('./fixtures/', import.meta.url);
  const meta = JSON.parse(readFileSync(new URL(`${name}.json`, dir), 'utf8')) as { argv: string[]; exitCode: number };
  return { stderr: readFileSync(new URL(`${name}.stderr`, dir), 'utf8'), ...meta };
}

/** -C value of the captured command line. */
function pingsOf(argv: string[]): number {
  return Number(argv[argv.indexOf('-C') + 1]);
}

function parsed(name: string): Map<string, HostResult> {
  const f = fixture(name);
  return parseFpingOutput(f.stderr, pingsOf(f.argv)).hosts;
}

test('ok: every host of the command line has 10 RTTs in ms, as printed (1 µs steps below 1 ms, 10 µs to 10 ms)', () => {
  const hosts = parsed('ok');
  assert.deepEqual([...hosts.keys()], ['127.0.0.1', '127.1.2.3', '198.51.100.2']);
  assert.deepEqual(hosts.get('127.1.2.3'), { rtts: [1.26, 0.046, 0.046, 0.043, 0.05, 0.049, 0.047, 0.048, 0.048, 0.049], lost: 0 });
  for (const r of hosts.values()) assert.ok('rtts' in r && r.rtts.length === 10 && r.lost === 0);
});

test('loss: "-" values are lost pings, the rest are kept in order', () => {
  assert.deepEqual(parsed('loss').get('198.51.100.3'), { rtts: [0.184, 0.053], lost: 8 });
});

test('duplicates: "duplicate for [n]" lines are skipped, the summary line counts once', () => {
  const hosts = parsed('duplicates');
  assert.equal(hosts.size, 2);
  assert.deepEqual(hosts.get('198.51.100.4'), { rtts: [0.066, 0.058, 0.072, 0.063, 0.062, 0.062, 0.061, 0.069, 0.062, 0.067], lost: 0 });
  const line = parseFpingLine('198.51.100.4 : duplicate for [0], 64 bytes, 0.067 ms');
  assert.deepEqual(line, { kind: 'noise' });
});

test('unreachable: all pings lost; ICMP error lines (without -q) are noise', () => {
  assert.deepEqual(parsed('unreachable').get('203.0.113.5'), { rtts: [], lost: 10 });
  assert.deepEqual(parsed('unreachable').get('2001:db8:5b::5'), { rtts: [], lost: 10 });
  const f = fixture('unreachable-verbose');
  assert.match(f.stderr, /ICMP Host Unreachable from 198\.51\.100\.2/);
  const out = parseFpingOutput(f.stderr, 3);
  assert.deepEqual([...out.hosts.keys()], ['203.0.113.5', '2001:db8:5b::5', '198.51.100.4']);
  assert.deepEqual(out.hosts.get('198.51.100.4'), { rtts: [0.052, 0.053, 0.063], lost: 0 });
  assert.deepEqual(out.errors, []);
});

test('ipv6: addresses with colons are host names, not separators', () => {
  const hosts = parsed('ipv6');
  assert.deepEqual([...hosts.keys()], ['::1', '2001:db8:5a::2']);
  assert.deepEqual(hosts.get('::1'), { rtts: [0.053, 0.048, 0.05, 0.05, 0.051, 0.05, 0.048, 0.048, 0.05, 0.046], lost: 0 });
});

test('unresolvable: fping -q prints nothing for the name (exit 2); the rest is measured', () => {
  const f = fixture('unresolvable');
  assert.equal(f.exitCode, 2);
  assert.ok(f.argv.includes('name.invalid'));
  const hosts = parsed('unresolvable');
  assert.deepEqual([...hosts.keys()], ['127.0.0.1']);
  assert.equal(hosts.has('name.invalid'), false);
});

test('mixed: IPv4 and IPv6, loss, duplicates and unreachable in one run', () => {
  const hosts = parsed('mixed');
  assert.deepEqual([...hosts.keys()], ['127.0.0.1', '::1', '198.51.100.2', '198.51.100.3', '198.51.100.4', '203.0.113.5', '2001:db8:5a::2', '2001:db8:5b::5']);
  assert.deepEqual(hosts.get('198.51.100.3'), { rtts: [0.065, 0.076, 0.06, 0.051], lost: 6 });
  assert.deepEqual(hosts.get('198.51.100.4'), { rtts: [0.064, 0.121, 0.069, 0.063, 0.063, 0.066, 0.067, 0.063, 0.086, 0.099], lost: 0 });
  assert.deepEqual(hosts.get('2001:db8:5b::5'), { rtts: [], lost: 10 });
});

test('ping sockets: same lines; duplicates still reported apart, no ICMP error lines at all', () => {
  const hosts = parsed('ping-mixed');
  assert.deepEqual([...hosts.keys()], ['127.0.0.1', '::1', '198.51.100.2', '198.51.100.3', '198.51.100.4', '203.0.113.5', '2001:db8:5a::2', '2001:db8:5b::5']);
  assert.deepEqual(hosts.get('198.51.100.3'), { rtts: [0.05, 0.089, 0.064, 0.064, 0.06, 0.065], lost: 4 });
  assert.deepEqual(hosts.get('198.51.100.4'), { rtts: [0.056, 0.054, 0.117, 0.093, 0.135, 0.068, 0.112, 0.065, 0.069, 0.071], lost: 0 });
  assert.deepEqual(hosts.get('203.0.113.5'), { rtts: [], lost: 10 });
  assert.deepEqual(hosts.get('2001:db8:5b::5'), { rtts: [], lost: 10 });
  const verbose = fixture('ping-unreachable-verbose');
  assert.doesNotMatch(verbose.stderr, /ICMP/, 'a ping socket passes ICMP errors only through IP_RECVERR, which fping does not read');
  assert.deepEqual(parseFpingOutput(verbose.stderr, 3).hosts.get('203.0.113.5'), { rtts: [], lost: 3 });
});

test('fping error lines are collected apart and give no host', () => {
  const out = parseFpingOutput(fixture('bad-option').stderr, 10);
  assert.equal(out.hosts.size, 0);
  assert.deepEqual(out.errors, ['fping: data size 70000 not valid, must be lower than 65488']);
});

test('behind unshare or a wrapper, messages start with the path fping was started by', () => {
  const programs = { fping: 'fping', '/usr/bin/fping': 'fping', '/usr/bin/unshare': 'unshare' };
  const out = parseFpingOutput([
    '/usr/bin/fping: cannot bind source address : Cannot assign requested address',
    '/usr/bin/unshare: unshare failed: Operation not permitted',
    'fping error: not enough sequence numbers available!',
    '/usr/sbin/fping: from another path',
    'constructor: not a program',
  ].join('\n'), 1, programs);
  assert.deepEqual(out.errors, [
    'fping: cannot bind source address : Cannot assign requested address',
    'unshare: unshare failed: Operation not permitted',
    'fping: not enough sequence numbers available!',
  ]);
});

test('a result line with the wrong number of values is an error for that host, not a guess', () => {
  assert.deepEqual(hostResult([0.1, null], 3), { error: 'fping reported 2 values, expected 3' });
  // truncated output: the last line cut mid-way (synthetic, as a killed fping leaves it)
  const out = parseFpingOutput('127.0.0.1 : 0.05 0.04 - 0.06\n127.0.0.2 : 0.05 0.0', 4);
  assert.deepEqual(out.hosts.get('127.0.0.1'), { rtts: [0.05, 0.04, 0.06], lost: 1 });
  assert.deepEqual(out.hosts.get('127.0.0.2'), { error: 'fping reported 2 values, expected 4' });
});

test('a host reported twice is an error; garbage lines are noise', () => {
  const out = parseFpingOutput('127.0.0.1 : 0.05\n127.0.0.1 : 0.06\nsomething : else\n : 1\n\u0000\n', 1);
  assert.deepEqual([...out.hosts], [['127.0.0.1', { error: 'fping reported this host twice' }]]);
  assert.deepEqual(parseFpingLine('ICMP Host Unreachable from 198.51.100.2 for ICMP Echo sent to 203.0.113.5'), { kind: 'noise' });
  assert.deepEqual(parseFpingLine('127.0.0.1 : 1e5 2'), { kind: 'noise' });
});

test('the hand-written reader of result lines reads what the regexp reads, or leaves the line to it', () => {
  const taken = (line: string): void => {
    const fast = scanResultLine(line);
    if (fast) assert.deepEqual(fast, matchResultLine(line), JSON.stringify(line));
  };
  // Every line of the captured fixtures (and the common ones are taken by hand).
  let byHand = 0;
  for (const name of ['ok', 'loss', 'duplicates', 'unreachable', 'unreachable-verbose', 'ipv6', 'mixed', 'ping-mixed', 'ping-unreachable-verbose', 'unresolvable', 'bad-option']) {
    for (const line of fixture(name).stderr.split('\n')) {
      taken(line);
      if (scanResultLine(line)) byHand++;
    }
  }
  assert.ok(byHand >= 10, `${byHand} fixture lines read by hand`);
  // Edge cases, then random lines over an alphabet of the characters that matter (seeded).
  for (const line of ['127.0.0.1 : 0.05 - 12.3 123', '::1 : 1', 'h : 0.1  ', 'h :0.1', 'h: 0.1', ' h : 1', 'h : 1.', 'h : .5', 'h : 1..2',
    'h : -1', 'h : 1-', 'h : 1.2.3', 'h : ', 'h :', 'h : 0000000000000001.5', 'h : 1234567890123456', 'h : 123456789012345', 'h : 0.1\r',
    'h\t: 1', 'h : 1\t2', 'hé : 1', 'h : 9007199254740993', 'h : 0.000000000000001', 'h : 99999.99999']) {
    taken(line);
  }
  assert.deepEqual(scanResultLine('127.0.0.1 : 0.05 - 12.3 123'), { host: '127.0.0.1', values: [0.05, null, 12.3, 123] });
  const alphabet = ['0', '1', '9', '.', '-', ' ', ' ', ' ', ':', 'h', '\t', '\r', 'é', '7', '5'];
  let seed = 42;
  const rand = (k: number): number => { seed = (seed * 1103515245 + 12345) >>> 0; return seed % k; };
  for (let t = 0; t < 20000; t++) {
    let line = rand(3) ? 'h1 :' : '';
    const len = rand(24);
    for (let k = 0; k < len; k++) line += alphabet[rand(alphabet.length)];
    taken(line);
  }
});
