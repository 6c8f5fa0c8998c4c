/**
 * Local stand-ins for the AWS APIs smokemesh calls, on 127.0.0.1: every request's SigV4
 * signature is recomputed (sigv4.testkit.ts) and its protocol headers checked; what is wrong
 * is answered 403 and kept in `problems` for the test to show. CloudWatch speaks what
 * @aws-sdk/client-cloudwatch sends (JSON 1.0, awsQuery-compatible, gzip above 10 KB); EC2
 * speaks the query protocol and keeps route tables in memory.
 */
import { randomUUID } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { startReceiver, type Answer, type Received, type Receiver } from '../alerts/notifiers/receiver.testkit.ts';
import { verifySigV4, type SigV4Expect } from './sigv4.testkit.ts';

export const TEST_KEYS = { accessKeyId: 'AKIDSMOKEMESHTEST', secretAccessKey: 'smokemesh/test+secret' };

interface Fake {
  base: string;
  receiver: Receiver;
  /** Why requests were refused (bad signature, wrong headers); empty when all was right. */
  problems: string[];
  close(): Promise<void>;
}

function checked(r: Received, expect: SigV4Expect, problems: string[], more: () => void): Answer | undefined {
  try {
    verifySigV4(r, TEST_KEYS.secretAccessKey, expect);
    more();
    return undefined;
  } catch (e) {
    problems.push((e as Error).message);
    return { status: 403, headers: { 'content-type': 'text/plain' }, body: (e as Error).message };
  }
}

// ---------------------------------------------------------------- CloudWatch

export interface PutMetricDataCall {
  Namespace: string;
  MetricData: { MetricName: string; Dimensions?: { Name: string; Value: string }[]; Value?: number; Timestamp?: number; Unit?: string; StorageResolution?: number }[];
  /** Bytes of the JSON body, uncompressed. */
  bytes: number;
  time: number;
}

export interface FakeCloudWatch extends Fake {
  calls: PutMetricDataCall[];
  /** Answers a well-signed request; default accepts. Return `throttle` or an error to refuse. */
  decide: (call: PutMetricDataCall) => 'ok' | 'throttle' | { status: number; code: string; message: string };
}

/** A PutMetricData endpoint for `region` (signing service `monitoring`). */
export async function startFakeCloudWatch(region: string): Promise<FakeCloudWatch> {
  const problems: string[] = [];
  const fake = { problems, calls: [] as PutMetricDataCall[], decide: () => 'ok' } as unknown as FakeCloudWatch;
  const json = (status: number, body: unknown, extra: Record<string, string> = {}): Answer => ({
    status, body: JSON.stringify(body), headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-requestid': randomUUID(), ...extra },
  });
  fake.receiver = await startReceiver((r) => {
    let text = '';
    const bad = checked(r, { accessKey: TEST_KEYS.accessKeyId, region, service: 'monitoring' }, problems, () => {
      if (r.method !== 'POST' || r.url !== '/') throw new Error(`${r.method} ${r.url}: expected POST /`);
      if (r.headers['content-type'] !== 'application/x-amz-json-1.0') throw new Error(`content-type ${r.headers['content-type']}`);
      if (r.headers['x-amz-target'] !== 'GraniteServiceVersion20100801.PutMetricData') throw new Error(`x-amz-target ${r.headers['x-amz-target']}`);
      text = r.headers['content-encoding'] === 'gzip' ? gunzipSync(r.raw).toString('utf8') : r.body;
    });
    if (bad) return bad;
    const call = { ...(JSON.parse(text) as Omit<PutMetricDataCall, 'bytes' | 'time'>), bytes: Buffer.byteLength(text), time: Date.now() };
    const verdict = fake.decide(call);
    if (verdict === 'throttle') return json(400, { __type: 'com.amazonaws.cloudwatch#ThrottlingException', message: 'Rate exceeded' }, { 'x-amzn-query-error': 'Throttling;Sender' });
    if (verdict !== 'ok') return json(verdict.status, { __type: `com.amazonaws.cloudwatch#${verdict.code}`, message: verdict.message }, { 'x-amzn-query-error': `${verdict.code};Sender` });
    fake.calls.push(call);
    return json(200, {});
  });
  fake.base = fake.receiver.base;
  fake.close = () => fake.receiver.close();
  return fake;
}

// ---------------------------------------------------------------- EC2 routes

/** Route target fields of EC2 (one per route). */
export const ROUTE_TARGET_FIELDS = ['InstanceId', 'NetworkInterfaceId', 'GatewayId', 'TransitGatewayId'] as const;
export type RouteTargetField = (typeof ROUTE_TARGET_FIELDS)[number];

export interface FakeRoute {
  target: { field: RouteTargetField; id: string };
  state?: 'active' | 'blackhole';
  origin?: 'CreateRoute' | 'CreateRouteTable' | 'EnableVgwRoutePropagation';
}

export interface Ec2Call {
  action: string;
  params: Record<string, string>;
  requestId: string;
  time: number;
}

export interface FakeEc2 extends Fake {
  /** Route table id → destination CIDR → route. */
  tables: Map<string, Map<string, FakeRoute>>;
  calls: Ec2Call[];
  /** Whether DryRun requests are permitted (DryRunOperation) or not (UnauthorizedOperation). */
  dryRunAllowed: boolean;
  /** Set to answer the next calls of an action with an error instead. */
  fail: Partial<Record<string, { status: number; code: string; message: string }>>;
}

