import type {
  Agent, ChartsResponse, LatestRound, NodeSummary, OverviewResponse, OverviewSeries, PresentationView, SeriesResponse, TargetDetail, TopRow, TreeNode,
} from '../../src/server/api/schemas.ts';

export type { Agent, ChartsResponse, LatestRound, NodeSummary, OverviewResponse, OverviewSeries, PresentationView, SeriesResponse, TargetDetail, TopRow, TreeNode };
export type { SeriesPoint, Series, MiniPoint } from '../../src/server/api/schemas.ts';
import type { RolloutSpec, RolloutSummary } from '../../src/release/rollout.ts';
import type { StoredRelease } from '../../src/release/fleet-store.ts';
import type { RolloutAction } from '../../src/release/rollout-actions.ts';
export type { RolloutSummary, StoredRelease };
import type { Static } from 'typebox';
import type { ExportStatusSchema } from '../../src/server/routes/export.ts';
import type { ActiveRow, AttemptRow, DeliveryListRow, DeliveryRow, EventRow, Silence } from '../../src/alerts/db.ts';
import type { AlertRule } from '../../src/alerts/config.ts';
import type { ChannelStatus } from '../../src/alerts/dispatcher.ts';

export type { ActiveRow, AttemptRow, DeliveryListRow, DeliveryRow, EventRow, Silence };
/** GET /api/v1/export: remote-write and CloudWatch destinations with their counters. */
export type ExportStatus = Static<typeof ExportStatusSchema>;
/** GET /api/v1/alerts: rules (without their test), active alerts, channels with failed attempt counts. */
export interface AlertsSummary {
  rules: Omit<AlertRule, 'test'>[];
  active: (ActiveRow & { edgetrigger: boolean })[];
  channels: (ChannelStatus & { failed_attempts: number; last_outcome: AttemptRow['outcome'] | null })[];
}
/** The body of POST /api/v1/silences. */
export type SilenceRequest = Omit<Silence, 'id' | 'created'>;

/** An API answer that was not 2xx. */
export class HttpError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

/**
 * Read authentication (docs/security.md): a 401 marked `x-smokemesh-login: required` means
 * the session is missing or expired, so the browser goes to the server's login page and comes
 * back here afterwards. A 401 for a missing admin token is not marked, and stays an error.
 */
function loginIfRequired(res: Response): void {
  if (res.status !== 401 || res.headers.get('x-smokemesh-login') !== 'required') return;
  location.assign(`login?next=${encodeURIComponent(location.pathname + location.search + location.hash)}`);
}

type Query = Record<string, string | number | string[] | undefined>;

/** GETs from the server's API; rejects with HttpError carrying the server's message. */
async function get(path: string, params: Query, signal?: AbortSignal): Promise<Response> {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === '') continue;
    if (Array.isArray(v)) for (const x of v) q.append(k, x);
    else q.set(k, String(v));
  }
  const qs = q.toString();
  const res = await fetch(`api/${path}${qs ? '?' + qs : ''}`, { signal, headers: { accept: 'application/json' } });
  loginIfRequired(res);
  if (!res.ok) throw await httpError(res);
  return res;
}

async function httpError(res: Response): Promise<HttpError> {
  let msg = res.statusText;
  try {
    const body = (await res.json()) as { error?: string; message?: string };
    msg = body.error ?? body.message ?? msg;
  } catch { /* not JSON */ }
  return new HttpError(res.status, msg);
}

/** GETs JSON from the server's API; rejects with HttpError carrying the server's message. */
export async function getJson<T>(path: string, params: Query = {}, signal?: AbortSignal): Promise<T> {
  return (await (await get(path, params, signal)).json()) as T;
}

/** One page of a paged list: its rows and how many match over all pages (X-Total-Count). */
export interface Page<T> {
  rows: T[];
  total: number;
}

/** GETs one page of a paged list. */
export async function getPage<T>(path: string, params: Query = {}, signal?: AbortSignal): Promise<Page<T>> {
  const res = await get(path, params, signal);
  const rows = (await res.json()) as T[];
  const total = Number(res.headers.get('x-total-count'));
  return { rows, total: Number.isFinite(total) && res.headers.has('x-total-count') ? total : rows.length };
}

/**
 * Sends a state-changing request (JSON body, optional admin token as Bearer); resolves with
 * the answer's JSON (undefined for 204), rejects with HttpError like getJson.
 */
export async function sendJson<T>(method: 'POST' | 'DELETE', path: string, body: unknown, token?: string): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await fetch(`api/${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  loginIfRequired(res);
  if (!res.ok) throw await httpError(res);
  return (res.status === 204 ? undefined : await res.json()) as T;
}

export const api = {
  tree: () => getJson<{ title: string; root: TreeNode; presentation: PresentationView }>('v1/tree'),
  target: (path: string) => getJson<TargetDetail>('v1/targets', { path }),
  series: (target: string, from: number, to: number, points: number, agents?: string[], signal?: AbortSignal) =>
    getJson<SeriesResponse>('v1/series', { target, from, to, points, agent: agents }, signal),
  overview: (path: string, from: number, to: number, points: number, offset: number, limit: number, signal?: AbortSignal) =>
    getJson<OverviewResponse>('v1/overview', { path, from, to, points, offset, limit }, signal),
  latest: (prefix?: string) => getJson<{ rounds: LatestRound[] }>('v1/latest', { prefix }),
  top: (metric: string, window: string, n = 10) => getJson<{ rows: TopRow[] }>('v1/top', { metric, window, n }),
  charts: (sorter: string, range: string, n: number, signal?: AbortSignal) => getJson<ChartsResponse>('v1/charts', { sorter, range, n }, signal),
  agents: () => getJson<{ agents: Agent[] }>('v1/agents'),
  rollouts: () => getJson<{ rollouts: RolloutSummary[] }>('v1/rollouts'),
  exports: () => getJson<ExportStatus>('v1/export'),
  releases: () => getJson<{ releases: StoredRelease[] }>('v1/releases'),
  startRollout: (spec: Partial<RolloutSpec> & { version: string }, token?: string) => sendJson<{ id: number; state: string }>('POST', 'v1/rollouts', spec, token),
  rolloutAction: (id: number, action: RolloutAction, token?: string) => sendJson<{ state: string }>('POST', `v1/rollouts/${id}/${action}`, undefined, token),
  search: (q: string) => getJson<{ results: NodeSummary[] }>('v1/search', { q }),
  alertsSummary: () => getJson<AlertsSummary>('v1/alerts'),
  alertHistory: (q: Record<string, string | number | undefined>) => getPage<EventRow>('v1/alerts/history', q),
  alertDeliveries: (q: Record<string, string | number | undefined>) => getPage<DeliveryListRow>('v1/alerts/deliveries', q),
  silences: () => getJson<(Silence & { active: boolean })[]>('v1/silences'),
  createSilence: (s: SilenceRequest, token?: string) => sendJson<Silence>('POST', 'v1/silences', s, token),
  expireSilence: (id: string, token?: string) => sendJson<Silence>('POST', `v1/silences/${encodeURIComponent(id)}/expire`, undefined, token),
};
