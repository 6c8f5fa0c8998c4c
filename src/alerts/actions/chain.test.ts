import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createAlerts } from '../index.ts';
import { configIn, round, silentLog, storeIn, tempDir } from '../testkit.ts';
import { isolateAwsEnv } from '../../aws/sigv4.testkit.ts';
import { startFakeEc2, TEST_KEYS } from '../../aws/fake-aws.testkit.ts';

isolateAwsEnv();

/**
 * The engine → dispatcher → aws_route chain with rounds written by the test (the namespace
 * test, test/route-failover-netns.test.ts, does the same with real probes): one move per
 * raise, none while raised, the move back only after hold_down clean rounds, notes recorded.
 */
test('alert chain: a raise moves the route once, hold_down clean rounds later it moves back once; the history keeps the notes', async (t) => {
  const ec2 = await startFakeEc2('cn-north-1');
  t.after(() => ec2.close());
  ec2.tables.set('rtb-0123456789abcdef0', new Map([['10.20.0.0/16', { target: { field: 'GatewayId', id: 'vgw-0123456789abcdef0' } }]]));
  const dir = tempDir('smokemesh-chain-');
  const config = configIn(dir, `
general: { step: 20, pings: 10, data_dir: ./data }
notifiers:
  dx:
    type: aws_route
    region: cn-north-1
    endpoint: ${ec2.base}
    access_key_id: ${TEST_KEYS.accessKeyId}
    secret_access_key: ${JSON.stringify(TEST_KEYS.secretAccessKey)}
    route_tables: [rtb-0123456789abcdef0]
    destination_cidr: 10.20.0.0/16
    primary: vgw-0123456789abcdef0
    backup: eni-0123456789abcdef0
alerts:
  dxloss: { type: loss, pattern: ">50%", edgetrigger: yes, hold_down: 3, to: dx }
targets:
  children:
    DX: { alerts: [dxloss], children: { far: { host: 127.0.0.1 } } }
`);
  const store = storeIn(dir, config);
  const alerts = createAlerts({ config, store, log: silentLog, builtinAgent: 'srv' });
  t.after(async () => { await alerts.close(); store.close(); });
  const replaces = () => ec2.calls.filter((c) => c.action === 'ReplaceRoute').map((c) => c.params.NetworkInterfaceId ?? c.params.GatewayId);
  let time = Date.UTC(2026, 11, 2, 11, 0, 0);
  const step = async (lost: number) => {
    const r = round('/DX/far', 'srv', time, 10, lost, 10, 20);
    time += 20_000;
    store.write([r]);
    alerts.sink.write([r]);
    await alerts.dispatcher.idle();
  };
  await step(0);
  assert.deepEqual(replaces(), []);
  await step(9);
  assert.deepEqual(replaces(), ['eni-0123456789abcdef0'], 'moved on the first lossy round');
  await step(10);
  await step(0);
  await step(8);
  await step(0);
  await step(0);
  assert.deepEqual(replaces(), ['eni-0123456789abcdef0'], 'raised all along: a clean round within the hold-down does not move it back');
  await step(0);
  assert.deepEqual(replaces(), ['eni-0123456789abcdef0', 'vgw-0123456789abcdef0'], 'back after three clean rounds in a row');
  await step(0);
  assert.equal(replaces().length, 2);
  assert.deepEqual(ec2.problems, []);
  const notes = alerts.db.deliveries({ channel: 'dx', limit: 10 }).map((d) => [d.status, d.attempt_log.map((a) => a.note)]).reverse();
  const ids = ec2.calls.filter((c) => c.action === 'ReplaceRoute').map((c) => c.requestId);
  assert.deepEqual(notes, [
    ['sent', [`10.20.0.0/16 → backup eni-0123456789abcdef0: rtb-0123456789abcdef0: vgw-0123456789abcdef0 → eni-0123456789abcdef0 (ReplaceRoute, request ${ids[0]})`]],
    ['sent', [`10.20.0.0/16 → primary vgw-0123456789abcdef0: rtb-0123456789abcdef0: eni-0123456789abcdef0 → vgw-0123456789abcdef0 (ReplaceRoute, request ${ids[1]})`]],
  ]);
});
