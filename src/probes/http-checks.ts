import { compileRegexp, compileRegexps, type UserRegexp } from './net-regexp.ts';
import type { HttpParams } from './params.ts';

/**
 * Most bytes of a response body kept for the body regexps (1 MiB). The rest is still read
 * (it counts in the transfer phase and in body_size_limit) but not matched; a failure
 * reason then says how much of the body was checked.
 */
export const MAX_CHECKED_BODY = 1 << 20;

/** What the checks look at in the final response of an attempt. */
export interface FinalResponse {
  status: number;
  /** As Node reports it: "1.1", "1.0". */
  httpVersion: string;
  /** Header name/value pairs as received (names in any case, repeats kept). */
  rawHeaders: string[];
  /** The body, when a body regexp needs it: at most MAX_CHECKED_BODY bytes. */
  body?: Uint8Array;
  /** Bytes the body had in full, when more than `body` holds. */
  bodySize?: number;
  tls: boolean;
}

interface HeaderRule { header: string; re: UserRegexp; allowMissing: boolean }

/** A module's response rules with every regexp compiled once per round. */
export interface ResponseRules {
  validStatus: number[];
  validVersions: string[];
  failIfSsl: boolean;
  failIfNotSsl: boolean;
  bodyMatches: UserRegexp[];
  bodyNotMatches: UserRegexp[];
  headerMatches: HeaderRule[];
  headerNotMatches: HeaderRule[];
}

/** The parameters the response rules are made of (plain data: they travel to the regexp worker). */
export type RuleParams = Pick<HttpParams,
  | 'valid_status_codes' | 'valid_http_versions' | 'fail_if_ssl' | 'fail_if_not_ssl'
  | 'fail_if_body_matches_regexp' | 'fail_if_body_not_matches_regexp'
  | 'fail_if_header_matches' | 'fail_if_header_not_matches'>;

/** Picks the rule parameters out of a module's parameters. */
export function ruleParams(p: HttpParams): RuleParams {
  return {
    valid_status_codes: p.valid_status_codes,
    valid_http_versions: p.valid_http_versions,
    fail_if_ssl: p.fail_if_ssl,
    fail_if_not_ssl: p.fail_if_not_ssl,
    fail_if_body_matches_regexp: p.fail_if_body_matches_regexp,
    fail_if_body_not_matches_regexp: p.fail_if_body_not_matches_regexp,
    fail_if_header_matches: p.fail_if_header_matches,
    fail_if_header_not_matches: p.fail_if_header_not_matches,
  };
}

/** Compiles the rules of `p`; throws an Error naming the field of a regexp that does not compile. */
export function compileRules(p: RuleParams): ResponseRules {
  const headerRules = (list: HttpParams['fail_if_header_matches'], field: string): HeaderRule[] =>
    list.map((h, i) => ({
      header: h.header.toLowerCase(),
      re: compileRegexp(h.regexp, `${field}[${i}].regexp`),
      allowMissing: h.allow_missing,
    }));
  return {
    validStatus: p.valid_status_codes,
    validVersions: p.valid_http_versions,
    failIfSsl: p.fail_if_ssl,
    failIfNotSsl: p.fail_if_not_ssl,
    bodyMatches: compileRegexps(p.fail_if_body_matches_regexp, 'fail_if_body_matches_regexp'),
    bodyNotMatches: compileRegexps(p.fail_if_body_not_matches_regexp, 'fail_if_body_not_matches_regexp'),
    headerMatches: headerRules(p.fail_if_header_matches, 'fail_if_header_matches'),
    headerNotMatches: headerRules(p.fail_if_header_not_matches, 'fail_if_header_not_matches'),
  };
}

/** True when the rules need the response body kept in memory. */
export function needsBody(r: ResponseRules): boolean {
  return r.bodyMatches.length > 0 || r.bodyNotMatches.length > 0;
}

/** True when judging a response runs a user regexp (then it runs off the event loop). */
export function hasRegexps(r: ResponseRules): boolean {
  return needsBody(r) || r.headerMatches.length > 0 || r.headerNotMatches.length > 0;
}

/** blackbox_exporter's status rule: listed codes, or any 2xx when the list is empty. */
export function statusValid(status: number, valid: readonly number[]): boolean {
  return valid.length === 0 ? status >= 200 && status < 300 : valid.includes(status);
}

/**
 * Applies the rules in blackbox_exporter's order (status, headers, body, HTTP version,
 * TLS) and returns the reason of the first failure, or undefined when the response passes.
 */
export function checkResponse(res: FinalResponse, r: ResponseRules): string | undefined {
  if (!statusValid(res.status, r.validStatus)) {
    return `status ${res.status} not in valid_status_codes [${r.validStatus.length ? r.validStatus.join(', ') : '2xx'}]`;
  }
  const headers = headerValues(res.rawHeaders);
  for (const h of r.headerMatches) {
    const values = headers.get(h.header);
    if (!values) { if (h.allowMissing) continue; return `header ${h.header} missing (fail_if_header_matches, allow_missing false)`; }
    if (values.some((v) => h.re.test(v))) return `header ${h.header} matched fail_if_header_matches regexp ${h.re.source}`;
  }
  for (const h of r.headerNotMatches) {
    const values = headers.get(h.header);
    if (!values) { if (h.allowMissing) continue; return `header ${h.header} missing (fail_if_header_not_matches, allow_missing false)`; }
    if (!values.some((v) => h.re.test(v))) return `header ${h.header} did not match fail_if_header_not_matches regexp ${h.re.source}`;
  }
  if (r.bodyMatches.length || r.bodyNotMatches.length) {
    // RE2 matches the UTF-8 bytes as Go does: no decoding, and a cut in mid-character is harmless.
    const body = res.body ?? new Uint8Array(0);
    const cut = res.bodySize !== undefined && res.bodySize > body.length
      ? ` (only the first ${body.length} of ${res.bodySize} bytes were checked)` : '';
    for (const re of r.bodyMatches) if (re.test(body)) return `body matched fail_if_body_matches_regexp ${re.source}${cut}`;
    for (const re of r.bodyNotMatches) if (!re.test(body)) return `body did not match fail_if_body_not_matches_regexp ${re.source}${cut}`;
  }
  const version = `HTTP/${res.httpVersion}`;
  if (r.validVersions.length && !r.validVersions.includes(version)) {
    return `${version} not in valid_http_versions [${r.validVersions.join(', ')}]`;
  }
  if (res.tls && r.failIfSsl) return 'TLS used and fail_if_ssl is set';
  if (!res.tls && r.failIfNotSsl) return 'TLS not used and fail_if_not_ssl is set';
  return undefined;
}

/** Header values by lower-case name, repeats kept in order. */
function headerValues(raw: readonly string[]): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const k = raw[i]!.toLowerCase();
    const list = m.get(k);
    if (list) list.push(raw[i + 1]!);
    else m.set(k, [raw[i + 1]!]);
  }
  return m;
}
