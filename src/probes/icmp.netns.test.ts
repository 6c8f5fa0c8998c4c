// Loss through network namespaces made here: the target namespace drops echo requests with
// nftables (numgen random mod 100 < 50, or all) and counts those sent with TOS 184. The root
// namespace reaches it over one veth pair (whatever ICMP socket this machine gives fping);
// an "agent" namespace that allows ping sockets reaches it over another, so both socket
// kinds are measured against the same targets. Traffic goes only to addresses of these
// namespaces (198.18.0.0/15 benchmarking range, 2001:db8::/32 documentation prefix, chosen
// per process) and to their loopbacks.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { createIcmpProbe, icmpProbe, type IcmpProbe } from './icmp.ts';
import type { IcmpParams } from './params.ts';
import type { SocketChoice } from './fping/socket.ts';

const tag = process.pid % 50000;
const ns = `smx-icmp-${tag}`;
const agentNs = `smx-icmpa-${tag}`;
const hostIf = `smi${tag}a`;
const nsIf = `smi${tag}b`;
const agentIf = `smi${tag}c`;
const nsIf2 = `smi${tag}d`;
const octet = tag % 250;
const net4 = `198.18.${octet}`; // .1 here, .2 (50 % loss) and .3 (100 % loss) in the namespace
const net6 = `2001:db8:${tag.toString(16)}`; // ::1 here, ::2 (50 % loss) in the namespace
const agent4 = `198.19.${octet}`; // .1 in the agent namespace, .2 (50 %) and .3 (100 %) in the target one
const agent6 = `2001:db8:${tag.toString(16)}:1`; // ::1 agent, ::2 (50 %) target
const inAgent = ['ip', 'netns', 'exec', agentNs];

function skipReason(): string | false {
  if (process.getuid?.() !== 0) return 'needs root to create a network namespace';
  for (const [tool, pkg] of [['ip', 'iproute2'], ['nft', 'nftables']] as const) {
    try {
      execFileSync(tool, ['-V'], { stdio: 'ignore' });
    } catch {
      return `${tool} does not run (apt-get install ${pkg})`;
    }
  }
  return false;
}
const skip = skipReason();

