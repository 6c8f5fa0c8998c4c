import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { probedTargets } from '../src/config/tree.ts';
import { createAlerts, type AlertService } from '../src/alerts/index.ts';
import { configIn, silentLog, storeIn, tempDir, writeHook } from '../src/alerts/testkit.ts';
import { icmpProbe } from '../src/probes/icmp.ts';
import type { Store } from '../src/store/types.ts';
import { FarEnd, icmpRounds, isRoot } from './netns-kit.ts';

/**
 * The link-failover case (docs/alerts.md): a far end probed every 5 s with 4 pings by the real
 * icmp probe (fping), an edge-triggered loss alert whose recipient is `|hook.sh`. The far end
 * is an address inside a network namespace of our own (198.19.x.y on a veth pair); nftables
 * in that namespace drops all its ICMP, then the drop is removed.
 */

// A /30 of 198.19.0-127.x: route-failover-netns takes 128-255, so the two never pick one /24
// when they run side by side (the setup refuses a /24 already in use).
const link = new FarEnd('smfo', { from: 0, count: 128 });
const FAR_ADDR = link.farAddr;
const STEP = 5;

const dir = tempDir('smokemesh-failover-');
const hook = writeHook(dir);
let store: Store;
let alerts: AlertService;

before(() => {
  if (isRoot) link.setup();
});

after(async () => {
  await alerts?.close();
  store?.close();
  if (isRoot) link.teardown();
});

test('link failover: 100% ICMP loss raises the hook within two rounds, recovery clears it', { skip: !isRoot && 'needs root for network namespaces', timeout: 120_000 }, async () => {
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
  const oneRound = icmpRounds({ target, store, alerts, step: STEP });
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

  link.nft(`table inet smokemesh_failover {
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

  link.nftDelete('smokemesh_failover');
  const clearedAfter = await roundsUntil('cleared', 2);
  assert.ok(clearedAfter <= 2, `cleared within two rounds (took ${clearedAfter})`);
  const calls = hook.calls();
  assert.deepEqual(calls.map((c) => c.args[5]), ['1', '0'], 'exactly one raised then one cleared');
  assert.match(calls[1]!.args[2]!, /^loss: .*0%$/);
  assert.deepEqual(alerts.engine.active(), []);
});
