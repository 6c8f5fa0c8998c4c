import { commonParams, integer, isYes, secondsToMs, type SmokepingProbeKind } from './kind.ts';

/** Every rcode name dns-packet gives: SmokePing's dig and AnotherDNS time any answer unless told otherwise. */
const ANY_RCODE = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED', 'YXDOMAIN', 'YXRRSET', 'NXRRSET', 'NOTAUTH', 'NOTZONE'];

/**
 * DNS (dig), AnotherDNS (Net::DNS) and EchoPingDNS → dns. The smokemesh target's host is the
 * DNS server (SmokePing: `server`, else `host`); the name asked is `lookup` (else `host`).
 */
export const dnsKind: SmokepingProbeKind = {
  modules: ['DNS', 'AnotherDNS', 'EchoPingDNS'],
  map(v, host, module) {
    v.ignore('binary', 'forks', 'plugin', 'pluginname');
    const params = commonParams(v);
    let server = host;
    let lookup = host;
    if (module === 'EchoPingDNS') {
      lookup = v.get('dns_request') ?? lookup;
      const type = v.get('dns_type');
      if (type) params.query_type = type.toUpperCase();
      if (isYes(v.get('dns_tcp'))) params.transport_protocol = 'tcp';
      params.valid_rcodes = ANY_RCODE;
      v.ignore('waittime', 'size', 'fill', 'priority', 'tos', 'extraopts', 'ipversion');
    } else {
      lookup = v.get('lookup') ?? lookup;
      if (module === 'DNS') {
        server = v.get('server') || host;
        params.valid_rcodes = ANY_RCODE;
      } else {
        const type = v.get('recordtype');
        if (type) params.query_type = type.toUpperCase();
        const port = integer(v, 'port', 1, 65535);
        if (port !== undefined) params.port = port;
        const proto = v.get('protocol');
        if (proto === 'tcp' || proto === 'udp') params.transport_protocol = proto;
        else if (proto !== undefined) v.warn('protocol', `protocol = ${proto} is not udp or tcp; udp is used`);
        // AnotherDNS asks over IPv4 unless ipversion = 6.
        params.preferred_ip_protocol = v.get('ipversion') === '6' ? 'ip6' : 'ip4';
        const gap = secondsToMs(v, 'mininterval', 0, 60000);
        if (gap !== undefined) params.interval = gap;
        if (!isYes(v.get('require_noerror'))) params.valid_rcodes = ANY_RCODE;
        if (isYes(v.get('require_answers'))) params.validate_answer_rrs = { fail_if_none_matches_regexp: ['.'] };
        if (isYes(v.get('authoritative'))) {
          v.warn('authoritative', 'authoritative = 1 (only count answers with the AA flag) has no smokemesh equivalent; every valid answer counts');
        }
      }
    }
    if (lookup !== undefined) params.query_name = lookup;
    return { type: 'dns', params, ...(server !== undefined ? { host: server } : {}) };
  },
};
