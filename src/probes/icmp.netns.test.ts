// Loss through a network namespace made here: the root namespace reaches it over a veth
// pair, and nftables inside it drops echo requests (numgen random mod 100 < 50, or all).
// Traffic goes only to addresses of that namespace (198.18.0.0/15 benchmarking range and
// 2001:db8::/32 documentation prefix, chosen per process) and to 127.0.0.1.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { icmpProbe } from './icmp.ts';
import type { IcmpParams } from './params.ts';

const tag = process.pid % 50000;
const ns = `smx-icmp-${tag}`;
const hostIf = `smi${tag}a`;
const nsIf = `smi${tag}b`;
const octet = tag % 250;
const net4 = `198.18.${octet}`; // .1 here, .2 (50 % loss) and .3 (100 % loss) in the namespace
const net6 = `2001:db8:${tag.toString(16)}`; // ::1 here, ::2 (50 % loss) in the namespace

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

function removeNamespace(): void {
  try { run('ip', 'netns', 'del', ns); } catch { /* not there */ }
}

before(() => {
  if (skip) return;
  removeNamespace();
  run('ip', 'netns', 'add', ns);
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
    `add rule inet smx in ip6 daddr ${net6}::2 icmpv6 type echo-request numgen random mod 100 < 50 drop`);
});

after(() => {
  if (!skip) removeNamespace();
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
