import { isIP } from 'node:net';
import { DEFAULT_SHARD_LIMITS, fpingArgs, planShards, type ShardLimits } from './fping/plan.ts';
import { resolveHosts, type Resolution } from './fping/resolve.ts';
import { FPING_INSTALL_HINT, EXTRA_FPING_DIRS, locateFping, runFping, type FpingRun } from './fping/runner.ts';
import { IcmpParamsSchema, type IcmpParams } from './params.ts';
import type { Probe, ProbeTarget } from './probe.ts';
import type { Measurement } from './round.ts';

export interface IcmpProbeOptions {
  /** fping program: a name looked up in PATH (and /usr/sbin…) or a path. Default: $SMOKEMESH_FPING or 'fping'. */
  fping?: string;
  /** How big batches are cut into parallel fping processes. */
  limits?: ShardLimits;
  /** Called after each fping process ends (benchmarks, debugging). */
  onRun?: (run: FpingRun, targets: number) => void;
}

/** Most targets one measure() call takes; bigger rounds are cut into parallel shards. */
export const ICMP_BATCH = 10000;

/**
 * ICMP probe through fping, as SmokePing's FPing: one `fping -C <pings> -q` per shard,
 * IPv4 and IPv6 targets mixed in one process (fping ≥ 4 opens both sockets). Names are
 * resolved here first so that a name that does not resolve is an error on that target only.
 */
export function createIcmpProbe(options: IcmpProbeOptions = {}): Probe<IcmpParams> {
  const name = options.fping ?? process.env.SMOKEMESH_FPING ?? 'fping';
  const limits = options.limits ?? DEFAULT_SHARD_LIMITS;
  const missing = (): string =>
    `fping not found: looked for "${name}"` +
    (name.includes('/') ? '' : ` in PATH and ${EXTRA_FPING_DIRS.join(', ')}`) +
    `; ${FPING_INSTALL_HINT}, or set SMOKEMESH_FPING to its path`;

  return {
    type: 'icmp',
    batch: ICMP_BATCH,
    paramsSchema: IcmpParamsSchema,

    async unavailable() {
      const bin = await locateFping(name);
      if (!bin) return missing();
      // A real ping of the loopback shows both that fping runs and that it may open an
      // ICMP socket (root, cap_net_raw, or ping_group_range). No -q: with it fping exits 4
      // without saying why when it cannot open its socket.
      const ac = new AbortController();
      const timer = setTimeout(() => ac.abort(), 10_000);
      const run = await runFping(bin, ['-C', '1', '-t', '1000', '127.0.0.1'], 1, ac.signal);
      clearTimeout(timer);
      if (run.spawnError) return run.spawnError;
      if (run.output.hosts.has('127.0.0.1')) return undefined;
      const why = run.output.errors[0] ?? (run.signal ? `killed by ${run.signal}` : `exit code ${run.exitCode}`);
      return `${bin} does not work: ${why}. It needs root, the cap_net_raw capability ` +
        `(setcap cap_net_raw+ep ${bin}) or ping sockets allowed (sysctl net.ipv4.ping_group_range)`;
    },

    async measure(targets, signal) {
      const out: Measurement[] = new Array(targets.length);
      const bin = await locateFping(name);
      const groups = groupByParams(targets);
      await Promise.all([...groups.values()].map(async (indexes) => {
        const params = targets[indexes[0]!]!.params;
        const fail = (error: string): void => {
          for (const i of indexes) out[i] = { sent: params.pings, rtts: [], error };
        };
        if (!bin) return fail(missing());
        if (params.source !== undefined && !isIP(params.source)) {
          return fail(`source "${params.source}" is not an IP address (fping -S takes an address)`);
        }
        const resolved = await abortable(resolveHosts(indexes.map((i) => targets[i]!.host), signal), signal);
        if (!resolved) return fail('aborted');
        const results = await pingAddresses(bin, resolved, params, limits, signal, options.onRun);
        for (const i of indexes) {
          const r = results.get(targets[i]!.host)!;
          out[i] = 'error' in r ? { sent: params.pings, rtts: [], error: r.error } : { sent: params.pings, rtts: r.rtts };
        }
      }));
      return out;
    },
  };
}

/** The probe with default options (fping from PATH). */
export const icmpProbe: Probe<IcmpParams> = createIcmpProbe();

type HostOutcome = { rtts: number[] } | { error: string };

/** Pings every resolved address once (shared by all hosts that resolve to it), sharded. */
async function pingAddresses(
  bin: string,
  resolved: Map<string, Resolution>,
  params: IcmpParams,
  limits: ShardLimits,
  signal: AbortSignal,
  onRun: IcmpProbeOptions['onRun'],
): Promise<Map<string, HostOutcome>> {
  const addresses = [...new Set([...resolved.values()].flatMap((r) => ('address' in r ? [r.address] : [])))];
  const byAddress = new Map<string, HostOutcome>();
  const sizes = planShards(addresses.length, params, limits);
  let start = 0;
  const shards = sizes.map((size) => addresses.slice(start, (start += size)));
  await Promise.all(shards.map(async (shard) => {
    const run = await runFping(bin, fpingArgs(params, shard), params.pings, signal);
    onRun?.(run, shard.length);
    const why = signal.aborted ? 'aborted' : failure(run);
    for (const address of shard) {
      const r = run.output.hosts.get(address);
      byAddress.set(address, r && !signal.aborted ? ('error' in r ? r : { rtts: r.rtts }) : { error: why });
    }
  }));
  const byHost = new Map<string, HostOutcome>();
  for (const [host, r] of resolved) byHost.set(host, 'error' in r ? r : byAddress.get(r.address)!);
  return byHost;
}

/** Why an address got no result line from an fping run. */
function failure(run: FpingRun): string {
  if (run.spawnError) return run.spawnError;
  if (run.output.errors.length > 0) return `fping: ${run.output.errors[0]}`;
  if (run.signal) return `fping was killed by ${run.signal}`;
  if (run.exitCode === 3) return 'fping failed with exit code 3 (invalid arguments)';
  if (run.exitCode === 4) return 'fping failed with exit code 4 (system call failure: may it open an ICMP socket?)';
  if (run.exitCode !== null && run.exitCode > 4) return `fping failed with exit code ${run.exitCode}`;
  return 'fping printed no result for this address';
}

/** Target indexes by the parameters fping is given, so one process never mixes settings. */
function groupByParams(targets: readonly ProbeTarget<IcmpParams>[]): Map<string, number[]> {
  const groups = new Map<string, number[]>();
  targets.forEach((t, i) => {
    const p = t.params;
    const key = JSON.stringify([p.pings, p.timeout, p.interval, p.mininterval, p.packet_size, p.tos, p.source ?? null, p.step]);
    const g = groups.get(key);
    if (g) g.push(i);
    else groups.set(key, [i]);
  });
  return groups;
}

/** Resolves with the promise's value, or with undefined as soon as `signal` aborts. */
function abortable<T>(p: Promise<T>, signal: AbortSignal): Promise<T | undefined> {
  if (signal.aborted) return Promise.resolve(undefined);
  return new Promise((resolve, reject) => {
    const onAbort = (): void => resolve(undefined);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then((v) => { signal.removeEventListener('abort', onAbort); resolve(v); },
      (e: unknown) => { signal.removeEventListener('abort', onAbort); reject(e); });
  });
}
