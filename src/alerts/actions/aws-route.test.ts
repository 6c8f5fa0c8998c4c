import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EC2Client } from '@aws-sdk/client-ec2';
import { isolateAwsEnv } from '../../aws/sigv4.testkit.ts';
import { startFakeEc2, TEST_KEYS, type FakeEc2 } from '../../aws/fake-aws.testkit.ts';
import { sampleEvent } from '../notifiers/receiver.testkit.ts';
import { awsClientConfig } from '../notifiers/aws.ts';
import { awsRouteKind } from './aws-route.ts';

isolateAwsEnv();

const VGW = 'vgw-0a1b2c3d4e5f60718';
const ENI = 'eni-0fedcba9876543210';
const CIDR = '10.20.0.0/16';
const raised = sampleEvent({ state: 'raised' });
const cleared = sampleEvent({ state: 'cleared', id: 'evt-0002' });

async function ec2(t: { after(fn: () => unknown): void }, region = 'cn-north-1'): Promise<FakeEc2> {
  const fake = await startFakeEc2(region);
  t.after(() => fake.close());
  for (const id of ['rtb-0aaaaaaaaaaaaaaa1', 'rtb-0aaaaaaaaaaaaaaa2']) {
    fake.tables.set(id, new Map([[CIDR, { target: { field: 'GatewayId', id: VGW } }], ['0.0.0.0/0', { target: { field: 'GatewayId', id: 'igw-0123456789abcdef0' } }]]));
  }
  return fake;
}

function action(fake: FakeEc2, over: Record<string, unknown> = {}, name = 'dx-failover') {
  return awsRouteKind.create(name, {
    region: 'cn-north-1', endpoint: fake.base, access_key_id: TEST_KEYS.accessKeyId, secret_access_key: TEST_KEYS.secretAccessKey,
    route_tables: ['rtb-0aaaaaaaaaaaaaaa1', 'rtb-0aaaaaaaaaaaaaaa2'], destination_cidr: CIDR, primary: VGW, backup: ENI, ...over,
  });
}
const targetOf = (fake: FakeEc2, table: string) => fake.tables.get(table)!.get(CIDR)?.target.id;
const send = (n: ReturnType<typeof action>, e = raised) => n.send(e, AbortSignal.timeout(10_000));

test('aws_route: raise points the route at the backup in every table, clear points it back; exact EC2 parameters, signed for cn-north-1', async (t) => {
  const fake = await ec2(t);
  const n = action(fake);
  const note = await send(n);
  assert.deepEqual(fake.problems, []);
  assert.deepEqual(fake.calls.map((c) => c.action), ['DescribeRouteTables', 'ReplaceRoute', 'ReplaceRoute']);
  assert.deepEqual(fake.calls[0]!.params, {
    Action: 'DescribeRouteTables', Version: '2016-11-15',
    'RouteTableId.1': 'rtb-0aaaaaaaaaaaaaaa1', 'RouteTableId.2': 'rtb-0aaaaaaaaaaaaaaa2',
    'Filter.1.Name': 'route.destination-cidr-block', 'Filter.1.Value.1': CIDR,
  });
  assert.deepEqual(fake.calls[1]!.params, { Action: 'ReplaceRoute', Version: '2016-11-15', RouteTableId: 'rtb-0aaaaaaaaaaaaaaa1', DestinationCidrBlock: CIDR, NetworkInterfaceId: ENI });
  assert.equal(fake.calls[2]!.params.RouteTableId, 'rtb-0aaaaaaaaaaaaaaa2');
  assert.equal(targetOf(fake, 'rtb-0aaaaaaaaaaaaaaa1'), ENI);
  assert.equal(targetOf(fake, 'rtb-0aaaaaaaaaaaaaaa2'), ENI);
  assert.equal(fake.tables.get('rtb-0aaaaaaaaaaaaaaa1')!.get('0.0.0.0/0')!.target.id, 'igw-0123456789abcdef0', 'other routes untouched');
  assert.equal(note, `${CIDR} → backup ${ENI}: rtb-0aaaaaaaaaaaaaaa1: ${VGW} → ${ENI} (ReplaceRoute, request ${fake.calls[1]!.requestId}); rtb-0aaaaaaaaaaaaaaa2: ${VGW} → ${ENI} (ReplaceRoute, request ${fake.calls[2]!.requestId})`);

  fake.calls.length = 0;
  const back = await send(n, cleared);
  assert.deepEqual(fake.calls.map((c) => c.action), ['DescribeRouteTables', 'ReplaceRoute', 'ReplaceRoute']);
  assert.deepEqual(fake.calls[1]!.params, { Action: 'ReplaceRoute', Version: '2016-11-15', RouteTableId: 'rtb-0aaaaaaaaaaaaaaa1', DestinationCidrBlock: CIDR, GatewayId: VGW });
  assert.equal(targetOf(fake, 'rtb-0aaaaaaaaaaaaaaa1'), VGW);
  assert.match(back as string, /^10\.20\.0\.0\/16 → primary vgw-/);
});

