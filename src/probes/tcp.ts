import { TcpParamsSchema, type TcpParams } from './params.ts';
import type { Probe } from './probe.ts';

/** Placeholder: replaced by the real tcp probe. */
export const tcpProbe: Probe<TcpParams> = {
  type: 'tcp',
  batch: 1,
  paramsSchema: TcpParamsSchema,
  async unavailable() {
    return 'tcp probe not implemented yet';
  },
  async measure(targets) {
    return targets.map((t) => ({ sent: t.params.pings, rtts: [], error: 'not implemented' }));
  },
};
