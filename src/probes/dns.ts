import { DnsParamsSchema, type DnsParams } from './params.ts';
import type { Probe } from './probe.ts';

/** Placeholder: replaced by the real dns probe. */
export const dnsProbe: Probe<DnsParams> = {
  type: 'dns',
  batch: 1,
  paramsSchema: DnsParamsSchema,
  async unavailable() {
    return 'dns probe not implemented yet';
  },
  async measure(targets) {
    return targets.map((t) => ({ sent: t.params.pings, rtts: [], error: 'not implemented' }));
  },
};
