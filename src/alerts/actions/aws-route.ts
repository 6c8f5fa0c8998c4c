/**
 * The `aws_route` action: when its alert raises, the route for `destination_cidr` in each
 * of `route_tables` is pointed at `backup` (an instance, ENI, virtual private gateway,
 * internet gateway or transit gateway); when it clears (after the alert's hold_down), back at
 * `primary`. Read first (DescribeRouteTables), then change only what must change, and only
 * from the other known target (route-switch.ts). Each change's AWS request id is the
 * attempt's note in the alert history. Through @aws-sdk/client-ec2 (SigV4, any partition).
 */
import type { CreateRouteCommandInput, EC2Client, Route } from '@aws-sdk/client-ec2';
import Type, { type Static } from 'typebox';
import { SmokemeshError } from '../../errors.ts';
import { lazyModule } from '../../lazy-module.ts';
import { AWS_REGION, AwsAccessFields, awsClientConfig, awsWhere } from '../notifiers/aws.ts';
import { channelSchema, configError, parseConfig } from '../notifiers/http-post.ts';
import type { AlertEvent, Notifier, NotifierKind } from '../notifiers/notifier.ts';
import { routeStep, wantedFor, type RouteNow } from './route-switch.ts';

/** The EC2 client, loaded at the first request (~1.7 MB of code most servers never use). */
const ec2 = lazyModule(() => import('@aws-sdk/client-ec2'));

const TARGET_ID = '^(i|eni|vgw|igw|tgw)-[0-9a-f]{8,17}$';
const CIDR4 = '^(\\d{1,3}\\.){3}\\d{1,3}/\\d{1,2}$';
const CIDR6 = '^[0-9a-fA-F:]+/\\d{1,3}$';

export const AwsRouteConfigSchema = channelSchema({
  region: Type.String({ pattern: AWS_REGION, description: 'region of the VPC, e.g. cn-north-1 (China: ec2.<region>.amazonaws.com.cn)' }),
  ...AwsAccessFields,
  route_tables: Type.Array(Type.String({ pattern: '^rtb-[0-9a-f]{8,17}$' }), { minItems: 1, maxItems: 100, uniqueItems: true, description: 'route tables holding the route' }),
  destination_cidr: Type.String({ pattern: `${CIDR4}|${CIDR6}`, description: 'destination of the route, e.g. 10.20.0.0/16 (IPv6 too)' }),
  primary: Type.String({ pattern: TARGET_ID, description: 'target while the link is fine: i-…, eni-…, vgw-…, igw-… or tgw-…' }),
  backup: Type.String({ pattern: TARGET_ID, description: 'target while the alert is raised' }),
  dry_run: Type.Boolean({ default: false, description: 'ask EC2 with DryRun: permissions are checked, nothing is changed' }),
  restore: Type.Boolean({ default: true, description: 'on clear, point the route back at primary' }),
});
export type AwsRouteConfig = Static<typeof AwsRouteConfigSchema>;

/** The EC2 parameter that names a target, by its id's prefix. */
function targetParam(id: string): 'InstanceId' | 'NetworkInterfaceId' | 'GatewayId' | 'TransitGatewayId' {
  if (id.startsWith('i-')) return 'InstanceId';
  if (id.startsWith('eni-')) return 'NetworkInterfaceId';
  if (id.startsWith('tgw-')) return 'TransitGatewayId';
  return 'GatewayId';
}

/** Every target a route names (an instance route names its ENI too). */
function targetsOf(r: Route): string[] {
  return [r.InstanceId, r.NetworkInterfaceId, r.GatewayId, r.TransitGatewayId, r.NatGatewayId, r.VpcPeeringConnectionId,
    r.LocalGatewayId, r.CarrierGatewayId, r.EgressOnlyInternetGatewayId, r.CoreNetworkArn].filter((x): x is string => !!x);
}

/** What a described route points at, seen from the two targets the action knows. */
export function routeNow(r: Route | undefined, known: string[]): RouteNow {
  if (!r) return undefined;
  const ids = targetsOf(r);
  const target = ids.find((id) => known.includes(id)) ?? ids[0] ?? 'nothing';
  return r.State === 'blackhole' ? { target, blackhole: true } : { target };
}

interface AwsFailure {
  name?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number; requestId?: string };
}

