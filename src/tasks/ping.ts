import Type, { type Static } from 'typebox';
import { createIcmpProbe } from '../probes/icmp.ts';
import type { IcmpParams } from '../probes/params.ts';
import { attemptsOutput } from './probe-output.ts';
import { HostParam, type TaskKind } from './task.ts';

export const PingParamsSchema = Type.Object({
  host: HostParam,
  count: Type.Integer({ minimum: 1, maximum: 100, default: 5, description: 'echo requests (fping -C)' }),
  interval_ms: Type.Integer({ minimum: 10, maximum: 10000, default: 1000, description: 'ms between requests (fping -p)' }),
  timeout_ms: Type.Integer({ minimum: 10, maximum: 10000, default: 1000, description: 'ms to wait for each reply (fping -t)' }),
  packet_size: Type.Integer({ minimum: 0, maximum: 65000, default: 56, description: 'ICMP payload bytes (fping -b)' }),
}, { additionalProperties: false });
export type PingParams = Static<typeof PingParamsSchema>;

const probe = createIcmpProbe();

const timeoutMs = (p: PingParams) => p.count * p.interval_ms + p.timeout_ms + 10_000;

/** ping through fping, the ICMP probe's own runner: loss and every RTT. */
export const pingTask: TaskKind<PingParams> = {
  kind: 'ping',
  summary: 'ping (fping): loss and every round-trip time',
  paramsSchema: PingParamsSchema,
  target: (p) => p.host,
  timeoutMs,
  async run(p, signal) {
    const params: IcmpParams = {
      pings: p.count, interval: p.interval_ms, timeout: p.timeout_ms, packet_size: p.packet_size,
      tos: 0, mininterval: 10, step: Math.ceil(timeoutMs(p) / 1000), offset: 'random',
    };
    const [m] = await probe.measure([{ path: '/task', host: p.host, params }], signal);
    if (!m) return { ok: false, error: 'fping gave no result' };
    const output = attemptsOutput(m);
    // Every request lost with a reason is a failure to run (fping missing, name not resolved…), not loss.
    if (m.rtts.length === 0 && m.error) return { ok: false, error: m.error, output };
    return { ok: true, output };
  },
};
