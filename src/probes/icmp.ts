import { isIP } from 'node:net';
import { DEFAULT_SHARD_LIMITS, fpingArgs, planShards, type ShardLimits } from './fping/plan.ts';
import { resolveHosts, type Resolution } from './fping/resolve.ts';
import { FPING_INSTALL_HINT, EXTRA_FPING_DIRS, locateProgram, runFping, type FpingRun } from './fping/runner.ts';
import { fpingCommand, parseSocketChoice, socketArgs, type FpingCommand, type SocketChoice, type SocketKind } from './fping/socket.ts';
import { IcmpParamsSchema, type IcmpParams } from './params.ts';
import type { Probe, ProbeTarget } from './probe.ts';
import type { Measurement } from './round.ts';

export interface IcmpProbeOptions {
  /** fping program: a name looked up in PATH (and /usr/sbin…) or a path. Default: $SMOKEMESH_FPING or 'fping'. */
  fping?: string;
  /** ICMP socket kind (see fping/socket.ts). Default: $SMOKEMESH_FPING_SOCKET or 'auto'. */
  socket?: SocketChoice;
  /** argv prefix every fping runs under, e.g. `['ip', 'vrf', 'exec', 'blue']` (tests: `ip netns exec`). */
  wrap?: string[];
  /** How big batches are cut into parallel fping processes. */
  limits?: ShardLimits;
  /** Called after each fping process ends (benchmarks, debugging). */
  onRun?: (run: FpingRun, targets: number) => void;
}

/** The socket kind this probe's rounds use, and why. */
export interface SocketDecision {
  kind: SocketKind;
  why: string;
}

/** The icmp probe, which can also say which ICMP socket it uses. */
export interface IcmpProbe extends Probe<IcmpParams> {
  /** The socket kind of the rounds, decided at the first round (or `unavailable()` call). */
  socket(): Promise<SocketDecision>;
}

/** Most targets one measure() call takes; bigger rounds are cut into parallel shards. */
export const ICMP_BATCH = 10000;

const PING_GROUP_HINT = 'allow them with sysctl net.ipv4.ping_group_range="0 2147483647" (or a range holding the agent\'s group)';

/**
 * ICMP probe through fping, as SmokePing's FPing: `fping -C <pings> -q` processes, IPv4
 * and IPv6 targets mixed in each (fping ≥ 4 opens both sockets). Kernel ping sockets when
 * the machine allows them, raw sockets otherwise (see fping/socket.ts). Names are resolved
 * here first so that a name that does not resolve is an error on that target only.
 */
