import Type, { type Static } from 'typebox';
import type { TcpParams } from '../probes/params.ts';
import { tcpProbe } from '../probes/tcp.ts';
import { attemptsOutput } from './probe-output.ts';
import { HostParam, IpVersionParam, type TaskKind } from './task.ts';

export const TcpTaskParamsSchema = Type.Object({
  host: HostParam,
  port: Type.Integer({ minimum: 1, maximum: 65535 }),
  count: Type.Integer({ minimum: 1, maximum: 20, default: 3, description: 'connections, one after another' }),
  interval_ms: Type.Integer({ minimum: 0, maximum: 10000, default: 200, description: 'ms between connection starts' }),
  timeout_ms: Type.Integer({ minimum: 10, maximum: 30000, default: 3000, description: 'ms per connection' }),
  ip_version: IpVersionParam,
}, { additionalProperties: false });
export type TcpTaskParams = Static<typeof TcpTaskParamsSchema>;

/** blackbox_exporter's family choice for the task's ip_version: auto prefers IPv4, then IPv6. */
export function familyChoice(v: TcpTaskParams['ip_version']): Pick<TcpParams, 'preferred_ip_protocol' | 'ip_protocol_fallback'> {
  if (v === 'auto') return { preferred_ip_protocol: 'ip4', ip_protocol_fallback: true };
  return { preferred_ip_protocol: v === '4' ? 'ip4' : 'ip6', ip_protocol_fallback: false };
}

const timeoutMs = (p: TcpTaskParams) => p.count * (p.interval_ms + p.timeout_ms) + 10_000;

/** TCP connect times, the tcp probe's own attempts. */
export const tcpTask: TaskKind<TcpTaskParams> = {
  kind: 'tcp',
  summary: 'TCP connect: time to an established connection, or why it failed',
  paramsSchema: TcpTaskParamsSchema,
  target: (p) => p.host,
  timeoutMs,
  async run(p, signal) {
    const params: TcpParams = {
      pings: p.count, timeout: p.timeout_ms, interval: p.interval_ms, port: p.port,
      step: Math.ceil(timeoutMs(p) / 1000), offset: 'random', ...familyChoice(p.ip_version),
    };
    const [m] = await tcpProbe.measure([{ path: '/task', host: p.host, params }], signal);
    if (!m) return { ok: false, error: 'the tcp probe gave no result' };
    return { ok: true, output: attemptsOutput(m) };
  },
};
