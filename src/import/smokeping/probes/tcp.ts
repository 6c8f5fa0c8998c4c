import { commonParams, integer, type MapVars, type SmokepingProbeKind } from './kind.ts';

/** The TCP port an echoping-family or SSH probe talks to, by module. */
const SERVICE_PORT: Record<string, number> = {
  SSH: 22, AnotherSSH: 22, EchoPing: 7, EchoPingDiscard: 9, EchoPingChargen: 19, EchoPingSmtp: 25, EchoPingWhois: 43, EchoPingLDAP: 389,
};

/** Variables of those probes that only shape their own transaction (reported once as an approximation). */
const TRANSACTION_VARS = ['keytype', 'greeting', 'interval', 'waittime', 'size', 'fill', 'priority', 'tos', 'extraopts', 'smtp', 'ldap_request', 'ldap_scope', 'whois_request', 'ipversion', 'mininterval'];

/**
 * TCPPing → tcp (connect time, exact). SSH, AnotherSSH and the TCP echoping probes measure a
 * whole exchange (key scan, banner, echo, SMTP greeting…); they become a TCP connect to the
 * same port, which is faster: reported, with the level shift it causes in the graphs.
 */
export const tcpKind: SmokepingProbeKind = {
  modules: ['TCPPing', ...Object.keys(SERVICE_PORT)],
  map(v, host, module) {
    v.ignore('binary', 'forks');
    const params = commonParams(v);
    const port = integer(v, 'port', 1, 65535);
    if (module === 'TCPPing') {
      params.port = port ?? 80;
      if (port === undefined && host !== undefined) v.note(undefined, 'TCPPing without port: tcpping connected to port 80, and so does smokemesh');
    } else {
      params.port = port ?? SERVICE_PORT[module]!;
      approximate(v, module);
    }
    if (module === 'EchoPing' && v.get('udp') !== undefined && v.get('udp') !== 'no') {
      v.warn('udp', 'EchoPing over UDP has no smokemesh equivalent; a TCP connect to the same port is measured instead');
    }
    return { type: 'tcp', params, ...(host !== undefined ? { host } : {}) };
  },
};

function approximate(v: MapVars, module: string): void {
  for (const k of TRANSACTION_VARS) v.get(k);
  if (module === 'AnotherSSH' && (v.get('interval') ?? 'established') === 'connect') return;
  v.warnProbe(`${module} measured a whole ${module.startsWith('EchoPing') ? 'echoping exchange' : 'SSH exchange'}; smokemesh measures the TCP connect to the same port`,
    'expect lower RTTs from the switch on (the imported history keeps the old values), or use an http/dns probe where the service allows');
}
