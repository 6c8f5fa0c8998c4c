import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkResponse, compileRules, statusValid, type FinalResponse } from './http-checks.ts';
import { HttpParamsSchema, type HttpParams } from './params.ts';
import { paramsFor } from '../../test/fixtures/probes/params.ts';

const rules = (p: Record<string, unknown>) => compileRules(paramsFor<HttpParams>(HttpParamsSchema, p));
const res = (over: Partial<FinalResponse> = {}): FinalResponse => ({
  status: 200, httpVersion: '1.1', rawHeaders: ['Set-Cookie', 'a=1', 'set-cookie', 'b=2'], body: Buffer.from('all good'), tls: false, ...over,
});

test('status: empty list means 2xx', () => {
  assert.equal(statusValid(299, []), true);
  assert.equal(statusValid(300, []), false);
  assert.equal(statusValid(404, [404]), true);
});

test('headers with repeats: matches any value; not-matches needs one value to match', () => {
  assert.equal(checkResponse(res(), rules({ fail_if_header_matches: [{ header: 'set-cookie', regexp: '^b=' }] })),
    'header set-cookie matched fail_if_header_matches regexp ^b=');
  assert.equal(checkResponse(res(), rules({ fail_if_header_not_matches: [{ header: 'Set-Cookie', regexp: '^b=' }] })), undefined);
});

test('the first failing rule wins, in blackbox order', () => {
  const r = rules({ valid_status_codes: [200], fail_if_body_matches_regexp: ['good'], fail_if_ssl: true, valid_http_versions: ['HTTP/1.0'] });
  assert.match(checkResponse(res({ status: 500 }), r)!, /^status 500/);
  assert.match(checkResponse(res(), r)!, /^body matched/);
  assert.match(checkResponse(res({ body: Buffer.from('x') }), r)!, /^HTTP\/1\.1 not in valid_http_versions/);
  assert.match(checkResponse(res({ body: Buffer.from('x'), httpVersion: '1.0', tls: true }), r)!, /fail_if_ssl/);
});

test('Go-style (?i) flags and bad regexps naming their field', () => {
  assert.equal(checkResponse(res(), rules({ fail_if_body_not_matches_regexp: ['(?i)ALL GOOD'] })), undefined);
  const p = paramsFor<HttpParams>(HttpParamsSchema, {});
  assert.throws(() => compileRules({ ...p, fail_if_header_matches: [{ header: 'x', regexp: '(', allow_missing: false }] }), /in fail_if_header_matches\[0\]\.regexp/);
});
