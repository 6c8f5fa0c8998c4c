import { HttpParamsSchema, type HttpParams } from './params.ts';
import type { Probe } from './probe.ts';

/** Placeholder: replaced by the real http probe. */
export const httpProbe: Probe<HttpParams> = {
  type: 'http',
  batch: 1,
  paramsSchema: HttpParamsSchema,
  async unavailable() {
    return 'http probe not implemented yet';
  },
  async measure(targets) {
    return targets.map((t) => ({ sent: t.params.pings, rtts: [], error: 'not implemented' }));
  },
};
