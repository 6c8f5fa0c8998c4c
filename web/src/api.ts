import type {
  Agent, LatestRound, NodeSummary, OverviewResponse, SeriesResponse, TargetDetail, TopRow, TreeNode,
} from '../../src/server/api/schemas.ts';

export type { Agent, LatestRound, NodeSummary, OverviewResponse, SeriesResponse, TargetDetail, TopRow, TreeNode };
export type { SeriesPoint, Series, MiniPoint } from '../../src/server/api/schemas.ts';

/** An API answer that was not 2xx. */
export class HttpError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

/** GETs JSON from the server's API; rejects with HttpError carrying the server's message. */
export async function getJson<T>(path: string, params: Record<string, string | number | string[] | undefined> = {}, signal?: AbortSignal): Promise<T> {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined) continue;
    if (Array.isArray(v)) for (const x of v) q.append(k, x);
    else q.set(k, String(v));
  }
  const qs = q.toString();
  const res = await fetch(`api/${path}${qs ? '?' + qs : ''}`, { signal, headers: { accept: 'application/json' } });
  if (!res.ok) {
    let msg = res.statusText;
    try {
      const body = (await res.json()) as { error?: string; message?: string };
      msg = body.error ?? body.message ?? msg;
    } catch { /* not JSON */ }
    throw new HttpError(res.status, msg);
  }
  return (await res.json()) as T;
}

export const api = {
  tree: () => getJson<{ title: string; root: TreeNode }>('v1/tree'),
  target: (path: string) => getJson<TargetDetail>('v1/targets', { path }),
  series: (target: string, from: number, to: number, points: number, agents?: string[], signal?: AbortSignal) =>
    getJson<SeriesResponse>('v1/series', { target, from, to, points, agent: agents }, signal),
  overview: (path: string, from: number, to: number, points: number, signal?: AbortSignal) =>
    getJson<OverviewResponse>('v1/overview', { path, from, to, points }, signal),
  latest: (prefix?: string) => getJson<{ rounds: LatestRound[] }>('v1/latest', { prefix }),
  top: (metric: string, window: string, n = 10) => getJson<{ rows: TopRow[] }>('v1/top', { metric, window, n }),
  agents: () => getJson<{ agents: Agent[] }>('v1/agents'),
  search: (q: string) => getJson<{ results: NodeSummary[] }>('v1/search', { q }),
  alerts: () => getJson<unknown>('v1/alerts'),
};
