import { connect } from 'node:net';
import { performance } from 'node:perf_hooks';
import { describeError } from './net-errors.ts';
import { resolveHost } from './net-resolve.ts';
import { attemptSignal, runAttempts, unmeasurable, type AttemptOutcome } from './net-round.ts';
import { TcpParamsSchema, type TcpParams } from './params.ts';
import type { Probe, ProbeTarget } from './probe.ts';
import type { Measurement } from './round.ts';

/**
 * TCP connect time: each attempt opens a fresh connection to host:port and measures the
 * time from connect() to the established socket (the SYN / SYN-ACK round trip plus the
 * kernel's work), then closes it. The host is resolved once per round, outside the timing.
 */
export const tcpProbe: Probe<TcpParams> = {
  type: 'tcp',
  batch: 1,
  paramsSchema: TcpParamsSchema,
  async measure(targets, signal) {
    const out: Measurement[] = [];
    for (const t of targets) out.push(await measureOne(t, signal));
    return out;
  },
};

async function measureOne(t: ProbeTarget<TcpParams>, signal: AbortSignal): Promise<Measurement> {
  const p = t.params;
  const att = attemptSignal(signal, p.timeout);
  let address: string;
  let family: 4 | 6;
  try {
    ({ address, family } = await resolveHost(t.host, p, att.signal));
  } catch (e) {
    const reason = att.timedOut() ? `cannot resolve "${t.host}": timeout after ${p.timeout} ms` : (e as Error).message;
    return unmeasurable(p.pings, reason);
  } finally {
    att.dispose();
  }
  return runAttempts(p, signal, (_i, s) => connectOnce(address, family, p.port, p.timeout, s));
}

/** Formats an address and port the way URLs do ([v6]:port). */
export function hostPort(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

/** One TCP connect; resolves (never rejects) with the connect time or the reason it failed. */
export function connectOnce(address: string, family: 4 | 6, port: number, timeout: number, round: AbortSignal): Promise<AttemptOutcome> {
  return new Promise((resolve) => {
    const where = `connect to ${hostPort(address, port)}`;
    const att = attemptSignal(round, timeout);
    const t0 = performance.now();
    const sock = connect({ host: address, port, family });
    const finish = (o: AttemptOutcome): void => {
      att.dispose();
      att.signal.removeEventListener('abort', onAbort);
      sock.removeAllListeners('connect');
      sock.destroy();
      resolve(o);
    };
    const onAbort = (): void => finish({ ok: false, error: att.timedOut() ? `${where}: timeout after ${timeout} ms` : 'aborted' });
    att.signal.addEventListener('abort', onAbort, { once: true });
    if (att.signal.aborted) onAbort();
    sock.once('connect', () => finish({ ok: true, rtt: performance.now() - t0 }));
    sock.on('error', (e) => finish({ ok: false, error: describeError(e, where) }));
  });
}
