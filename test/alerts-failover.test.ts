import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { probedTargets } from '../src/config/tree.ts';
import { createAlerts, type AlertService } from '../src/alerts/index.ts';
import { configIn, silentLog, storeIn, tempDir, writeHook } from '../src/alerts/testkit.ts';
import { icmpProbe } from '../src/probes/icmp.ts';
import { makeRound } from '../src/probes/round.ts';
import type { Store } from '../src/store/types.ts';

/**
 * The link-failover case (docs/alerts.md): a far end probed every 5 s with 4 pings by the real
 * icmp probe (fping), an edge-triggered loss alert whose recipient is `|hook.sh`. The far end
 * is an address inside a network namespace of our own (198.19.x.y on a veth pair); nftables
 * in that namespace drops all its ICMP, then the drop is removed.
 */

const root = process.getuid?.() === 0;
const tag = Math.random().toString(36).slice(2, 7);
const NS = `smfo${tag}`;
const VETH = `smfo${tag}h`;
// A /30 of the benchmarking range 198.19.0.0/16 (RFC 2544), away from whatever this machine's own
// network uses (here eth0 sits in 192.0.2.0/24) and from the other namespace tests' ranges.
const octet = Math.floor(Math.random() * 256);
const base = 4 * (1 + Math.floor(Math.random() * 60));
const NET = `198.19.${octet}`;
const HOST_ADDR = `${NET}.${base + 1}`;
const FAR_ADDR = `${NET}.${base + 2}`;
const STEP = 5;

function sh(argv: string[], input?: string): void {
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', shell: false, ...(input !== undefined ? { input } : {}) });
  if (r.status !== 0) throw new Error(`${argv.join(' ')}: ${r.stderr}`);
}

const dir = tempDir('smokemesh-failover-');
const hook = writeHook(dir);
let store: Store;
let alerts: AlertService;

before(() => {
  if (!root) return;
  const routes = spawnSync('ip', ['-4', 'route'], { encoding: 'utf8' }).stdout;
  const addrs = spawnSync('ip', ['-4', 'addr'], { encoding: 'utf8' }).stdout;
  assert.ok(!routes.includes(`${NET}.`) && !addrs.includes(`${NET}.`), `our test subnet ${NET}.0/24 is not used on this machine`);
  sh(['ip', 'netns', 'add', NS]);
  sh(['ip', 'link', 'add', VETH, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', NS]);
  sh(['ip', 'addr', 'add', `${HOST_ADDR}/30`, 'dev', VETH]);
  sh(['ip', 'link', 'set', VETH, 'up']);
  sh(['ip', '-n', NS, 'addr', 'add', `${FAR_ADDR}/30`, 'dev', 'eth0']);
  sh(['ip', '-n', NS, 'link', 'set', 'eth0', 'up']);
  sh(['ip', '-n', NS, 'link', 'set', 'lo', 'up']);
});

after(async () => {
  await alerts?.close();
  store?.close();
  if (!root) return;
  spawnSync('ip', ['netns', 'del', NS]);
  spawnSync('ip', ['link', 'del', VETH]);
});

test('link failover: 100% ICMP loss raises the hook within two rounds, recovery clears it', { skip: !root && 'needs root for network namespaces', timeout: 120_000 }, async () => {
  const config = configIn(dir, `
general: { step: ${STEP}, pings: 4, data_dir: ./data }
alerts:
  linkdown:
    type: loss
    pattern: ">50%"
    edgetrigger: yes
    comment: Direct Connect link lost, traffic should fail over to the VPN
    to: "|${hook.path}"
targets:
  children:
    DX:
      alerts: [linkdown]
      children:
        far-end: { host: ${FAR_ADDR}, timeout: 1000 }
`);
  store = storeIn(dir, config);
  alerts = createAlerts({ config, store, log: silentLog, builtinAgent: 'srv' });
  const [target] = probedTargets(config.targets);
  assert.ok(target);
  const unavailable = await icmpProbe.unavailable?.();
  assert.equal(unavailable, undefined, 'fping works here');

  // probe → store → engine, once per step, as the server's pipeline does.
  let tick = Math.ceil(Date.now() / (STEP * 1000)) * STEP * 1000;
  const oneRound = async () => {
    await sleep(Math.max(0, tick - Date.now()));
    const time = tick;
    tick += STEP * 1000;
    const [m] = await icmpProbe.measure([{ path: target.path, host: target.probe.host, params: target.probe.params as never }], AbortSignal.timeout(STEP * 1000));
    const r = makeRound({ target: target.path, agent: 'srv', probe: 'icmp', time, step: STEP }, m!);
    store.write([r]);
    alerts.sink.write([r]);
    await alerts.dispatcher.idle();
    return r;
  };
  const roundsUntil = async (state: string, limit: number): Promise<number> => {
    for (let n = 1; n <= limit; n++) {
      await oneRound();
      if (hook.calls().some((c) => (c.event as { state: string }).state === state)) return n;
    }
    return Infinity;
  };

  const clean = await oneRound();
  assert.equal(clean.loss, 0, 'the far end answers before the drop');
  assert.equal(hook.calls().length, 0);

  sh(['ip', 'netns', 'exec', NS, 'nft', '-f', '-'], `table inet smokemesh_failover {
  chain input { type filter hook input priority 0; policy accept; meta l4proto { icmp, ipv6-icmp } drop; }
}
`);
  const raisedAfter = await roundsUntil('raised', 2);
  assert.ok(raisedAfter <= 2, `raised within two rounds (took ${raisedAfter})`);
  const raised = hook.calls().find((c) => (c.event as { state: string }).state === 'raised')!;
  assert.equal(raised.args[0], 'linkdown');
  assert.equal(raised.args[1], 'DX.far-end');
  assert.match(raised.args[2]!, /^loss: .*100%$/);
  assert.match(raised.args[3]!, /^rtt: .*U$/);
  assert.equal(raised.args[4], FAR_ADDR);
  assert.equal(raised.args[5], '1');

  sh(['ip', 'netns', 'exec', NS, 'nft', 'delete', 'table', 'inet', 'smokemesh_failover']);
  const clearedAfter = await roundsUntil('cleared', 2);
  assert.ok(clearedAfter <= 2, `cleared within two rounds (took ${clearedAfter})`);
  const calls = hook.calls();
  assert.deepEqual(calls.map((c) => c.args[5]), ['1', '0'], 'exactly one raised then one cleared');
  assert.match(calls[1]!.args[2]!, /^loss: .*0%$/);
  assert.deepEqual(alerts.engine.active(), []);
});
