import { dnsKind } from './dns.ts';
import { fpingKind } from './fping.ts';
import { httpKind } from './http.ts';
import type { SmokepingProbeKind } from './kind.ts';
import { tcpKind } from './tcp.ts';

export type { MapVars, Mapped, SmokepingProbeKind } from './kind.ts';

const KINDS: readonly SmokepingProbeKind[] = [fpingKind, tcpKind, dnsKind, httpKind];

/** SmokePing probe module → the kind that translates it. */
export const PROBE_KINDS: ReadonlyMap<string, SmokepingProbeKind> = new Map(KINDS.flatMap((k) => k.modules.map((m) => [m, k] as const)));

/**
 * Probes that measure from another device (a router, an SNMP agent, a remote shell): the
 * variable naming what they measure, and who measured. smokemesh measures from its agents:
 * run one on or next to that device.
 */
export const REMOTE_ORIGIN: Readonly<Record<string, { destination: string; origin: string }>> = {
  DismanPing: { destination: 'pinghost', origin: 'the SNMP agent (host)' },
  CiscoRTTMonEchoICMP: { destination: 'host', origin: 'the router (ioshost)' },
  CiscoRTTMonTcpConnect: { destination: 'host', origin: 'the router (ioshost)' },
  CiscoRTTMonDNS: { destination: 'host', origin: 'the router (ioshost)' },
  IOSPing: { destination: 'host', origin: 'the router (ioshost)' },
  TelnetIOSPing: { destination: 'host', origin: 'the router (ioshost)' },
  TelnetJunOSPing: { destination: 'host', origin: 'the router (junoshost)' },
  OpenSSHJunOSPing: { destination: 'host', origin: 'the router (junoshost)' },
  OpenSSHEOSPing: { destination: 'host', origin: 'the switch (eoshost)' },
  RemoteFPing: { destination: 'host', origin: 'the remote machine (rhost)' },
};

/** What the other probes measured, for the report (they have no smokemesh counterpart yet). */
export const UNMAPPED: Readonly<Record<string, string>> = {
  Radius: 'RADIUS authentication time',
  LDAP: 'LDAP search time',
  TacacsPlus: 'TACACS+ authentication time',
  SipSak: 'SIP OPTIONS round trip',
  Qstat: 'game server query time',
  NFSping: 'NFS NULL call time',
  IRTT: 'IRTT (UDP) round trip',
  FTPtransfer: 'FTP transfer time',
  SendEmail: 'mail submission time',
  WebProxyFilter: 'proxy filter check',
  TraceroutePing: 'traceroute to an intermediate hop',
  EchoPingIcp: 'ICP (UDP) query time',
  EchoPingPlugin: 'an echoping plugin',
};
