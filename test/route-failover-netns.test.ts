import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { probedTargets } from '../src/config/tree.ts';
import { createAlerts, type AlertService } from '../src/alerts/index.ts';
import { configIn, silentLog, storeIn, tempDir } from '../src/alerts/testkit.ts';
import { isolateAwsEnv } from '../src/aws/sigv4.testkit.ts';
import { startFakeEc2, TEST_KEYS, type FakeEc2 } from '../src/aws/fake-aws.testkit.ts';
import { icmpProbe } from '../src/probes/icmp.ts';
import type { Store } from '../src/store/types.ts';
import { FarEnd, icmpRounds, isRoot } from './netns-kit.ts';

/**
 * The hybrid-cloud link failover, whole chain (docs/recipes/aws-route-failover.md): the far
 * end of a "link" sits in a network namespace of our own (198.19.x.y on a veth pair) and is
 * probed each step by the real icmp probe (fping); rounds go to the store and the alert
 * engine; the alert carries an aws_route action whose EC2 endpoint is a local one checking
 * SigV4 (cn-north-1). nftables in the namespace drops 95% of the echo requests
 * (`numgen random`), then the rule is removed.
 */

isolateAwsEnv();
// A /30 of 198.19.128-255.x (alerts-failover takes 0-127).
const link = new FarEnd('smrt', { from: 128, count: 128 });
const FAR_ADDR = link.farAddr;
const STEP = 5;
const HOLD_DOWN = 2;
const RTB = 'rtb-0123456789abcdef0';
const VGW = 'vgw-0123456789abcdef0';
const ENI = 'eni-0123456789abcdef0';
const CIDR = '10.20.0.0/16';

const dir = tempDir('smokemesh-route-');
let store: Store;
let alerts: AlertService;
let ec2: FakeEc2;

before(async () => {
  ec2 = await startFakeEc2('cn-north-1');
  ec2.tables.set(RTB, new Map([[CIDR, { target: { field: 'GatewayId', id: VGW } }]]));
  if (isRoot) link.setup();
});

after(async () => {
  await alerts?.close();
  store?.close();
  await ec2?.close();
  if (isRoot) link.teardown();
});

test('route failover: loss on the link raises within two rounds and moves the route once; recovery, hold-down, moves it back once', { skip: !isRoot && 'needs root for network namespaces', timeout: 180_000 }, async () => {
  const config = configIn(dir, `
general: { step: ${STEP}, pings: 5, data_dir: ./data }
notifiers:
  dx-failover:
    type: aws_route
    region: cn-north-1
    endpoint: ${ec2.base}
    access_key_id: ${TEST_KEYS.accessKeyId}
    secret_access_key: ${JSON.stringify(TEST_KEYS.secretAccessKey)}
    route_tables: [${RTB}]
    destination_cidr: ${CIDR}
    primary: ${VGW}
    backup: ${ENI}
alerts:
  dxloss:
    type: loss
    pattern: ">50%"
    edgetrigger: yes
    hold_down: ${HOLD_DOWN}
    comment: Direct Connect losing packets, route the VPC over the VPN instance
    to: dx-failover
targets:
  children:
    DX:
      alerts: [dxloss]
      children:
        far-end: { host: ${FAR_ADDR}, interval: 500, timeout: 1000 }
`);
  store = storeIn(dir, config);
  alerts = createAlerts({ config, store, log: silentLog, builtinAgent: 'srv' });
  const [target] = probedTargets(config.targets);
  assert.ok(target);
  assert.equal(await icmpProbe.unavailable?.(), undefined, 'fping works here');

  const oneRound = icmpRounds({ target, store, alerts, step: STEP });
  const replaces = () => ec2.calls.filter((c) => c.action === 'ReplaceRoute');
  const roundsUntil = async (n: number, limit: number): Promise<number> => {
    for (let i = 1; i <= limit; i++) {
      await oneRound();
      if (replaces().length >= n) return i;
    }
    return Infinity;
  };

  const clean = await oneRound();
  assert.equal(clean.loss, 0, 'the far end answers before the loss');
  assert.equal(ec2.calls.length, 0, 'nothing asked of EC2 while the link is fine');

  link.nft(`table inet smokemesh_route {
  chain input { type filter hook input priority 0; policy accept; meta l4proto icmp numgen random mod 100 < 95 counter drop; }
}
`);
  const raisedAfter = await roundsUntil(1, 2);
  assert.ok(raisedAfter <= 2, `the route moved within two rounds (took ${raisedAfter})`);
  assert.deepEqual(replaces().map((c) => [c.params.RouteTableId, c.params.DestinationCidrBlock, c.params.NetworkInterfaceId]), [[RTB, CIDR, ENI]]);
  assert.equal(ec2.tables.get(RTB)!.get(CIDR)!.target.id, ENI);
  // Still lossy: the alert stays raised, nothing more is asked of EC2.
  await oneRound();
  assert.equal(replaces().length, 1, 'called once');

  link.nftDelete('smokemesh_route');
  const firstClean = await oneRound();
  assert.equal(firstClean.loss, 0);
  assert.equal(replaces().length, 1, `hold-down: one clean round of ${HOLD_DOWN} does not move it back`);
  const backAfter = await roundsUntil(2, HOLD_DOWN);
  assert.ok(backAfter < Infinity, 'moved back after the hold-down');
  assert.deepEqual(replaces().map((c) => c.params.GatewayId ?? c.params.NetworkInterfaceId), [ENI, VGW], 'exactly once there and once back');
  assert.equal(ec2.tables.get(RTB)!.get(CIDR)!.target.id, VGW);
  await oneRound();
  assert.equal(replaces().length, 2);
  assert.deepEqual(ec2.problems, []);

  // The alert history keeps each change with its AWS request id.
  const deliveries = alerts.db.deliveries({ channel: 'dx-failover', limit: 10 });
  const notes = deliveries.flatMap((d) => d.attempt_log.map((a) => a.note)).reverse();
  assert.deepEqual(notes, replaces().map((c, i) => `${CIDR} → ${i === 0 ? 'backup' : 'primary'} ${i === 0 ? ENI : VGW}: ${RTB}: ${i === 0 ? VGW : ENI} → ${i === 0 ? ENI : VGW} (ReplaceRoute, request ${c.requestId})`));
});
