import { createHash } from 'node:crypto';
import type { Assignment } from '../plan/assignment.ts';

/**
 * A job is what the scheduler starts at one moment: one target for per-target probes, or a
 * batch of targets sharing parameters for batch probes (fping measures them in one process).
 */
export interface Job {
  key: string;
  probe: Assignment['probe'];
  step: number;
  /** Where in the step the job starts, as a fraction in [0, 1). */
  offset: number;
  assignments: Assignment[];
}

/**
 * Groups assignments into jobs. Batch probes group by (probe, parameters) up to `batchSize`;
 * others get one job per target. `offset: random` is a stable pseudo-random fraction of the
 * job key, so restarts keep the same spread and different targets do not start together.
 */
export function buildJobs(assignments: Assignment[], batchSize: (probe: Assignment['probe']) => number, agent: string): Job[] {
  const groups = new Map<string, Assignment[]>();
  for (const a of assignments) {
    const key = batchSize(a.probe) > 1 ? `${a.probe}|${stableJson(a.params)}` : `${a.probe}|${a.target}`;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = []));
    g.push(a);
  }
  const jobs: Job[] = [];
  for (const [key, list] of groups) {
    const size = Math.max(1, batchSize(list[0]!.probe));
    for (let i = 0; i < list.length; i += size) {
      const chunk = list.slice(i, i + size);
      const params = chunk[0]!.params;
      const jobKey = `${key}#${i / size}`;
      jobs.push({
        key: jobKey,
        probe: chunk[0]!.probe,
        step: Number(params.step),
        offset: offsetFraction(String(params.offset ?? 'random'), `${agent}|${jobKey}`),
        assignments: chunk,
      });
    }
  }
  return jobs;
}

/** 'N%' → N/100; 'random' → a stable fraction from the seed. */
export function offsetFraction(offset: string, seed: string): number {
  const m = /^(\d+(?:\.\d+)?)%$/.exec(offset);
  if (m) return Math.min(Number(m[1]) / 100, 0.999);
  const h = createHash('sha1').update(seed).digest();
  return h.readUInt32BE(0) / 2 ** 32;
}

/** The next start time (ms) of a job at or after `now`: step boundaries since the epoch plus the offset. */
export function nextStart(job: Pick<Job, 'step' | 'offset'>, now: number): number {
  const stepMs = job.step * 1000;
  const off = Math.floor(job.offset * stepMs);
  let t = Math.floor((now - off) / stepMs) * stepMs + off;
  if (t < now) t += stepMs;
  return t;
}

function stableJson(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(stableJson).join(',')}]`;
  return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${stableJson((v as Record<string, unknown>)[k])}`).join(',')}}`;
}
