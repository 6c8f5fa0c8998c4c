import type { Round } from '../probes/round.ts';

/**
 * Checks what the store relies on in a round (cheap enough for every round of a big batch);
 * returns what is wrong, or undefined. Rounds come from agents: never trust their shape.
 */
export function checkRound(r: Round): string | undefined {
  if (r === null || typeof r !== 'object') return 'not an object';
  if (typeof r.target !== 'string' || !r.target.startsWith('/')) return 'target must be a path starting with "/"';
  if (typeof r.agent !== 'string' || r.agent.length === 0) return 'agent must be a non-empty string';
  if (typeof r.probe !== 'string' || r.probe.length === 0) return 'probe must be a non-empty string';
  if (!Number.isSafeInteger(r.time) || r.time < 0) return 'time must be ms since the epoch';
  if (!Number.isSafeInteger(r.step) || r.step < 1) return 'step must be a positive integer';
  if (!Number.isSafeInteger(r.sent) || r.sent < 0) return 'sent must be a non-negative integer';
  if (!Array.isArray(r.rtts)) return 'rtts must be an array';
  if (r.rtts.length > r.sent) return `more RTTs (${r.rtts.length}) than pings sent (${r.sent})`;
  let prev = 0;
  for (const v of r.rtts) {
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > 3_600_000) return 'rtts must be finite RTTs in ms';
    if (v < prev) return 'rtts must be sorted ascending';
    prev = v;
  }
  if (r.phases !== undefined) {
    if (r.phases === null || typeof r.phases !== 'object') return 'phases must be an object';
    for (const v of Object.values(r.phases)) if (typeof v !== 'number' || !Number.isFinite(v)) return 'phases must be numbers';
  }
  if (r.status !== undefined && !Number.isSafeInteger(r.status)) return 'status must be an integer';
  if (r.error !== undefined && typeof r.error !== 'string') return 'error must be a string';
  if (r.cert_expiry !== undefined && !Number.isSafeInteger(r.cert_expiry)) return 'cert_expiry must be an integer';
  return undefined;
}

/** Rounds newer than now + this are refused (a wrong agent clock). */
export const FUTURE_MS = 86_400_000;

/**
 * What every backend refuses: a round in bad shape, older than raw retention (its duplicate
 * could no longer be detected) or more than a day in the future; undefined when acceptable.
 */
export function roundProblem(r: Round, now: number, rawKeepMs: number): string | undefined {
  return checkRound(r) ?? (r.time < now - rawKeepMs ? 'older than raw retention (store.raw_days)' : r.time > now + FUTURE_MS ? 'more than a day in the future' : undefined);
}

/** "target … agent … time …" for log lines about a round that may be malformed. */
export function describeRound(r: Round): string {
  const x = r as Partial<Round> | null;
  return `target ${String(x?.target)} agent ${String(x?.agent)} time ${String(x?.time)}`;
}