test('aws_route: conditional on the current target: a second server finds the work done; a third target is left alone with a named error', async (t) => {
  const fake = await ec2(t);
  const a = action(fake, {}, 'server-a');
  const b = action(fake, {}, 'server-b');
  await send(a);
  fake.calls.length = 0;
  const noop = await send(b);
  assert.deepEqual(fake.calls.map((c) => c.action), ['DescribeRouteTables'], 'read only: already right');
  assert.match(noop as string, /rtb-0aaaaaaaaaaaaaaa1: already points at eni-0fedcba9876543210; rtb-0aaaaaaaaaaaaaaa2: already points at/);

  // Someone moved table 2 to a transit gateway: that table is not touched, table 1 still is.
  fake.tables.get('rtb-0aaaaaaaaaaaaaaa2')!.set(CIDR, { target: { field: 'TransitGatewayId', id: 'tgw-0123456789abcdef0' } });
  fake.calls.length = 0;
  await assert.rejects(send(a, cleared), (e: Error) =>
    /^aws_route action "server-a": rtb-0aaaaaaaaaaaaaaa2: points at tgw-0123456789abcdef0, neither vgw-0a1b2c3d4e5f60718 nor eni-0fedcba9876543210: changed by someone else, left alone; rtb-0aaaaaaaaaaaaaaa1: eni-.* → vgw-.* \(ReplaceRoute, request [0-9a-f-]{36}\)$/.test(e.message));
  assert.deepEqual(fake.calls.map((c) => c.action), ['DescribeRouteTables', 'ReplaceRoute']);
  assert.equal(targetOf(fake, 'rtb-0aaaaaaaaaaaaaaa2'), 'tgw-0123456789abcdef0');

  // A blackhole route (its backup instance gone) is repaired; a propagated one is refused.
  fake.tables.get('rtb-0aaaaaaaaaaaaaaa2')!.set(CIDR, { target: { field: 'InstanceId', id: 'i-0123456789abcdef0' }, state: 'blackhole' });
  await send(a, cleared);
  assert.equal(targetOf(fake, 'rtb-0aaaaaaaaaaaaaaa2'), VGW);
  fake.tables.get('rtb-0aaaaaaaaaaaaaaa2')!.set(CIDR, { target: { field: 'GatewayId', id: VGW }, origin: 'EnableVgwRoutePropagation' });
  await assert.rejects(send(a), /rtb-0aaaaaaaaaaaaaaa2: the route to 10\.20\.0\.0\/16 is propagated from a VGW and cannot be replaced/);
});

test('aws_route: dry run asks EC2 with DryRun and changes nothing; a denied dry run is a named error', async (t) => {
  const fake = await ec2(t);
  const n = action(fake, { dry_run: true });
  const note = await send(n);
  assert.deepEqual(fake.calls.map((c) => [c.action, c.params.DryRun]), [['DescribeRouteTables', undefined], ['ReplaceRoute', 'true'], ['ReplaceRoute', 'true']]);
  assert.equal(targetOf(fake, 'rtb-0aaaaaaaaaaaaaaa1'), VGW);
  assert.match(note as string, /dry run: rtb-0aaaaaaaaaaaaaaa1: vgw-0a1b2c3d4e5f60718 → eni-0fedcba9876543210 would succeed \(ReplaceRoute, request [0-9a-f-]{36}\)/);
  fake.dryRunAllowed = false;
  await assert.rejects(send(n), (e: Error & { detail?: string }) =>
    /^aws_route action "dx-failover": ReplaceRoute rtb-0aaaaaaaaaaaaaaa1 failed \(http:\/\/127\.0\.0\.1:\d+\/\): HTTP 403 UnauthorizedOperation \(request [0-9a-f-]{36}\)$/.test(e.message) && /not authorized/.test(e.detail ?? ''));
});

