import Type, { type Static } from 'typebox';
import { PROBE_TYPES } from '../probes/round.ts';

/** One target an agent must measure, with everything needed to do so (the wire format of plans). */
export const AssignmentSchema = Type.Object({
  target: Type.String({ minLength: 1 }),
  host: Type.String({ minLength: 1 }),
  probe: Type.Enum(PROBE_TYPES),
  /** Fully resolved probe parameters, including pings, timeout, step and offset. */
  params: Type.Record(Type.String(), Type.Unknown()),
});
export type Assignment = Static<typeof AssignmentSchema>;

/** What an agent is told to do; `version` changes whenever the assignments do. */
export const PlanSchema = Type.Object({
  version: Type.String(),
  agent: Type.String(),
  assignments: Type.Array(AssignmentSchema),
});
export type Plan = Static<typeof PlanSchema>;