export const awsRouteKind: NotifierKind = {
  kind: 'aws_route',
  configSchema: AwsRouteConfigSchema,
  create(name, raw): Notifier {
    const c = parseConfig<AwsRouteConfig>(AwsRouteConfigSchema, 'aws_route', name, raw);
    if (c.primary === c.backup) throw configError(name, 'backup', 'must differ from primary');
    const config = awsClientConfig(name, c, c.region);
    let made: EC2Client | undefined;
    const client = async (): Promise<EC2Client> => (made ??= new (await ec2()).EC2Client(config));
    const channel = `aws_route action "${name}"`;
    const v6 = c.destination_cidr.includes(':');
    const destination = v6 ? { DestinationIpv6CidrBlock: c.destination_cidr } : { DestinationCidrBlock: c.destination_cidr };
    const fail = (what: string, e: unknown, done: string[]) => {
      const err = e as AwsFailure;
      const status = err.$metadata?.httpStatusCode ? `HTTP ${err.$metadata.httpStatusCode} ` : '';
      const id = err.$metadata?.requestId ? ` (request ${err.$metadata.requestId})` : '';
      const before = done.length ? ` after: ${done.join('; ')}` : '';
      return new SmokemeshError('SMOKEMESH_E_NOTIFY', `${channel}: ${what} failed (${awsWhere(config)}): ${status}${err.name ?? 'Error'}${id}${before}`, { cause: e, detail: err.message ?? String(e) });
    };

    const describe = async (signal: AbortSignal, done: string[]): Promise<Map<string, Route | undefined>> => {
      try {
        const out = await (await client()).send(new (await ec2()).DescribeRouteTablesCommand({
          RouteTableIds: c.route_tables,
          Filters: [{ Name: v6 ? 'route.destination-ipv6-cidr-block' : 'route.destination-cidr-block', Values: [c.destination_cidr] }],
        }), { abortSignal: signal });
        const found = new Map<string, Route | undefined>(c.route_tables.map((t) => [t, undefined]));
        for (const t of out.RouteTables ?? []) {
          if (!t.RouteTableId || !found.has(t.RouteTableId)) continue;
          found.set(t.RouteTableId, (t.Routes ?? []).find((r) => (v6 ? r.DestinationIpv6CidrBlock : r.DestinationCidrBlock) === c.destination_cidr));
        }
        return found;
      } catch (e) {
        throw fail('DescribeRouteTables', e, done);
      }
    };

    /** One write; resolves with its note. A dry run's "would have succeeded" is success. */
    const write = async (op: 'ReplaceRoute' | 'CreateRoute', table: string, from: string | undefined, to: string, signal: AbortSignal): Promise<string> => {
      const input: CreateRouteCommandInput = { RouteTableId: table, ...destination, [targetParam(to)]: to, ...(c.dry_run ? { DryRun: true } : {}) };
      const change = `${table}: ${from ?? '(no route)'} → ${to}`;
      try {
        const m = await ec2();
        const out = await (await client()).send(op === 'ReplaceRoute' ? new m.ReplaceRouteCommand(input) : new m.CreateRouteCommand(input), { abortSignal: signal });
        return `${change} (${op}, request ${out.$metadata.requestId ?? 'unknown'})`;
      } catch (e) {
        const err = e as AwsFailure;
        if (c.dry_run && err.name === 'DryRunOperation') return `dry run: ${change} would succeed (${op}, request ${err.$metadata?.requestId ?? 'unknown'})`;
        throw e;
      }
    };

    return {
      name,
      kind: 'aws_route',
      async send(event: AlertEvent, signal: AbortSignal) {
        const want = wantedFor(event.state);
        if (want === 'primary' && !c.restore) return `restore is off: ${c.destination_cidr} left at ${c.backup}`;
        const [to, other] = want === 'backup' ? [c.backup, c.primary] : [c.primary, c.backup];
        const done: string[] = [];
        const refused: string[] = [];
        let routes = await describe(signal, done);
        for (const table of c.route_tables) {
          for (let tries = 0; ; tries++) {
            const route = routes.get(table);
            if (route?.Origin === 'EnableVgwRoutePropagation') {
              refused.push(`${table}: the route to ${c.destination_cidr} is propagated from a VGW and cannot be replaced (add a static route)`);
              break;
            }
            const step = routeStep(routeNow(route, [c.primary, c.backup]), to, other);
            if (step.act === 'none') {
              done.push(`${table}: ${step.why}`);
              break;
            }
            if (step.act === 'refuse') {
              refused.push(`${table}: ${step.why}`);
              break;
            }
            const op = step.act === 'create' ? 'CreateRoute' : 'ReplaceRoute';
            try {
              done.push(await write(op, table, step.from, step.to, signal));
              break;
            } catch (e) {
              const code = (e as AwsFailure).name;
              // The route changed between the read and the write: read again, decide again (once).
              if (tries === 0 && (code === 'InvalidRoute.NotFound' || code === 'RouteAlreadyExists')) {
                routes = await describe(signal, done);
                continue;
              }
              throw fail(`${op} ${table}`, e, done);
            }
          }
        }
        if (refused.length) throw new SmokemeshError('SMOKEMESH_E_NOTIFY', `${channel}: ${refused.join('; ')}${done.length ? `; ${done.join('; ')}` : ''}`);
        return `${c.destination_cidr} → ${want} ${to}: ${done.join('; ')}`;
      },
    };
  },
};
