import type { Command } from 'commander';
import { validate } from '../config/validate.ts';
import { SmokemeshError } from '../errors.ts';
import { collect, int, keyValues } from './options.ts';
import { probeFor } from '../probes/index.ts';
import { PARAMS_SCHEMAS } from '../probes/params.ts';
import { lossPct, makeRound, PROBE_TYPES, type ProbeType, type Round } from '../probes/round.ts';

interface ProbeCliOptions {
  pings: string;
  port?: string;
  timeout?: string;
  json?: boolean;
  param: string[];
}

/** `smokemesh probe TYPE TARGET`: one round from the command line, like `fping -C` or `curl -w`. */
export function registerProbeCommand(program: Command): void {
  program
    .command('probe')
    .description('measure one target once and print the round (icmp: TARGET is a host; tcp: host with --port; dns: the server, --param query_name=…; http: a URL)')
    .argument('<type>', `probe type: ${PROBE_TYPES.join(', ')}`)
    .argument('<target>', 'host, address or URL')
    .option('-n, --pings <n>', 'attempts in the round', '5')
    .option('-p, --port <port>', 'port (tcp, dns)')
    .option('-t, --timeout <ms>', 'per-attempt timeout in ms')
    .option('-P, --param <key=value>', 'any probe parameter (repeatable; JSON values allowed)', collect, [])
    .option('--json', 'print the round as one JSON object')
    .action(async (type: string, target: string, o: ProbeCliOptions) => {
      const round = await probeOnce(type, target, o);
      process.stdout.write(o.json ? JSON.stringify(toJson(round)) + '\n' : formatRound(round));
      process.exitCode = round.loss === round.sent ? 2 : 0;
    });
}

async function probeOnce(typeArg: string, host: string, o: ProbeCliOptions): Promise<Round> {
  if (!(PROBE_TYPES as readonly string[]).includes(typeArg)) {
    throw new SmokemeshError('SMOKEMESH_E_USAGE', `unknown probe type "${typeArg}"; use one of ${PROBE_TYPES.join(', ')}`);
  }
  const type = typeArg as ProbeType;
  const params: Record<string, unknown> = { pings: int(o.pings, '--pings'), step: 60, offset: 'random', timeout: o.timeout ? int(o.timeout, '--timeout') : type === 'http' ? 10000 : type === 'icmp' ? 1000 : 3000 };
  if (o.port !== undefined) params.port = int(o.port, '--port');
  if (type !== 'icmp' && params.interval === undefined) params.interval = 100;
  Object.assign(params, keyValues(o.param, '--param', true));
  const issues = validate(PARAMS_SCHEMAS[type], params);
  if (issues.length) {
    throw new SmokemeshError('SMOKEMESH_E_USAGE', issues.map((i) => `${i.path.join('.') || type}: ${i.message}`).join('\n'));
  }
  const probe = probeFor(type);
  const why = await probe.unavailable?.();
  if (why) throw new SmokemeshError('SMOKEMESH_E_PROBE', `${type} probe cannot run here: ${why}`);
  const ac = new AbortController();
  const onSig = () => ac.abort();
  process.once('SIGINT', onSig);
  const time = Date.now();
  const [m] = await probe.measure([{ path: `/${host}`, host, params: params as never }], ac.signal);
  process.off('SIGINT', onSig);
  return makeRound({ target: `/${host}`, agent: 'cli', probe: type, time, step: 60 }, m ?? { sent: Number(params.pings), rtts: [], error: 'no result' });
}

/** The JSON contract of `probe --json` (other tools rely on these names). */
function toJson(r: Round) {
  return {
    probe: r.probe,
    target: r.target.slice(1),
    time: new Date(r.time).toISOString(),
    sent: r.sent,
    received: r.rtts.length,
    loss_pct: round3(lossPct(r)),
    median_ms: r.median,
    mean_ms: r.mean,
    min_ms: r.min,
    max_ms: r.max,
    stddev_ms: r.stddev,
    rtts_ms: r.rtts,
    ...(r.phases ? { phases_ms: r.phases } : {}),
    ...(r.status !== undefined ? { status: r.status } : {}),
    ...(r.cert_expiry !== undefined ? { cert_expiry: new Date(r.cert_expiry * 1000).toISOString() } : {}),
    ...(r.error ? { error: r.error } : {}),
  };
}

function formatRound(r: Round): string {
  const f = (v: number | null) => (v === null ? '-' : v.toFixed(3));
  const lines = [
    `${r.target.slice(1)} : ${r.rtts.map((x) => x.toFixed(3)).join(' ')}${'  -'.repeat(r.loss)}`,
    `  ${r.sent} sent, ${r.rtts.length} received, ${round3(lossPct(r))}% loss; median ${f(r.median)} ms, min ${f(r.min)}, max ${f(r.max)}, stddev ${f(r.stddev)} ms`,
  ];
  if (r.phases) lines.push('  phases (ms): ' + Object.entries(r.phases).map(([k, v]) => `${k} ${v.toFixed(3)}`).join(', '));
  if (r.status !== undefined) lines.push(`  status ${r.status}`);
  if (r.cert_expiry !== undefined) lines.push(`  certificate expires ${new Date(r.cert_expiry * 1000).toISOString()}`);
  if (r.error) lines.push(`  error: ${r.error}`);
  return lines.join('\n') + '\n';
}

const round3 = (n: number) => Math.round(n * 1000) / 1000;
