import Type, { type Static } from 'typebox';
import { findProgram, runFailure, runProgram } from './program.ts';
import { HostParam, IpVersionParam, type TaskKind } from './task.ts';
import type { TracerouteReport } from './outputs.ts';
import { parseTraceroute } from './traceroute-parser.ts';

export const TracerouteParamsSchema = Type.Object({
  host: HostParam,
  method: Type.Enum(['udp', 'icmp', 'tcp'], { default: 'udp', description: 'probe packets: udp (default), icmp (-I) or tcp (-T, needs root on the agent)' }),
  port: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535, description: 'destination port (-p): the first one for udp, the port for tcp' })),
  queries: Type.Integer({ minimum: 1, maximum: 10, default: 3, description: 'probes per hop (-q)' }),
  max_ttl: Type.Integer({ minimum: 1, maximum: 64, default: 30, description: 'most hops (-m)' }),
  wait: Type.Number({ minimum: 0.1, maximum: 10, default: 1, description: 'seconds to wait for an answer (-w)' }),
  ip_version: IpVersionParam,
}, { additionalProperties: false });
export type TracerouteParams = Static<typeof TracerouteParamsSchema>;

/** The argument array: always -n; the host after `--`. */
export function tracerouteArgs(p: TracerouteParams): string[] {
  const args = ['-n', '-q', String(p.queries), '-m', String(p.max_ttl), '-w', String(p.wait)];
  if (p.method === 'icmp') args.push('-I');
  if (p.method === 'tcp') args.push('-T');
  if (p.port !== undefined) args.push('-p', String(p.port));
  if (p.ip_version !== 'auto') args.push(`-${p.ip_version}`);
  args.push('--', p.host);
  return args;
}

/** Longest run: every probe of every hop waiting in full (traceroute sends 16 at once, so far less in practice). */
function timeoutMs(p: TracerouteParams): number {
  return Math.ceil(p.max_ttl * p.queries * p.wait * 1000) + 10_000;
}

/** traceroute 2.x: the hops with every address that answered each (ECMP shows), from its text. */
export const tracerouteTask: TaskKind<TracerouteParams> = {
  kind: 'traceroute',
  summary: 'traceroute: every address answering each hop (traceroute -n)',
  paramsSchema: TracerouteParamsSchema,
  target: (p) => p.host,
  timeoutMs,
  async run(p, signal, limits) {
    const bin = await findProgram('traceroute');
    if (!bin) return { ok: false, error: 'traceroute not found on this agent: install it (Debian/Ubuntu: apt-get install traceroute)' };
    const o = { timeoutMs: timeoutMs(p), maxBytes: limits.maxOutputBytes };
    const run = await runProgram(bin, tracerouteArgs(p), { ...o, signal });
    const failed = runFailure('traceroute', run, o);
    if (failed) return { ok: false, error: failed };
    let report: TracerouteReport;
    try {
      report = parseTraceroute(run.stdout);
    } catch (e) {
      return { ok: false, error: (e as Error).message };
    }
    return { ok: true, output: report };
  },
};
