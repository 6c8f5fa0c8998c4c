import type { VmEndpoints } from '../../config/vm-endpoints.ts';
import { SmokemeshError } from '../../errors.ts';
import type { ProbeType, Round } from '../../probes/round.ts';
import type { SeriesPoint } from '../types.ts';
import { M, pointsBySeries, seriesKey } from './encode.ts';
import type { IndexRow } from './outbox.ts';
import { groupReads, groupSelector, promAnswer, targetsSelector, type PromSeries } from './query.ts';

/**
 * Rebuilding the series index (first, last, latest round of every series) from what
 * VictoriaMetrics holds, for a server started on an empty data dir against a VM with history.
 * Every read is bounded (a few hundred targets per query, one agent and up to
 * GROUP_TARGETS targets per export) and asynchronous: the event loop only parses answers of a
 * few hundred KB at a time.
 */

/** Targets per instant query (the selector's regexp stays a few KB)… */
const QUERY_TARGETS = 200;
/** …and series (its answer stays a few hundred KB; a target with more agents is queried alone). */
const QUERY_SERIES = 2000;
/** Targets per export of latest rounds (one agent each). */
const GROUP_TARGETS = 200;
/** An export of latest rounds spans at most this much past its longest member's: live series' last rounds lie within a step or two. */
const GROUP_SLACK_MS = 120_000;
/** Exports under way at once. */
const PARALLEL = 4;
/** A progress line at most this often. */
const PROGRESS_MS = 5000;

export interface RebuildDeps {
  /** Where to read (src/config/vm-endpoints.ts). */
  endpoints: Pick<VmEndpoints, 'read' | 'readParams' | 'label'>;
  timeoutMs: number;
  /** The time the window ends (ms). */
  now: number;
  /** Series with a round in [now - windowMs, now] are found. */
  windowMs: number;
  info(msg: string): void;
  /** Takes a chunk of rebuilt rows (merged into the index, moving rows forward only). */
  merge(rows: IndexRow[]): void;
  /** Stops the rebuild between chunks when true (the store closed). */
  stopped(): boolean;
}

/** One read of VM (form-encoded POST to a path under the read prefix); throws SMOKEMESH_E_STORE naming the URL. */
async function post(ep: RebuildDeps['endpoints'], path: '/api/v1/series' | '/api/v1/query' | '/api/v1/export', params: Record<string, string | number>, timeoutMs: number): Promise<{ url: string; text: string }> {
  const url = `${ep.read}${path}`;
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST', signal: AbortSignal.timeout(timeoutMs),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(Object.entries({ ...params, ...ep.readParams }).map(([k, v]) => [k, String(v)])).toString(),
    });
  } catch (e) {
    throw new SmokemeshError('SMOKEMESH_E_STORE', `${url}: read failed: ${String((e as { cause?: unknown }).cause ?? e)}`);
  }
  const text = await res.text();
  if (!res.ok) throw new SmokemeshError('SMOKEMESH_E_STORE', `${url}: read failed: HTTP ${res.status}: ${text.slice(0, 300)}`);
  return { url, text };
}

/** First and last round time, probe and step of a series, from the step samples. */
interface Found { target: string; agent: string; probe: string; step: number; first: number; last: number }

/** The instant query of first, last and step of every series of the selector over the window. */
export function spanQuery(sel: string, windowMs: number): string {
  const w = `${M.step}${sel}[${windowMs}ms]`;
  return `union(label_set(tfirst_over_time(${w}), "f", "first"), label_set(tlast_over_time(${w}), "f", "last"), label_set(last_over_time(${w}), "f", "step"))`;
}

/** Series of an answer of spanQuery; of a series measured by several probes, the latest one's. */
export function foundSeries(result: readonly PromSeries[]): Found[] {
  const byProbe = new Map<string, Found>();
  for (const s of result) {
    const { target, agent, probe, f } = s.metric;
    const v = Number(s.value?.[1]);
    if (!target || !agent || !probe || !Number.isFinite(v)) continue;
    const k = `${target}\u0000${agent}\u0000${probe}`;
    let x = byProbe.get(k);
    if (!x) byProbe.set(k, (x = { target, agent, probe, step: 0, first: NaN, last: NaN }));
    if (f === 'first') x.first = Math.round(v * 1000);
    else if (f === 'last') x.last = Math.round(v * 1000);
    else if (f === 'step') x.step = v;
  }
  const out = new Map<string, Found>();
  for (const x of byProbe.values()) {
    if (!Number.isFinite(x.first) || !Number.isFinite(x.last) || !(x.step > 0)) continue;
    const k = seriesKey(x.target, x.agent);
    const had = out.get(k);
    if (!had) out.set(k, x);
    else {
      const first = Math.min(had.first, x.first);
      out.set(k, x.last >= had.last ? { ...x, first } : { ...had, first });
    }
  }
  return [...out.values()];
}

