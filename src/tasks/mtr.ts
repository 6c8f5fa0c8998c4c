import Type, { type Static } from 'typebox';
import { parseMtrJson } from './mtr-parser.ts';
import type { MtrReport } from './outputs.ts';
import { findProgram, runFailure, runProgram } from './program.ts';
import { HostParam, IpVersionParam, type TaskKind } from './task.ts';

export const MtrParamsSchema = Type.Object({
  host: HostParam,
  count: Type.Integer({ minimum: 1, maximum: 100, default: 10, description: 'probes per hop (mtr -c)' }),
  interval: Type.Number({ minimum: 0.1, maximum: 10, default: 1, description: 'seconds between probes (mtr -i); below 1 s needs root on the agent' }),
  protocol: Type.Enum(['icmp', 'udp', 'tcp'], { default: 'icmp', description: 'probe packets; in tcp mode a lost SYN shows as an RTT of a second or more (the kernel retransmits it), not as loss' }),
  port: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535, description: 'destination port for udp/tcp (mtr -P)' })),
  max_ttl: Type.Integer({ minimum: 1, maximum: 64, default: 30, description: 'most hops (mtr -m)' }),
  grace: Type.Number({ minimum: 0.1, maximum: 30, default: 5, description: 'seconds to wait for late answers after the last probe (mtr -G)' }),
  ip_version: IpVersionParam,
  packet_size: Type.Optional(Type.Integer({ minimum: 28, maximum: 1500, description: 'bytes per probe (mtr -s)' })),
  asn: Type.Boolean({ default: false, description: 'look up each hop\'s AS number (mtr -z; the agent asks its DNS resolver)' }),
}, { additionalProperties: false });
export type MtrParams = Static<typeof MtrParamsSchema>;

/** The argument array: always -n (no reverse lookups) and --json; the host after `--`. */
export function mtrArgs(p: MtrParams): string[] {
  const args = ['--json', '-n', '-c', String(p.count), '-i', String(p.interval), '-m', String(p.max_ttl), '-G', String(p.grace)];
  if (p.protocol === 'tcp') args.push('-T');
  if (p.protocol === 'udp') args.push('-u');
  if (p.port !== undefined && p.protocol !== 'icmp') args.push('-P', String(p.port));
  if (p.ip_version !== 'auto') args.push(`-${p.ip_version}`);
  if (p.packet_size !== undefined) args.push('-s', String(p.packet_size));
  if (p.asn) args.push('-z');
  args.push('--', p.host);
  return args;
}

/** mtr (Debian's mtr-tiny): per-hop loss and latency over `count` cycles, from its JSON report. */
export const mtrTask: TaskKind<MtrParams> = {
  kind: 'mtr',
  summary: 'mtr report: loss and latency per hop (mtr --json -n)',
  paramsSchema: MtrParamsSchema,
  target: (p) => p.host,
  timeoutMs: (p) => Math.ceil((p.count * p.interval + p.grace) * 1000) + 10_000,
  async run(p, signal, limits) {
    const bin = await findProgram('mtr');
    if (!bin) return { ok: false, error: 'mtr not found on this agent: install it (Debian/Ubuntu: apt-get install mtr-tiny)' };
    const o = { timeoutMs: mtrTask.timeoutMs(p), maxBytes: limits.maxOutputBytes };
    const run = await runProgram(bin, mtrArgs(p), { ...o, signal });
    const failed = runFailure('mtr', run, o);
    if (failed) return { ok: false, error: failed };
    let report: MtrReport;
    try {
      report = parseMtrJson(run.stdout);
    } catch (e) {
      return { ok: false, error: (e as Error).message };
    }
    return { ok: true, output: report };
  },
};
