import { IcmpParamsSchema, type IcmpParams } from './params.ts';
import type { Probe } from './probe.ts';

/** Placeholder: replaced by the real icmp probe. */
export const icmpProbe: Probe<IcmpParams> = {
  type: 'icmp',
  batch: 1,
  paramsSchema: IcmpParamsSchema,
  async unavailable() {
    return 'icmp probe not implemented yet';
  },
  async measure(targets) {
    return targets.map((t) => ({ sent: t.params.pings, rtts: [], error: 'not implemented' }));
  },
};
