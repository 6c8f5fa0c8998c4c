/**
 * Which raised cause explains a series on a server that does not step its scope (a cluster:
 * the scope's owner steps it; the others evaluate the target alerts of their own series). The
 * owner's step says which cause took each series; elsewhere the causes read from the shared
 * database are matched by their key, the most general first — what the step itself does for a
 * raised cause not inferred in that step. Pure.
 */
import type { Roles } from '../config/localize-schema.ts';
import { destinationOf, vantageOf } from './select.ts';
import { CAUSE_KINDS, type Cause, type SeriesInput } from './types.ts';

type Series = Pick<SeriesInput, 'target' | 'agent' | 'targetLabels' | 'agentLabels' | 'agentRegion'>;

/** Raised causes, most general first (the order coveringCause tries them in). */
export function raisedByGenerality(causes: Iterable<Cause>): Cause[] {
  return [...causes].filter((c) => c.raised !== null).sort((a, b) => CAUSE_KINDS.indexOf(a.kind) - CAUSE_KINDS.indexOf(b.kind) || a.id.localeCompare(b.id));
}

/** Whether a cause's key covers the series (its role values are the key's values). */
export function covers(c: Cause, roles: Roles, s: Series): boolean {
  const v = Object.values(c.key);
  const same = (a: readonly (string | undefined)[], b: readonly string[]) => a.length === b.length && a.every((x, i) => x === b[i]);
  switch (c.kind) {
    case 'vantage':
      if (c.key.agent !== undefined) return s.agent === c.key.agent;
      return (s.agentLabels[roles.site] ?? s.agent) === v[0];
    case 'network': return vantageOf(roles, s)[0] === v[0];
    case 'cell': return same(vantageOf(roles, s), v);
    case 'destination': return same(destinationOf(roles, s), v);
    case 'path': return vantageOf(roles, s)[0] === v[0] && same(destinationOf(roles, s), v.slice(1));
    case 'item': return (roles.item === 'path' ? s.target : (s.targetLabels[roles.item] ?? s.target)) === v[0];
    case 'region_pair': return (s.agentLabels.region ?? s.agentRegion) === c.key.source_region && s.targetLabels.region === c.key.target_region;
  }
}

/** The id of the first cause of `raised` (most general first) that covers the series. */
export function coveringCause(raised: readonly Cause[], roles: Roles, s: Series): string | undefined {
  for (const c of raised) if (covers(c, roles, s)) return c.id;
  return undefined;
}