/** An EC2 query endpoint for `region` (signing service `ec2`) with DescribeRouteTables, ReplaceRoute and CreateRoute. */
export async function startFakeEc2(region: string): Promise<FakeEc2> {
  const problems: string[] = [];
  const fake = { problems, tables: new Map(), calls: [] as Ec2Call[], dryRunAllowed: true, fail: {} } as unknown as FakeEc2;
  const xml = (status: number, body: string, id: string): Answer => ({ status, headers: { 'content-type': 'text/xml;charset=UTF-8', 'x-amzn-requestid': id }, body });
  const error = (status: number, code: string, message: string, id: string) => xml(status,
    `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>${code}</Code><Message>${message}</Message></Error></Errors><RequestID>${id}</RequestID></Response>`, id);
  fake.receiver = await startReceiver((r) => {
    let params = new URLSearchParams();
    const bad = checked(r, { accessKey: TEST_KEYS.accessKeyId, region, service: 'ec2' }, problems, () => {
      if (r.method !== 'POST' || r.url !== '/') throw new Error(`${r.method} ${r.url}: expected POST /`);
      if (!String(r.headers['content-type']).startsWith('application/x-www-form-urlencoded')) throw new Error(`content-type ${r.headers['content-type']}`);
      params = new URLSearchParams(r.body);
      if (params.get('Version') !== '2016-11-15') throw new Error(`Version ${params.get('Version')}`);
    });
    if (bad) return bad;
    const action = params.get('Action') ?? '';
    const requestId = randomUUID();
    fake.calls.push({ action, params: Object.fromEntries(params), requestId, time: Date.now() });
    const injected = fake.fail[action];
    if (injected) return error(injected.status, injected.code, injected.message, requestId);
    const ok = (inner: string) => xml(200, `<?xml version="1.0" encoding="UTF-8"?>\n<${action}Response xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>${requestId}</requestId>${inner}</${action}Response>`, requestId);
    if (action === 'DescribeRouteTables') {
      const ids = [...params].filter(([k]) => /^RouteTableId\.\d+$/.test(k)).map(([, v]) => v);
      const filters = new Map<string, string[]>();
      for (const [k, v] of params) {
        const m = /^Filter\.(\d+)\.Name$/.exec(k);
        if (m) filters.set(v, [...params].filter(([kk]) => kk.startsWith(`Filter.${m[1]}.Value.`)).map(([, vv]) => vv));
      }
      const missing = ids.find((id) => !fake.tables.has(id));
      if (missing) return error(400, 'InvalidRouteTableID.NotFound', `The routeTable ID '${missing}' does not exist`, requestId);
      const cidrs = filters.get('route.destination-cidr-block') ?? filters.get('route.destination-ipv6-cidr-block');
      let out = '<routeTableSet>';
      for (const [id, routes] of fake.tables) {
        if (ids.length && !ids.includes(id)) continue;
        if (cidrs && ![...routes.keys()].some((c) => cidrs.includes(c))) continue;
        out += `<item><routeTableId>${id}</routeTableId><vpcId>vpc-0test</vpcId><routeSet>`;
        for (const [cidr, route] of routes) {
          const tag = route.target.field.charAt(0).toLowerCase() + route.target.field.slice(1);
          const dest = cidr.includes(':') ? 'destinationIpv6CidrBlock' : 'destinationCidrBlock';
          out += `<item><${dest}>${cidr}</${dest}><${tag}>${route.target.id}</${tag}><state>${route.state ?? 'active'}</state><origin>${route.origin ?? 'CreateRoute'}</origin></item>`;
        }
        out += '</routeSet></item>';
      }
      return ok(`${out}</routeTableSet>`);
    }
    if (action === 'ReplaceRoute' || action === 'CreateRoute') {
      if (params.get('DryRun') === 'true') {
        return fake.dryRunAllowed
          ? error(412, 'DryRunOperation', 'Request would have succeeded, but DryRun flag is set.', requestId)
          : error(403, 'UnauthorizedOperation', 'You are not authorized to perform this operation.', requestId);
      }
      const table = fake.tables.get(params.get('RouteTableId') ?? '');
      if (!table) return error(400, 'InvalidRouteTableID.NotFound', `The routeTable ID '${params.get('RouteTableId')}' does not exist`, requestId);
      const cidr = params.get('DestinationCidrBlock') ?? params.get('DestinationIpv6CidrBlock') ?? '';
      const targets = ROUTE_TARGET_FIELDS.filter((f) => params.has(f));
      if (targets.length !== 1) return error(400, 'InvalidParameterCombination', 'exactly one target must be given', requestId);
      if (action === 'ReplaceRoute' && !table.has(cidr)) return error(400, 'InvalidRoute.NotFound', `no route with destination-cidr-block ${cidr} in route table ${params.get('RouteTableId')}`, requestId);
      if (action === 'CreateRoute' && table.has(cidr)) return error(400, 'RouteAlreadyExists', `The route identified by ${cidr} already exists.`, requestId);
      table.set(cidr, { target: { field: targets[0]!, id: params.get(targets[0]!)! }, state: 'active', origin: 'CreateRoute' });
      return ok('<return>true</return>');
    }
    return error(400, 'InvalidAction', `The action ${action} is not valid for this web service.`, requestId);
  });
  fake.base = fake.receiver.base;
  fake.close = () => fake.receiver.close();
  return fake;
}