function run(cmd: string, ...args: string[]): void {
  execFileSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

function removeNamespaces(): void {
  for (const name of [ns, agentNs]) {
    try { run('ip', 'netns', 'del', name); } catch { /* not there */ }
  }
}

/** Packets the target namespace counted in its named nftables counter. */
function counted(name: string): number {
  const out = execFileSync('ip', ['netns', 'exec', ns, 'nft', '-j', 'list', 'counter', 'inet', 'smx', name], { encoding: 'utf8' });
  const m = /"packets":\s*(\d+)/.exec(out);
  return m ? Number(m[1]) : NaN;
}

before(() => {
  if (skip) return;
  removeNamespaces();
  run('ip', 'netns', 'add', ns);
  run('ip', 'netns', 'add', agentNs);
  run('ip', '-n', agentNs, 'link', 'set', 'lo', 'up');
  run('ip', 'netns', 'exec', agentNs, 'sysctl', '-q', '-w', 'net.ipv4.ping_group_range=0 2147483647');
  run('ip', 'link', 'add', agentIf, 'netns', agentNs, 'type', 'veth', 'peer', 'name', nsIf2, 'netns', ns);
  run('ip', '-n', agentNs, 'addr', 'add', `${agent4}.1/29`, 'dev', agentIf);
  run('ip', '-n', agentNs, '-6', 'addr', 'add', `${agent6}::1/64`, 'dev', agentIf, 'nodad');
  run('ip', '-n', agentNs, 'link', 'set', agentIf, 'up');
  run('ip', '-n', ns, 'addr', 'add', `${agent4}.2/29`, 'dev', nsIf2);
  run('ip', '-n', ns, 'addr', 'add', `${agent4}.3/29`, 'dev', nsIf2);
  run('ip', '-n', ns, '-6', 'addr', 'add', `${agent6}::2/64`, 'dev', nsIf2, 'nodad');
  run('ip', '-n', ns, 'link', 'set', nsIf2, 'up');
  run('ip', 'link', 'add', hostIf, 'type', 'veth', 'peer', 'name', nsIf, 'netns', ns);
  run('ip', 'addr', 'add', `${net4}.1/29`, 'dev', hostIf);
  run('ip', '-6', 'addr', 'add', `${net6}::1/64`, 'dev', hostIf, 'nodad');
  run('ip', 'link', 'set', hostIf, 'up');
  run('ip', '-n', ns, 'addr', 'add', `${net4}.2/29`, 'dev', nsIf);
  run('ip', '-n', ns, 'addr', 'add', `${net4}.3/29`, 'dev', nsIf);
  run('ip', '-n', ns, '-6', 'addr', 'add', `${net6}::2/64`, 'dev', nsIf, 'nodad');
  run('ip', '-n', ns, 'link', 'set', nsIf, 'up');
  run('ip', 'netns', 'exec', ns, 'nft',
    `add table inet smx; add chain inet smx in { type filter hook input priority 0; }; ` +
    `add rule inet smx in ip daddr ${net4}.2 icmp type echo-request numgen random mod 100 < 50 drop; ` +
    `add rule inet smx in ip daddr ${net4}.3 icmp type echo-request drop; ` +
    `add rule inet smx in ip6 daddr ${net6}::2 icmpv6 type echo-request numgen random mod 100 < 50 drop; ` +
    `add counter inet smx tos4; add counter inet smx tos6; ` +
    `add rule inet smx in ip saddr ${agent4}.1 ip dscp ef icmp type echo-request counter name tos4; ` +
    `add rule inet smx in ip6 saddr ${agent6}::1 ip6 dscp ef icmpv6 type echo-request counter name tos6; ` +
    `add rule inet smx in ip daddr ${agent4}.2 icmp type echo-request numgen random mod 100 < 50 drop; ` +
    `add rule inet smx in ip daddr ${agent4}.3 icmp type echo-request drop; ` +
    `add rule inet smx in ip6 daddr ${agent6}::2 icmpv6 type echo-request numgen random mod 100 < 50 drop`);
});

after(() => {
  if (!skip) removeNamespaces();
});

test('loss injected by nftables is seen per target; the loopback in the same batch loses nothing', { skip }, async () => {
  const params: IcmpParams = {
    pings: 20, timeout: 300, step: 60, offset: 'random',
    packet_size: 56, tos: 0, interval: 20, mininterval: 0.5,
  };
  const hosts = [`${net4}.2`, `${net4}.3`, `${net6}::2`, '127.0.0.1'];
  const res = await icmpProbe.measure(hosts.map((host) => ({ path: `/lossy/${host}`, host, params })), new AbortController().signal);
  const lost = res.map((m) => m.sent - m.rtts.length);
  for (const m of res) assert.equal(m.error, undefined, 'loss is not an error');
  // 50 % drop over 20 pings: 0 or 20 lost has a chance of 2 × 0.5^20 ≈ 2e-6
  assert.ok(lost[0]! > 0 && lost[0]! < 20, `IPv4 50 % drop lost ${lost[0]} of 20`);
  assert.equal(lost[1], 20, 'IPv4 100 % drop');
  assert.ok(lost[2]! > 0 && lost[2]! < 20, `IPv6 50 % drop lost ${lost[2]} of 20`);
  assert.equal(lost[3], 0, 'loopback');
});

const lossy: IcmpParams = {
  pings: 20, timeout: 300, step: 60, offset: 'random',
  packet_size: 56, tos: 0, interval: 20, mininterval: 0.5,
};

/** The probe as it runs in the agent namespace, where ping sockets are allowed. */
function agentProbe(socket: SocketChoice): IcmpProbe {
  return createIcmpProbe({ socket, wrap: inAgent });
}

for (const [choice, kind] of [['auto', 'ping'], ['raw', 'raw']] as const) {
  test(`${kind} sockets (${choice}): loss seen per target, the loopback in the same batch loses nothing`, { skip }, async () => {
    const probe = agentProbe(choice);
    assert.equal((await probe.socket()).kind, kind);
    assert.equal(await probe.unavailable!(), undefined);
    const hosts = [`${agent4}.2`, `${agent4}.3`, `${agent6}::2`, '127.0.0.1', '::1'];
    const res = await probe.measure(hosts.map((host) => ({ path: `/lossy/${host}`, host, params: lossy })), new AbortController().signal);
    const lost = res.map((m) => m.sent - m.rtts.length);
    for (const m of res) assert.equal(m.error, undefined, 'loss is not an error');
    assert.ok(lost[0]! > 0 && lost[0]! < 20, `IPv4 50 % drop lost ${lost[0]} of 20`);
    assert.equal(lost[1], 20, 'IPv4 100 % drop');
    assert.ok(lost[2]! > 0 && lost[2]! < 20, `IPv6 50 % drop lost ${lost[2]} of 20`);
    assert.deepEqual(lost.slice(3), [0, 0], 'loopback');
  });
}

test('ping sockets: TOS (-O) and the source address (-S) are honoured for IPv4 and IPv6', { skip }, async () => {
  const probe = agentProbe('ping');
  const params = { ...lossy, pings: 5, tos: 184 };
  const before4 = counted('tos4');
  const before6 = counted('tos6');
  const [v4] = await probe.measure([{ path: '/v4', host: `${agent4}.2`, params: { ...params, source: `${agent4}.1` } }], new AbortController().signal);
  const [v6] = await probe.measure([{ path: '/v6', host: `${agent6}::2`, params: { ...params, source: `${agent6}::1` } }], new AbortController().signal);
  assert.equal(v4!.error, undefined);
  assert.equal(v6!.error, undefined);
  assert.equal(counted('tos4') - before4, 5, 'five IPv4 echo requests with DSCP EF from the source');
  assert.equal(counted('tos6') - before6, 5, 'five IPv6 echo requests with DSCP EF from the source');
  // an address of no interface: fping (started by its path behind unshare) says so
  const [bad] = await probe.measure([{ path: '/bad', host: '127.0.0.1', params: { ...params, source: `${net4}.6` } }], new AbortController().signal);
  assert.deepEqual(bad, { sent: 5, rtts: [], error: 'fping: cannot bind source address : Cannot assign requested address' });
});

test('a namespace without ping sockets: auto uses raw and says why; ping on request is an error', { skip }, async () => {
  const inTarget = ['ip', 'netns', 'exec', ns]; // net.ipv4.ping_group_range keeps its default "1 0" there
  run('ip', '-n', ns, 'link', 'set', 'lo', 'up');
  const auto = createIcmpProbe({ wrap: inTarget });
  const d = await auto.socket();
  assert.equal(d.kind, 'raw');
  assert.match(d.why, /ping sockets do not work here \(.+\); allow them with sysctl net\.ipv4\.ping_group_range/);
  const forced = createIcmpProbe({ socket: 'ping', wrap: inTarget });
  assert.match((await forced.unavailable!())!, /cannot use a ping socket: .*net\.ipv4\.ping_group_range/);
  const [m] = await forced.measure([{ path: '/lo', host: '127.0.0.1', params: lossy }], new AbortController().signal);
  assert.match(m!.error!, /exit code 4/);
});

test('ping sockets: abort kills fping (unshare and ip netns exec exec into it, no orphan)', { skip, timeout: 20_000 }, async () => {
  const kids = (): number[] => readdirSync('/proc/self/task').flatMap((tid) => {
    try { return readFileSync(`/proc/self/task/${tid}/children`, 'utf8').split(' ').filter(Boolean).map(Number); } catch { return []; }
  });
  const before = new Set(kids());
  const ac = new AbortController();
  const pending = agentProbe('ping').measure([{ path: '/lo', host: '127.0.0.1', params: { ...lossy, pings: 50, interval: 1000 } }], ac.signal);
  let fping: number[] = [];
  for (let i = 0; i < 400 && fping.length === 0; i++) {
    await new Promise((r) => setTimeout(r, 25));
    fping = kids().filter((p) => {
      try { return !before.has(p) && readFileSync(`/proc/${p}/cmdline`, 'utf8').includes('-C\u000050'); } catch { return false; }
    });
  }
  assert.ok(fping.length > 0, 'fping was started');
  ac.abort();
  assert.deepEqual((await pending).map((m) => m.error), ['aborted']);
  for (const pid of fping) {
    let gone = false;
    try { process.kill(pid, 0); } catch { gone = true; }
    assert.ok(gone, `fping ${pid} was killed`);
  }
});

test('a host that drops every echo request, its loopback included: the probe still runs and measures the loss', { skip }, async () => {
  // The availability check pings the loopback once; a lost ping is loss, not a broken fping
  // (an agent on a lossy host once reported "fping does not work" for every target).
  const lossyNs = `smx-icmpl-${tag}`;
  try { run('ip', 'netns', 'del', lossyNs); } catch { /* not there */ }
  run('ip', 'netns', 'add', lossyNs);
  try {
    run('ip', '-n', lossyNs, 'link', 'set', 'lo', 'up');
    run('ip', 'netns', 'exec', lossyNs, 'sysctl', '-q', '-w', 'net.ipv4.ping_group_range=0 2147483647');
    execFileSync('ip', ['netns', 'exec', lossyNs, 'nft', '-f', '-'], {
      input: 'table inet smxl {\n chain input {\n  type filter hook input priority 0;\n  icmp type echo-request drop\n }\n}\n',
    });
    for (const [choice, kind] of [['auto', 'ping'], ['raw', 'raw']] as const) {
      const probe = createIcmpProbe({ socket: choice, wrap: ['ip', 'netns', 'exec', lossyNs] });
      assert.equal(await probe.unavailable!(), undefined, `${choice}: fping runs`);
      assert.equal((await probe.socket()).kind, kind, `${choice}: the socket is not downgraded by a lost ping`);
      const [m] = await probe.measure([{ path: '/lo', host: '127.0.0.1', params: { ...lossy, pings: 3 } }], new AbortController().signal);
      assert.deepEqual(m, { sent: 3, rtts: [] }, `${choice}: every ping lost, no error`);
    }
  } finally {
    run('ip', 'netns', 'del', lossyNs);
  }
});
