/**
 * The read-check-write rule of the route failover actions, as plain functions: what a route
 * must point at for an alert event, and what to do given what it points at now. A route is
 * changed only when it points at the other known target (or nowhere, or a blackhole): if it
 * already points where it should, nothing is done, and if it points at a third target
 * someone else chose it and it is left alone. So two servers watching the same link, each
 * acting on its own alert, never undo each other: the second finds the work done.
 */
import type { AlertEvent } from '../notifiers/notifier.ts';

/** Where a route should point: raised (or firing) → the backup; cleared → the primary. */
export function wantedFor(state: AlertEvent['state']): 'backup' | 'primary' {
  return state === 'cleared' ? 'primary' : 'backup';
}

/** What the route points at now: a target id, `blackhole` (its target is gone), or nothing (no such route). */
export type RouteNow = { target: string; blackhole?: boolean } | undefined;

export type RouteStep =
  | { act: 'none'; why: string }
  | { act: 'replace' | 'create'; from: string | undefined; to: string }
  | { act: 'refuse'; why: string };

/** The step for one route: `want` is the target it should have, `other` the one it may be changed from. */
export function routeStep(now: RouteNow, want: string, other: string): RouteStep {
  if (!now) return { act: 'create', from: undefined, to: want };
  if (now.target === want && !now.blackhole) return { act: 'none', why: `already points at ${want}` };
  if (now.target === other || now.target === want || now.blackhole) return { act: 'replace', from: now.target, to: want };
  return { act: 'refuse', why: `points at ${now.target}, neither ${want} nor ${other}: changed by someone else, left alone` };
}
