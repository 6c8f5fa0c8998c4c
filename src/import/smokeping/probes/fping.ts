import { commonParams, integer, isAddress, secondsToMs, type SmokepingProbeKind } from './kind.ts';

/** FPing, FPing6, FPingContinuous → icmp (smokemesh runs fping too, one probe for IPv4 and IPv6). */
export const fpingKind: SmokepingProbeKind = {
  modules: ['FPing', 'FPing6', 'FPingContinuous'],
  map(v, host, module) {
    v.ignore('binary', 'usestdout', 'protocol');
    const params = commonParams(v);
    const size = integer(v, 'packetsize', 0, 65000);
    if (size !== undefined) params.packet_size = size;
    const interval = secondsToMs(v, 'hostinterval', 1, 60000);
    if (interval !== undefined) params.interval = interval;
    const min = v.get('mininterval');
    if (min !== undefined && min !== '') {
      const ms = Number(min) * 1000;
      if (!Number.isFinite(ms)) v.warn('mininterval', `mininterval = ${min} is not a number of seconds; left out`);
      // fping ≥ 4 refuses faster than 0.2 ms per packet per process (see docs/probes/icmp.md).
      else params.mininterval = Math.min(1000, Math.max(0.2, Math.round(ms * 1000) / 1000));
    }
    const source = v.get('sourceaddress');
    if (source) params.source = source;
    const tos = integer(v, 'tos', 0, 255);
    if (tos !== undefined) params.tos = tos;
    if (v.get('blazemode') === 'true') {
      v.note('blazemode', 'blazemode (an extra first ping, discarded) has no equivalent: every ping counts');
    }
    if (module === 'FPingContinuous') {
      v.warnProbe('FPingContinuous (one endless fping stream) becomes rounds of fping -C, as FPing does', 'nothing to do unless you relied on the stream');
    }
    if (module === 'FPing6' && host !== undefined && !isAddress(host)) {
      v.warn(undefined, `FPing6 target "${host}" is a name: smokemesh's icmp probe uses the resolver's first address, which may be IPv4`, 'write its IPv6 address as host');
    }
    return { type: 'icmp', params, ...(host !== undefined ? { host } : {}) };
  },
};