export function createIcmpProbe(options: IcmpProbeOptions = {}): IcmpProbe {
  const name = options.fping ?? process.env.SMOKEMESH_FPING ?? 'fping';
  const envSocket = process.env.SMOKEMESH_FPING_SOCKET;
  const choice = options.socket ?? parseSocketChoice(envSocket || 'auto');
  const badChoice = `SMOKEMESH_FPING_SOCKET is "${envSocket}"; use auto, raw or ping`;
  const wrap = options.wrap ?? [];
  const limits = options.limits ?? DEFAULT_SHARD_LIMITS;
  const missing = (): string =>
    `fping not found: looked for "${name}"` +
    (name.includes('/') ? '' : ` in PATH and ${EXTRA_FPING_DIRS.join(', ')}`) +
    `; ${FPING_INSTALL_HINT}, or set SMOKEMESH_FPING to its path`;

  /**
   * One ping of the loopback through `cmd`: undefined when fping could send it, else why not.
   * A lost ping still shows that fping runs and may open its socket (exit code 1, a result
   * line of `-`): a host whose firewall drops some echo requests, even on its loopback,
   * must not lose its ICMP probe to one unlucky ping.
   */
  const tryLoopback = async (cmd: FpingCommand, extra: string[] = []): Promise<string | undefined> => {
    // No -q: with it fping exits 4 without saying why when it cannot open its socket.
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(), 10_000);
    const run = await runFping(cmd, ['-C', '1', '-t', '2000', ...extra, ...socketArgs(cmd.kind, undefined), '127.0.0.1'], 1, ac.signal);
    clearTimeout(timer);
    if (run.spawnError) return run.spawnError;
    const r = run.output.hosts.get('127.0.0.1');
    const sent = run.output.errors.length === 0 && (run.exitCode === 0 || run.exitCode === 1);
    if (r && 'rtts' in r && (r.rtts.length === 1 || sent)) return undefined;
    return run.output.errors[0] ?? (run.signal ? `killed by ${run.signal}` : `exit code ${run.exitCode}`);
  };

  type Decided = SocketDecision & { bin: string; cmd: FpingCommand };
  const decide = async (bin: string, choice: SocketChoice): Promise<Decided> => {
    const raw = { kind: 'raw' as const, bin, cmd: fpingCommand(bin, 'raw', '', wrap) };
    if (choice === 'raw') return { ...raw, why: 'raw sockets, as configured' };
    const unshare = await locateProgram('unshare');
    if (!unshare) return { ...raw, why: 'raw sockets: unshare (util-linux) not found, needed to run fping on a ping socket' };
    const ping = { kind: 'ping' as const, bin, cmd: fpingCommand(bin, 'ping', unshare, wrap) };
    if (choice === 'ping') return { ...ping, why: 'kernel ping sockets, as configured' };
    // -i 0.2 as rounds use it: an fping built with safe limits refuses it to non-root users,
    // and behind unshare fping is not root (its user is unmapped there): raw sockets then.
    const why = await tryLoopback(ping.cmd, ['-i', '0.2']);
    if (!why) return { ...ping, why: 'kernel ping sockets (net.ipv4.ping_group_range allows them)' };
    return { ...raw, why: `raw sockets: ping sockets do not work here (${why}); ${PING_GROUP_HINT}` };
  };
  // Decided once; a missing fping is looked for again at the next round (it may be installed).
  let decided: Promise<Decided | undefined> | undefined;
  const decision = (fresh = false): Promise<Decided | undefined> => {
    if (!choice) return Promise.resolve(undefined);
    if (fresh || !decided) {
      const d: Promise<Decided | undefined> = locateProgram(name)
        .then((bin) => (bin ? decide(bin, choice) : undefined))
        .then((r) => { if (!r && decided === d) decided = undefined; return r; });
      decided = d;
    }
    return decided;
  };

  return {
    type: 'icmp',
    batch: ICMP_BATCH,
    paramsSchema: IcmpParamsSchema,

    async socket() {
      const d = await decision();
      return d ? { kind: d.kind, why: d.why } : { kind: 'raw', why: choice ? missing() : badChoice };
    },

    async unavailable() {
      if (!choice) return badChoice;
      const d = await decision(true);
      if (!d) return missing();
      // A real ping of the loopback shows both that fping runs and that it may open its
      // ICMP socket (the auto decision has just done so for ping sockets).
      if (choice === 'auto' && d.kind === 'ping') return undefined;
      const why = await tryLoopback(d.cmd);
      if (!why) return undefined;
      return d.kind === 'ping'
        ? `${d.bin} cannot use a ping socket: ${why}; ${PING_GROUP_HINT}`
        : `${d.bin} does not work: ${why}. It needs root, the cap_net_raw capability ` +
          `(setcap cap_net_raw+ep ${d.bin}) or ping sockets allowed (sysctl net.ipv4.ping_group_range)`;
    },

    async measure(targets, signal) {
      const out: Measurement[] = new Array(targets.length);
      const d = signal.aborted ? undefined : await decision();
      const groups = groupByParams(targets);
      await Promise.all([...groups.values()].map(async (indexes) => {
        const params = targets[indexes[0]!]!.params;
        const fail = (error: string): void => {
          for (const i of indexes) out[i] = { sent: params.pings, rtts: [], error };
        };
        if (signal.aborted) return fail('aborted');
        if (!d) return fail(choice ? missing() : badChoice);
        if (params.source !== undefined && !isIP(params.source)) {
          return fail(`source "${params.source}" is not an IP address (fping -S takes an address)`);
        }
        const resolved = await abortable(resolveHosts(indexes.map((i) => targets[i]!.host), signal), signal);
        if (!resolved) return fail('aborted');
        const results = await pingAddresses(d.cmd, resolved, params, limits, signal, options.onRun);
        for (const i of indexes) {
          const r = results.get(targets[i]!.host)!;
          out[i] = 'error' in r ? { sent: params.pings, rtts: [], error: r.error } : { sent: params.pings, rtts: r.rtts };
        }
      }));
      return out;
    },
  };
}

/** The probe with default options (fping from PATH, socket kind from the machine). */
export const icmpProbe: IcmpProbe = createIcmpProbe();

type HostOutcome = { rtts: number[] } | { error: string };

/** Pings every resolved address once (shared by all hosts that resolve to it), sharded. */
async function pingAddresses(
  cmd: FpingCommand,
  resolved: Map<string, Resolution>,
  params: IcmpParams,
  limits: ShardLimits,
  signal: AbortSignal,
  onRun: IcmpProbeOptions['onRun'],
): Promise<Map<string, HostOutcome>> {
  const addresses = [...new Set([...resolved.values()].flatMap((r) => ('address' in r ? [r.address] : [])))];
  const byAddress = new Map<string, HostOutcome>();
  const sizes = planShards(addresses.length, params, cmd.kind, limits);
  let start = 0;
  const shards = sizes.map((size) => addresses.slice(start, (start += size)));
  await Promise.all(shards.map(async (shard) => {
    const run = await runFping(cmd, fpingArgs(params, shard, cmd.kind), params.pings, signal);
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
  if (run.output.errors.length > 0) return run.output.errors[0]!;
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
