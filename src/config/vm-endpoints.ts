import { SmokemeshError } from '../errors.ts';
import type { StoreConfig } from './schema.ts';
import { trimTrailingSlashes } from './tree.ts';

/**
 * Where the VictoriaMetrics backend sends and reads, derived from the store section in one
 * place: a single node at `url` (`/api/v1/import`, `/api/v1/query`…), or a cluster with writes
 * to vminsert (`/insert/<tenant>/prometheus/api/v1/import`), reads from vmselect
 * (`/select/<tenant>/prometheus/api/v1/…`) and deletes through vmselect
 * (`/delete/<tenant>/prometheus/api/v1/admin/tsdb/delete_series`). Pure: no I/O.
 */

/** The store fields this module reads. */
export type VmStoreFields = Pick<StoreConfig, 'url' | 'insert_url' | 'select_url' | 'tenant'>;

export interface VmEndpoints {
  /** The import URL (JSON lines). */
  write: string;
  /** The prefix before `/api/v1/query`, `/api/v1/query_range`, `/api/v1/export`, `/api/v1/series`. */
  read: string;
  /** The delete_series URL. */
  del: string;
  /** Form fields every read sends besides its own (the cluster's: refuse partial answers at vmselect already). */
  readParams: Readonly<Record<string, string>>;
  /** How logs and `data info` name the backend. */
  label: string;
  /** The tenant (cluster form only). */
  tenant?: string;
}

/** A field of the store section and what is wrong with it. */
export interface VmEndpointProblem {
  field: 'backend' | 'url' | 'insert_url' | 'select_url' | 'tenant';
  message: string;
}

/** The tenant when store.tenant is not set. */
export const DEFAULT_TENANT = '0';
const MAX_ID = 2 ** 32 - 1;

/** True when the section names a VictoriaMetrics in either form (or half of one). */
export function hasVmTarget(s: VmStoreFields): boolean {
  return s.url !== undefined || s.insert_url !== undefined || s.select_url !== undefined;
}

/**
 * Problems of the VictoriaMetrics fields, each at its field: exactly one form (`url` alone,
 * or `insert_url` with `select_url`, optionally `tenant`), http(s) base URLs without query or
 * fragment (insert_url and select_url not already holding a cluster path: the tenant goes in
 * `tenant`), a tenant of `accountID` or `accountID:projectID`, each from 0 to 2^32−1.
 * `required`: none given is a problem too (store.backend: victoriametrics). A value of the
 * wrong type is left to the schema's message.
 */
export function vmEndpointProblems(s: VmStoreFields, required: boolean): VmEndpointProblem[] {
  const out: VmEndpointProblem[] = [];
  const cluster = s.insert_url !== undefined || s.select_url !== undefined;
  if (!hasVmTarget(s)) {
    if (required) out.push({ field: 'backend', message: 'backend victoriametrics needs store.url (single node, e.g. http://127.0.0.1:8428) or store.insert_url and store.select_url (cluster, e.g. http://vminsert:8480 and http://vmselect:8481)' });
    if (s.tenant !== undefined) out.push({ field: 'tenant', message: 'a tenant needs store.insert_url and store.select_url (the VictoriaMetrics cluster)' });
    return out;
  }
  for (const field of ['url', 'insert_url', 'select_url'] as const) {
    const v = s[field];
    if (typeof v !== 'string') continue;
    const problem = urlProblem(v, field);
    if (problem) out.push({ field, message: problem });
  }
  if (s.url !== undefined && cluster) {
    const other = s.insert_url !== undefined ? 'insert_url' : 'select_url';
    out.push({ field: other, message: `store.url (single node) and store.${other} (cluster) are two forms of the VictoriaMetrics address: give url alone, or insert_url and select_url together` });
    return out;
  }
  if (cluster) {
    if (s.insert_url === undefined) out.push({ field: 'select_url', message: 'the cluster needs store.insert_url (vminsert, e.g. http://vminsert:8480) with store.select_url' });
    if (s.select_url === undefined) out.push({ field: 'insert_url', message: 'the cluster needs store.select_url (vmselect, e.g. http://vmselect:8481) with store.insert_url' });
    if (typeof s.tenant === 'string' || typeof s.tenant === 'number') {
      const problem = tenantProblem(s.tenant);
      if (problem) out.push({ field: 'tenant', message: problem });
    }
  } else if (s.tenant !== undefined) {
    out.push({ field: 'tenant', message: 'a tenant is for the VictoriaMetrics cluster (store.insert_url and store.select_url); a single node at store.url has none' });
  }
  return out;
}

function urlProblem(v: string, field: string): string | undefined {
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    return `"${v}" is not a URL`;
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return `"${v}" is not an http:// or https:// URL`;
  if (u.search || u.hash || v.includes('?') || v.includes('#')) return `"${v}" has a query or fragment; give the base URL only`;
  if (field !== 'url' && /\/(insert|select|delete)\/[^/]*\/prometheus(\/|$)/.test(u.pathname)) {
    return `"${v}" already holds a cluster path; give the base URL of ${field === 'insert_url' ? 'vminsert (e.g. http://vminsert:8480)' : 'vmselect (e.g. http://vmselect:8481)'} and the tenant in store.tenant`;
  }
  return undefined;
}

function tenantProblem(t: string | number): string | undefined {
  const m = /^(\d{1,10})(?::(\d{1,10}))?$/.exec(String(t));
  const bad = `"${t}" is not a tenant: accountID or accountID:projectID, each from 0 to ${MAX_ID} (e.g. 0, 42, 7:3)`;
  if (!m) return bad;
  if (Number(m[1]) > MAX_ID || (m[2] !== undefined && Number(m[2]) > MAX_ID)) return bad;
  return undefined;
}

/**
 * The endpoints of a valid store section (vmEndpointProblems empty, and a VictoriaMetrics
 * named); throws SMOKEMESH_E_CONFIG naming the field otherwise (a section the loader did not
 * check, e.g. built from a command-line URL).
 */
export function vmEndpoints(s: VmStoreFields): VmEndpoints {
  const problem = vmEndpointProblems(s, true)[0];
  if (problem) throw new SmokemeshError('SMOKEMESH_E_CONFIG', `store.${problem.field}: ${problem.message}`);
  if (s.url !== undefined) {
    const base = trimTrailingSlashes(s.url);
    return { write: `${base}/api/v1/import`, read: base, del: `${base}/api/v1/admin/tsdb/delete_series`, readParams: {}, label: base };
  }
  const tenant = s.tenant === undefined ? DEFAULT_TENANT : String(s.tenant);
  const insert = trimTrailingSlashes(s.insert_url!);
  const select = trimTrailingSlashes(s.select_url!);
  return {
    write: `${insert}/insert/${tenant}/prometheus/api/v1/import`,
    read: `${select}/select/${tenant}/prometheus`,
    del: `${select}/delete/${tenant}/prometheus/api/v1/admin/tsdb/delete_series`,
    readParams: { deny_partial_response: '1' },
    label: `vminsert ${insert} + vmselect ${select}, tenant ${tenant}`,
    tenant,
  };
}
