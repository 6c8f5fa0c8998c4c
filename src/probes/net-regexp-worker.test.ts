import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CheckDeadlineError, runCheck } from './net-regexp-worker.ts';

const rules = (r: Record<string, string[]>) => r;

test('checks run on the worker and answer like the pure functions', async () => {
  const rrs = ['evil.test.\t300\tIN\tTXT\t"hello"'];
  assert.equal(await runCheck('dnsAnswers', { rrs, rules: rules({ fail_if_none_matches_regexp: ['hello'] }) }, { deadlineMs: 30_000 }), undefined);
  assert.match((await runCheck('dnsAnswers', { rrs, rules: rules({ fail_if_matches_regexp: ['TXT'] }) }, { deadlineMs: 30_000 }))!, /matched fail_if_matches_regexp TXT/);
  const res = { status: 200, httpVersion: '1.1', rawHeaders: ['X-A', 'b'], tls: false, body: new TextEncoder().encode('hello') };
  const http = { valid_status_codes: [], valid_http_versions: [], fail_if_ssl: false, fail_if_not_ssl: false, fail_if_body_matches_regexp: ['ell'], fail_if_body_not_matches_regexp: [], fail_if_header_matches: [], fail_if_header_not_matches: [] };
  assert.equal(await runCheck('httpResponse', { res, rules: http }, { deadlineMs: 30_000 }), 'body matched fail_if_body_matches_regexp ell');
});

test('a check past its deadline is stopped, and the next check gets a fresh worker', async () => {
  // Linear, but input × pattern size is large: seconds of work, well past the 200 ms deadline.
  const slow = { rrs: [`${'a'.repeat(1 << 18)}!`], rules: rules({ fail_if_matches_regexp: ['(?:a?){1000}a{1000}$'] }) };
  await runCheck('dnsAnswers', { rrs: ['warm'], rules: {} }, { deadlineMs: 30_000 });
  await assert.rejects(runCheck('dnsAnswers', slow, { deadlineMs: 200 }), (e) => e instanceof CheckDeadlineError && /did not finish within 200 ms/.test(e.message));
  assert.equal(await runCheck('dnsAnswers', { rrs: ['x'], rules: rules({ fail_if_none_matches_regexp: ['x'] }) }, { deadlineMs: 30_000 }), undefined);
});

test('an aborted signal drops a waiting check and stops a running one', async () => {
  const slow = { rrs: [`${'a'.repeat(1 << 18)}!`], rules: rules({ fail_if_matches_regexp: ['(?:a?){1000}a{1000}$'] }) };
  const ac = new AbortController();
  const running = runCheck('dnsAnswers', slow, { deadlineMs: 60_000, signal: ac.signal });
  const waiting = runCheck('dnsAnswers', { rrs: ['x'], rules: {} }, { deadlineMs: 60_000, signal: ac.signal });
  setTimeout(() => ac.abort(new Error('round cancelled')), 100);
  await assert.rejects(running, /round cancelled/);
  await assert.rejects(waiting, /round cancelled/);
  assert.equal(await runCheck('dnsAnswers', { rrs: ['x'], rules: {} }, { deadlineMs: 30_000 }), undefined);
});
