/**
 * The URL is the state: `#/<page>/<path…>?<params>`. Pages: '' (overview of /), 't'
 * (a target: group overview or detail), 'compare', 'charts', 'agents', 'regions', 'alerts', 'search',
 * 'tasks' (`?id=` one task).
 * Target path segments are URI-encoded, so any Unicode name round-trips.
 */
export interface Route {
  page: string;
  path: string;
  params: URLSearchParams;
}

/** Parses location.hash. */
export function parseRoute(hash: string): Route {
  const raw = hash.replace(/^#\/?/, '');
  const q = raw.indexOf('?');
  const head = q >= 0 ? raw.slice(0, q) : raw;
  const params = new URLSearchParams(q >= 0 ? raw.slice(q + 1) : '');
  const [page = '', ...rest] = head.split('/');
  const segs = rest.filter(Boolean).map((s) => {
    try { return decodeURIComponent(s); } catch { return s; }
  });
  return { page, path: '/' + segs.join('/'), params };
}

type Params = Record<string, string | number | string[] | undefined>;

/** The hash of a target page (group overview or detail). */
export function targetHref(path: string, params?: Params): string {
  const segs = path.split('/').filter(Boolean).map(encodeURIComponent).join('/');
  return '#/t/' + segs + query(params);
}

/** The hash of a plain page. */
export function pageHref(page: string, params?: Params): string {
  return '#/' + page + query(params);
}

function query(params?: Params): string {
  if (!params) return '';
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (Array.isArray(v)) for (const x of v) p.append(k, x);
    else if (v !== undefined && v !== '') p.set(k, String(v));
  }
  const s = p.toString();
  return s ? '?' + s : '';
}
