/**
 * The localization families of /metrics: active causes per scope and kind, one gauge per
 * raised cause (so Prometheus can alert on a cause), series counts per scope and verdict,
 * the time of the last step, and in a cluster the shared writes and digests. docs/metrics.md lists them.
 */
import { Exposition, labelString } from '../export/exposition.ts';
import { CAUSE_KINDS } from './types.ts';
import type { LocalizeService } from './service.ts';

/** Renders the families for the scopes as they run now. */
export function renderLocalizeMetrics(scopes: ReturnType<LocalizeService['list']>, shared?: LocalizeService['sharedStats']): string {
  const x = new Exposition();
  x.family('smokemesh_localize_causes', 'gauge', 'Causes per scope, kind and confidence; state="raised" (notified) or "pending" (inferred, fewer than raise_after steps yet)');
  for (const s of scopes) {
    const counts = new Map<string, number>();
    for (const c of s.last?.causes ?? []) {
      const k = `${c.kind}\u0000${c.confidence}\u0000${c.raised === null ? 'pending' : 'raised'}`;
      counts.set(k, (counts.get(k) ?? 0) + 1);
    }
    for (const kind of CAUSE_KINDS) {
      for (const confidence of ['suspected', 'confirmed']) {
        for (const state of ['raised', 'pending']) {
          const n = counts.get(`${kind}\u0000${confidence}\u0000${state}`) ?? 0;
          if (n || (state === 'raised' && confidence === 'confirmed')) x.sample('smokemesh_localize_causes', labelString({ scope: s.config.name, kind, confidence, state }), n);
        }
      }
    }
  }
  x.family('smokemesh_localize_cause_active', 'gauge', 'One sample per raised cause (value 1), labelled with its id, kind and key labels');
  for (const s of scopes) {
    for (const c of s.last?.causes ?? []) {
      if (c.raised === null) continue;
      x.sample('smokemesh_localize_cause_active', labelString({ scope: s.config.name, cause: c.id, kind: c.kind, confidence: c.confidence, title: c.title }), 1);
    }
  }
  x.family('smokemesh_localize_series', 'gauge', 'Series of a scope in the last step by state: total (judged), bad, unexplained (bad, no raised cause), excluded (whitelist, maintenance), stale, unlabelled');
  for (const s of scopes) {
    const c = s.last?.counts;
    if (!c) continue;
    for (const [state, n] of [['total', c.series], ['bad', c.bad], ['unexplained', c.unexplained], ['excluded', c.excluded], ['stale', c.stale], ['unlabelled', c.unlabelled]] as const) {
      x.sample('smokemesh_localize_series', labelString({ scope: s.config.name, state }), n);
    }
  }
  x.family('smokemesh_localize_step_seconds', 'gauge', 'Time the last localization step of a scope took');
  for (const s of scopes) if (s.took !== undefined) x.sample('smokemesh_localize_step_seconds', labelString({ scope: s.config.name }), s.took);
  if (shared) {
    x.family('smokemesh_localize_shared_total', 'counter', 'In a cluster: writes of scopes\' causes through the fence (written, refused: another server changed them first, or this one was not live), digests sent to scope owners and read from other servers');
    for (const [event, n] of Object.entries(shared)) x.sample('smokemesh_localize_shared_total', labelString({ event }), n);
  }
  return x.text();
}
