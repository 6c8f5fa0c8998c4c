import { dnsProbe } from './dns.ts';
import { httpProbe } from './http.ts';
import { icmpProbe } from './icmp.ts';
import type { CommonParams, Probe } from './probe.ts';
import type { ProbeType } from './round.ts';
import { tcpProbe } from './tcp.ts';

/** Every probe by type. Adding a protocol = one file + one entry here. */
export const PROBES: Record<ProbeType, Probe<CommonParams & never>> = {
  icmp: icmpProbe,
  tcp: tcpProbe,
  dns: dnsProbe,
  http: httpProbe,
} as unknown as Record<ProbeType, Probe<CommonParams & never>>;

export function probeFor(type: ProbeType): Probe {
  return PROBES[type] as unknown as Probe;
}
