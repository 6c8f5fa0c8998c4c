/**
 * Checks of a resolved probe parameter set beyond its schema, shared by the target tree and
 * the mesh section: one round fits the step. (User regexps are compiled by the schema's
 * `re2` keyword, src/config/validate.ts.)
 */
import { roundTime } from '../probes/round-time.ts';
import type { ProbeType } from '../probes/round.ts';
import type { FieldPath } from './yaml.ts';

/** Per-attempt timeouts in ms when none is set. */
export const DEFAULT_TIMEOUT: Record<ProbeType, number> = { icmp: 1000, tcp: 3000, dns: 3000, http: 10000 };

/** What a round-fit check concluded: nothing, a refusal, or a warning. */
export type RoundFit = { level: 'error' | 'warning'; message: string } | undefined;

/**
 * Whether one round of a target fits its step.
 * - Refused when a round cannot fit even with every attempt answered at once: every run
 *   would overrun, and an overrun run is skipped.
 * - icmp: refused also when a round of a target that answers nothing (fping waits its
 *   timeout after the last ping) does not fit: an unreachable host never answers, so every
 *   other run would be skipped exactly while the target is down. Nobody means that.
 * - tcp, dns, http: a warning when a round whose attempts all time out does not fit. A
 *   refused connection or an error answer ends an attempt at once, so only a target that
 *   swallows packets or hangs makes rounds that long, and blackbox_exporter's usual
 *   timeouts with 20 pings would otherwise refuse working configs.
 */
export function roundFit(type: ProbeType, params: Record<string, unknown> & { pings: number; timeout: number; step: number }): RoundFit {
  const t = roundTime(type, params);
  const stepMs = params.step * 1000;
  const s = (ms: number) => `${Math.round(ms) / 1000} s`;
  const shape = type === 'icmp'
    ? `${params.pings} pings ${t.interval} ms apart (interval) then up to ${params.timeout} ms (timeout) for the last reply`
    : `${params.pings} attempts ${t.interval} ms apart (interval), each waiting up to ${params.timeout} ms (timeout)`;
  const fix = 'lower pings, interval or timeout, or raise step';
  if (t.answered >= stepMs) {
    return { level: 'error', message: `a round cannot fit its step of ${params.step} s: ${shape} take ${s(t.answered)} even when every reply comes at once; ${fix}` };
  }
  if (t.unanswered >= stepMs) {
    if (type === 'icmp') {
      return { level: 'error', message: `a round of an unreachable target takes ${s(t.unanswered)} (${shape}), not less than its step of ${params.step} s: every other run would be skipped exactly while the target is down; ${fix}` };
    }
    return { level: 'warning', message: `while attempts time out, a round takes up to ${s(t.unanswered)} (${shape}), more than its step of ${params.step} s, and runs are skipped; ${fix} if the target may swallow packets` };
  }
  return undefined;
}
