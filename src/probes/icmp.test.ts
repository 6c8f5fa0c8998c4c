// The icmp probe against the real fping, on loopback only (127.0.0.0/8 and ::1).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createIcmpProbe, icmpProbe } from './icmp.ts';
import type { IcmpParams } from './params.ts';
import type { ProbeTarget } from './probe.ts';
import { UNRESOLVABLE } from '../../test/fixtures/names.ts';

const params: IcmpParams = {
  pings: 5, timeout: 500, step: 60, offset: 'random',
  packet_size: 56, tos: 0, interval: 20, mininterval: 0.5,
};
const never = new AbortController().signal;

function targets(hosts: string[], p: IcmpParams = params): ProbeTarget<IcmpParams>[] {
  return hosts.map((host, i) => ({ path: `/t/${i}`, host, params: p }));
}

/** ::1 is usable when the loopback has its IPv6 address (not the case with ipv6.disable=1). */
function ipv6LoopbackMissing(): string | false {
  try {
    const lines = readFileSync('/proc/net/if_inet6', 'utf8');
    return /^0{31}1 /m.test(lines) ? false : 'the loopback has no ::1 address on this machine';
  } catch {
    return 'IPv6 is disabled in this kernel (/proc/net/if_inet6 missing)';
  }
}

/** PIDs of this process's live child processes. */
function childPids(): number[] {
  return readdirSync('/proc/self/task').flatMap((tid) => {
    try {
      return readFileSync(`/proc/self/task/${tid}/children`, 'utf8').split(' ').filter(Boolean).map(Number);
    } catch {
      return [];
    }
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

test('unavailable() is undefined when fping is installed and may ping', async () => {
  assert.equal(await icmpProbe.unavailable!(), undefined);
});

/** Whether this machine lets one of our groups open ping sockets (net.ipv4.ping_group_range). */
function pingSocketsAllowed(): boolean {
  const [low, high] = readFileSync('/proc/sys/net/ipv4/ping_group_range', 'utf8').trim().split(/\s+/).map(Number);
  return [process.getegid!(), ...process.getgroups!()].some((g) => g >= low! && g <= high!);
}

test('auto: ping sockets exactly when net.ipv4.ping_group_range allows them, else raw with the reason', async () => {
  const d = await createIcmpProbe().socket();
  if (pingSocketsAllowed()) {
    assert.equal(d.kind, 'ping');
  } else {
    assert.equal(d.kind, 'raw');
    assert.match(d.why, /ping sockets do not work here .*net\.ipv4\.ping_group_range/);
  }
  assert.deepEqual(await createIcmpProbe({ socket: 'raw' }).socket(), { kind: 'raw', why: 'raw sockets, as configured' });
});

test('SMOKEMESH_FPING_SOCKET chooses the socket kind; a wrong value is the probe\'s error, named', async () => {
  const saved = process.env.SMOKEMESH_FPING_SOCKET;
  try {
    process.env.SMOKEMESH_FPING_SOCKET = 'raw';
    assert.equal((await createIcmpProbe().socket()).kind, 'raw');
    process.env.SMOKEMESH_FPING_SOCKET = 'dgram';
    const probe = createIcmpProbe();
    assert.equal(await probe.unavailable!(), 'SMOKEMESH_FPING_SOCKET is "dgram"; use auto, raw or ping');
    assert.deepEqual(await probe.measure(targets(['127.0.0.1']), never),
      [{ sent: 5, rtts: [], error: 'SMOKEMESH_FPING_SOCKET is "dgram"; use auto, raw or ping' }]);
  } finally {
    if (saved === undefined) delete process.env.SMOKEMESH_FPING_SOCKET;
    else process.env.SMOKEMESH_FPING_SOCKET = saved;
  }
});

test('raw sockets on request: measured as before', async () => {
  const probe = createIcmpProbe({ socket: 'raw' });
  assert.equal(await probe.unavailable!(), undefined);
  const res = await probe.measure(targets(['127.0.0.1', '127.0.0.2']), never);
  assert.deepEqual(res.map((m) => [m.error, m.rtts.length]), [[undefined, 5], [undefined, 5]]);
});

test('127.0.0.1 and 127.x.y.z: every ping answered, RTTs in ms', async () => {
  const res = await icmpProbe.measure(targets(['127.0.0.1', '127.23.45.67', '127.255.254.1']), never);
  assert.equal(res.length, 3);
  for (const m of res) {
    assert.equal(m.error, undefined);
    assert.equal(m.sent, 5);
    assert.equal(m.rtts.length, 5);
    for (const rtt of m.rtts) assert.ok(rtt > 0 && rtt < 500, `rtt ${rtt}`);
  }
});

test('::1 and IPv4 in one batch', { skip: ipv6LoopbackMissing() }, async () => {
  let runs = 0;
  const probe = createIcmpProbe({ onRun: () => { runs++; } });
  const res = await probe.measure(targets(['::1', '127.0.0.1', '[::1]', '0:0::1']), never);
  for (const m of res) {
    assert.equal(m.error, undefined);
    assert.equal(m.rtts.length, 5);
  }
  assert.equal(runs, 1, 'fping ≥ 4 takes IPv4 and IPv6 in one process');
});

test('a name that does not resolve is an error on that target only', async () => {
  const res = await icmpProbe.measure(targets(['127.0.0.1', UNRESOLVABLE, 'localhost', '-f/etc/passwd']), never);
  assert.equal(res[0]!.rtts.length, 5);
  assert.deepEqual(res[1], { sent: 5, rtts: [], error: `cannot resolve "${UNRESOLVABLE}": no such host` });
  assert.equal(res[2]!.error, undefined);
  assert.equal(res[2]!.rtts.length, 5);
  assert.deepEqual(res[3], { sent: 5, rtts: [], error: 'invalid host name "-f/etc/passwd"' });
});

test('a host given twice is pinged once and reported for both targets', async () => {
  const seen: number[] = [];
  const probe = createIcmpProbe({ onRun: (_, n) => seen.push(n) });
  const res = await probe.measure(targets(['127.0.0.9', '127.0.0.9', '127.0.0.10']), never);
  assert.deepEqual(seen, [2]);
  assert.deepEqual(res[0], res[1]);
  assert.equal(res[0]!.rtts.length, 5);
});

test('big batches are cut into shards run in parallel; every target measured', async () => {
  const seen: number[] = [];
  const probe = createIcmpProbe({
    limits: { maxShards: 4, maxShardSize: 3, sweepFraction: 0.5, stepFraction: 0.5 },
    onRun: (_, n) => seen.push(n),
  });
  const hosts = Array.from({ length: 10 }, (_, i) => `127.0.1.${i + 1}`);
  const res = await probe.measure(targets(hosts), never);
  assert.deepEqual(seen.sort(), [2, 2, 3, 3]);
  for (const m of res) assert.equal(m.rtts.length, 5);
});

test('per-group parameters: targets with other settings get their own fping', async () => {
  const seen: number[] = [];
  const probe = createIcmpProbe({ onRun: (_, n) => seen.push(n) });
  const other = { ...params, pings: 3, packet_size: 1000, tos: 184 };
  const res = await probe.measure([...targets(['127.0.0.1']), ...targets(['127.0.0.2', '127.0.0.3'], other)], never);
  assert.deepEqual(seen.sort(), [1, 2]);
  assert.deepEqual(res.map((m) => [m.sent, m.rtts.length, m.error]), [[5, 5, undefined], [3, 3, undefined], [3, 3, undefined]]);
});

test('a source that is not an address is an error naming it', async () => {
  const res = await icmpProbe.measure(targets(['127.0.0.1'], { ...params, source: 'eth0' }), never);
  assert.deepEqual(res, [{ sent: 5, rtts: [], error: 'source "eth0" is not an IP address (fping -S takes an address)' }]);
});

test('no fping: unavailable() says what was looked for and how to install; every target gets it', async () => {
  const byPath = createIcmpProbe({ fping: '/nonexistent/fping' });
  const why = await byPath.unavailable!();
  assert.match(why!, /fping not found: looked for "\/nonexistent\/fping"/);
  assert.match(why!, /apt-get install fping/);
  const res = await byPath.measure(targets(['127.0.0.1', '::1']), never);
  assert.deepEqual(res, [{ sent: 5, rtts: [], error: why }, { sent: 5, rtts: [], error: why }]);

  const byName = createIcmpProbe({ fping: 'fping-not-installed' });
  assert.match((await byName.unavailable!())!, /looked for "fping-not-installed" in PATH and \/usr\/bin, \/usr\/sbin/);
});

test('abort kills the fping children and returns an error per target', { timeout: 20_000 }, async () => {
  const before = new Set(childPids());
  const ac = new AbortController();
  // 50 pings 1 s apart would run for ~50 s
  const slow = { ...params, pings: 50, interval: 1000 };
  const pending = icmpProbe.measure(targets(['127.0.0.1', '::1', '127.0.0.2'], slow), ac.signal);
  let fping: number[] = [];
  for (let i = 0; i < 200 && fping.length === 0; i++) {
    await new Promise((r) => setTimeout(r, 25));
    fping = childPids().filter((p) => !before.has(p) && readFileSync(`/proc/${p}/comm`, 'utf8').trim() === 'fping');
  }
  assert.ok(fping.length > 0, 'fping was started');
  ac.abort();
  const res = await pending;
  assert.deepEqual(res.map((m) => m.error), ['aborted', 'aborted', 'aborted']);
  for (const pid of fping) assert.equal(alive(pid), false, `fping ${pid} was killed`);
});

test('a signal aborted before the call starts nothing', async () => {
  const seen: number[] = [];
  const probe = createIcmpProbe({ onRun: (_, n) => seen.push(n) });
  const res = await probe.measure(targets(['127.0.0.1']), AbortSignal.abort());
  assert.deepEqual(res, [{ sent: 5, rtts: [], error: 'aborted' }]);
  assert.equal(seen.length, 0);
});

test("fping's own error becomes the error of the targets it left without result", async () => {
  // 192.0.2.1 (documentation range) is on no interface here: fping cannot bind it and sends nothing.
  const res = await icmpProbe.measure(targets(['127.0.0.1', '::1'], { ...params, source: '192.0.2.1' }), never);
  for (const m of res) {
    assert.deepEqual(m, { sent: 5, rtts: [], error: 'fping: cannot bind source address : Cannot assign requested address' });
  }
});

test("fping's stderr goes to an unlinked file in the temp dir; where no file can be made there, through a pipe: the same results", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'smokemesh-icmp-tmp-'));
  const saved = process.env.TMPDIR;
  try {
    for (const tmp of [dir, join(dir, 'missing')]) {
      process.env.TMPDIR = tmp;
      const res = await icmpProbe.measure(targets(['127.0.0.1', '127.0.0.2']), never);
      for (const m of res) assert.deepEqual([m.error, m.sent, m.rtts.length], [undefined, 5, 5], `TMPDIR ${tmp}`);
      assert.deepEqual(readdirSync(dir), [], 'no file left behind');
    }
  } finally {
    if (saved === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = saved;
    rmSync(dir, { recursive: true, force: true });
  }
});