test('aws_route: a missing route is created; a race (InvalidRoute.NotFound) is re-read once; errors name the call, code and request id', async (t) => {
  const fake = await ec2(t);
  fake.tables.get('rtb-0aaaaaaaaaaaaaaa1')!.delete(CIDR);
  const n = action(fake, { route_tables: ['rtb-0aaaaaaaaaaaaaaa1'] });
  const note = await send(n);
  assert.deepEqual(fake.calls.map((c) => c.action), ['DescribeRouteTables', 'CreateRoute']);
  assert.match(note as string, /rtb-0aaaaaaaaaaaaaaa1: \(no route\) → eni-0fedcba9876543210 \(CreateRoute, request/);

  // The route disappears between the read and the write.
  fake.calls.length = 0;
  fake.fail.ReplaceRoute = { status: 400, code: 'InvalidRoute.NotFound', message: 'no route' };
  fake.tables.get('rtb-0aaaaaaaaaaaaaaa1')!.set(CIDR, { target: { field: 'GatewayId', id: VGW } });
  const racing = send(n);
  // The fake removes the route when the first ReplaceRoute arrives (answered NotFound), then accepts.
  const orig = fake.receiver.answer;
  fake.receiver.answer = (r) => {
    const a = orig(r);
    if (new URLSearchParams(r.body).get('Action') === 'ReplaceRoute') {
      fake.tables.get('rtb-0aaaaaaaaaaaaaaa1')!.delete(CIDR);
      delete fake.fail.ReplaceRoute;
    }
    return a;
  };
  await racing;
  assert.deepEqual(fake.calls.map((c) => c.action), ['DescribeRouteTables', 'ReplaceRoute', 'DescribeRouteTables', 'CreateRoute']);
  assert.equal(targetOf(fake, 'rtb-0aaaaaaaaaaaaaaa1'), ENI);

  fake.fail.DescribeRouteTables = { status: 400, code: 'InvalidRouteTableID.NotFound', message: "The routeTable ID 'rtb-0aaaaaaaaaaaaaaa1' does not exist" };
  await assert.rejects(send(n), /aws_route action "dx-failover": DescribeRouteTables failed \(.*\): HTTP 400 InvalidRouteTableID\.NotFound \(request [0-9a-f-]{36}\)$/);
  delete fake.fail.DescribeRouteTables;
  fake.fail.ReplaceRoute = { status: 503, code: 'RequestLimitExceeded', message: 'Request limit exceeded.' };
  await assert.rejects(send(n, cleared), /ReplaceRoute rtb-0aaaaaaaaaaaaaaa1 failed .*: HTTP 503 RequestLimitExceeded \(request /);
  assert.deepEqual(fake.problems, []);
});

test('aws_route: IPv6 destinations and instance targets use their own parameters; China endpoint; restore off', async (t) => {
  const fake = await ec2(t);
  fake.tables.set('rtb-0bbbbbbbbbbbbbbb1', new Map([['2001:db8::/56', { target: { field: 'InstanceId', id: 'i-0aaaaaaaaaaaaaaa1' } }]]));
  const n = action(fake, { route_tables: ['rtb-0bbbbbbbbbbbbbbb1'], destination_cidr: '2001:db8::/56', primary: 'i-0aaaaaaaaaaaaaaa1', backup: 'tgw-0aaaaaaaaaaaaaaa1', restore: false });
  await send(n);
  assert.equal(fake.calls[0]!.params['Filter.1.Name'], 'route.destination-ipv6-cidr-block');
  assert.deepEqual(fake.calls[1]!.params, { Action: 'ReplaceRoute', Version: '2016-11-15', RouteTableId: 'rtb-0bbbbbbbbbbbbbbb1', DestinationIpv6CidrBlock: '2001:db8::/56', TransitGatewayId: 'tgw-0aaaaaaaaaaaaaaa1' });
  fake.calls.length = 0;
  assert.match(await send(n, cleared) as string, /^restore is off/);
  assert.equal(fake.calls.length, 0);

  for (const region of ['cn-north-1', 'cn-northwest-1']) {
    const client = new EC2Client(awsClientConfig('x', {}, region));
    const ep = client.config.endpointProvider({ Region: await client.config.region(), UseFIPS: false, UseDualStack: false });
    assert.equal(ep.url.href, `https://ec2.${region}.amazonaws.com.cn/`);
    client.destroy();
  }
  // Signed for the wrong region: the endpoint refuses it.
  const us = action(fake, { region: 'us-east-1' });
  await assert.rejects(send(us), /HTTP 403/);
  assert.match(fake.problems[0] ?? '', /us-east-1/);
});

test('aws_route: config errors name the field', () => {
  const base = { region: 'cn-north-1', route_tables: ['rtb-0aaaaaaaaaaaaaaa1'], destination_cidr: CIDR, primary: VGW, backup: ENI };
  assert.throws(() => awsRouteKind.create('fo', { ...base, backup: VGW }), /notifiers\.fo\.backup: must differ from primary/);
  assert.throws(() => awsRouteKind.create('fo', { ...base, primary: 'nat-0123456789abcdef0' }), /notifiers\.fo\.primary: must match/);
  assert.throws(() => awsRouteKind.create('fo', { ...base, route_tables: [] }), /notifiers\.fo\.route_tables/);
  assert.throws(() => awsRouteKind.create('fo', { ...base, destination_cidr: '10.0.0.0' }), /notifiers\.fo\.destination_cidr/);
  assert.throws(() => awsRouteKind.create('fo', { ...base, access_key_id: 'A' }), /set access_key_id and secret_access_key together/);
});