/** A round rebuilt from its exported samples: counts, median, min, max, mean, stddev exact; the RTTs spread inside their histogram buckets. */
export function roundOfPoint(s: { target: string; agent: string; probe: string; step: number }, p: SeriesPoint): Round {
  const r: Round = {
    target: s.target, agent: s.agent, probe: s.probe as ProbeType, time: p.time, step: s.step,
    sent: p.sent, rtts: p.smoke, loss: p.lost, median: p.median, mean: p.mean, stddev: p.stddev, min: p.min, max: p.max,
  };
  if (p.phases) r.phases = p.phases;
  if (p.status !== undefined) r.status = p.status;
  if (p.error !== undefined) r.error = p.error;
  return r;
}

/**
 * Finds every series with a round in the window (its step samples, through /api/v1/series),
 * then, about QUERY_SERIES series per query, their first and last times, probe and step, then
 * their latest rounds (exports of one agent and up to GROUP_TARGETS targets, PARALLEL at once),
 * handing each export's rows to `merge`. Logs its progress. Returns the number of series rebuilt.
 */
export async function rebuildFromVm(d: RebuildDeps): Promise<number> {
  const start = (d.now - d.windowMs) / 1000;
  const end = d.now / 1000;
  const s = await post(d.endpoints, '/api/v1/series', { 'match[]': M.step, start, end }, d.timeoutMs);
  let listed = promAnswer<Array<Record<string, string>>>(s.url, s.text) ?? [];
  const perTarget = new Map<string, number>();
  for (const m of listed) if (m.target) perTarget.set(m.target, (perTarget.get(m.target) ?? 0) + 1);
  const targets = [...perTarget.keys()].sort();
  const total = listed.length;
  listed = [];
  d.info(`store: rebuilding the series index from VictoriaMetrics at ${d.endpoints.label}: ${total} series of ${targets.length} targets with rounds in the last ${Math.round(d.windowMs / 86_400_000 * 10) / 10} days`);
  let done = 0;
  let logged = Date.now();
  const progress = (last: boolean) => {
    if (!last && Date.now() - logged < PROGRESS_MS) return;
    logged = Date.now();
    d.info(`store: series index rebuilt from VictoriaMetrics: ${done}/${total} series`);
  };
  // First and last times of every series, about QUERY_SERIES a query (kept: ~100 bytes a series)…
  const found: Found[] = [];
  for (let i = 0; i < targets.length && !d.stopped();) {
    const chunk: string[] = [];
    for (let n = 0; i < targets.length && chunk.length < QUERY_TARGETS && (n < QUERY_SERIES || !chunk.length); i++) {
      chunk.push(targets[i]!);
      n += perTarget.get(targets[i]!)!;
    }
    const a = await post(d.endpoints, '/api/v1/query', { query: spanQuery(targetsSelector(chunk), d.windowMs), time: end, nocache: 1 }, d.timeoutMs);
    found.push(...foundSeries(promAnswer<{ result?: PromSeries[] }>(a.url, a.text)?.result ?? []));
  }
  // …then their latest rounds, a few exports at once (VM answers them in parallel), each group's rows merged as it arrives.
  const groups = groupReads(found.map((f) => ({ ...f, from: f.last, to: f.last })), GROUP_TARGETS, GROUP_SLACK_MS);
  const next = async (): Promise<void> => {
    for (let g = groups.shift(); g && !d.stopped(); g = groups.shift()) {
      const { text } = await post(d.endpoints, '/api/v1/export', { 'match[]': groupSelector(g.reads.map((r) => r.target), g.agent), start: g.from / 1000, end: g.to / 1000 }, d.timeoutMs);
      const points = pointsBySeries(text, g.from, g.to);
      const rows: IndexRow[] = [];
      for (const f of g.reads) {
        const p = points.get(seriesKey(f.target, f.agent))?.find((x) => x.time === f.last);
        if (p) rows.push({ target: f.target, agent: f.agent, probe: f.probe, step: f.step, first: f.first, last: f.last, latest: JSON.stringify(roundOfPoint(f, p)) });
      }
      if (d.stopped()) return;
      d.merge(rows);
      done += rows.length;
      progress(false);
    }
  };
  await Promise.all(Array.from({ length: PARALLEL }, next));
  if (!d.stopped()) progress(true);
  return done;
}
