// The smokemesh side of bench/icmp-capacity.ts: the icmp probe in a process of its own, as
// production runs it (the bench bundles this file with esbuild and runs it with plain Node: no
// TypeScript loader thread, no bench heap). Asked over IPC for one round at a time; answers
// with its own CPU (every thread of this process) and its fping children's, around the round.
import { readFileSync } from 'node:fs';
import { createIcmpProbe, ICMP_BATCH } from '../src/probes/icmp.ts';
import type { ShardLimits } from '../src/probes/fping/plan.ts';
import type { SocketChoice } from '../src/probes/fping/socket.ts';
import type { IcmpParams } from '../src/probes/params.ts';
import type { ProbeTarget } from '../src/probes/probe.ts';

export interface RunnerSetup { socket: SocketChoice; limits: ShardLimits }
export interface RunnerAsk { hosts: string[]; params: IcmpParams }
export interface RunnerRound {
  wall: number;
  /** CPU seconds of this process (utime + stime, all threads) and of its waited-for fping children. */
  node: number;
  fping: number;
  lost: number;
  sent: number;
  errors: number;
  firstError?: string;
  argv: string[][];
}
export type RunnerMessage = { ready: { kind: string; why: string } } | { unavailable: string } | { round: RunnerRound };

const CLK_TCK = 100;
function cpuSeconds(): { self: number; children: number } {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ').map(Number);
  return { self: (f[11]! + f[12]!) / CLK_TCK, children: (f[13]! + f[14]!) / CLK_TCK };
}

const send = (m: RunnerMessage): void => { process.send!(m); };
let probe: ReturnType<typeof createIcmpProbe> | undefined;
const argv: string[][] = [];

process.on('message', (m: { setup: RunnerSetup } | { ask: RunnerAsk }) => {
  void (async () => {
    if ('setup' in m) {
      probe = createIcmpProbe({ socket: m.setup.socket, limits: m.setup.limits, onRun: (run) => { argv.push(run.argv); } });
      const why = await probe.unavailable!();
      send(why ? { unavailable: why } : { ready: await probe.socket() });
      return;
    }
    const { hosts, params } = m.ask;
    const targets: ProbeTarget<IcmpParams>[] = hosts.map((host, i) => ({ path: `/bench/t${i}`, host, params }));
    const batches: ProbeTarget<IcmpParams>[][] = [];
    for (let i = 0; i < targets.length; i += ICMP_BATCH) batches.push(targets.slice(i, i + ICMP_BATCH));
    argv.length = 0;
    globalThis.gc?.();
    const cpu0 = cpuSeconds();
    const t0 = performance.now();
    // The batches the scheduler would start together (offset 0 %).
    const res = (await Promise.all(batches.map((b) => probe!.measure(b, new AbortController().signal)))).flat();
    const wall = (performance.now() - t0) / 1000;
    const cpu1 = cpuSeconds();
    const errors = res.filter((r) => r.error);
    send({
      round: {
        wall, node: cpu1.self - cpu0.self, fping: cpu1.children - cpu0.children,
        lost: res.reduce((a, r) => a + r.sent - r.rtts.length, 0), sent: res.reduce((a, r) => a + r.sent, 0),
        errors: errors.length, ...(errors.length ? { firstError: errors[0]!.error! } : {}), argv: [...argv],
      },
    });
  })();
});
process.on('disconnect', () => process.exit(0));
