import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileRegexps, compileUserRegexp, MAX_REGEXP_LENGTH } from './net-regexp.ts';

test('RE2 syntax: Go inline flags, named groups, POSIX classes; JavaScript-only syntax refused with the reason', () => {
  const ok = (src: string, text: string | Uint8Array) => {
    const c = compileUserRegexp(src);
    assert.ok(c.ok, `${src} compiles`);
    return c.regexp.test(text);
  };
  assert.ok(ok('(?i)ALL GOOD', 'status: all good'));
  assert.ok(ok('(?s)a.b', 'a\nb'));
  assert.ok(!ok('a.b', 'a\nb'));
  assert.ok(ok('(?m)^two$', 'one\ntwo\nthree'));
  assert.ok(ok('(?P<n>\\d+)ms', 'took 12ms'));
  assert.ok(ok('^[[:alpha:]]+$', 'abc'));
  assert.ok(ok('"status":\\s*"ok"', new TextEncoder().encode('{"status": "ok"}')), 'bytes are matched as UTF-8');
  for (const [src, why] of [['(a', /missing closing \)/], ['\\1', /invalid escape/], ['(?<=a)b', /invalid named capture|invalid or unsupported Perl syntax/], ['a{1001}', /invalid repeat count/]] as const) {
    const c = compileUserRegexp(src);
    assert.ok(!c.ok, `${src} is refused`);
    assert.match(c.error, why);
    assert.match(c.error, /\(RE2 syntax\)$/);
  }
});

test('flags, length bound and a pattern too large for the engine are errors, never throws', () => {
  const i = compileUserRegexp('abc', 'i');
  assert.ok(i.ok && i.regexp.test('xABCx'));
  assert.deepEqual(compileUserRegexp('abc', 'g'), { ok: false, error: 'unknown regexp flag "g" (known: i, s, m)' });
  const long = compileUserRegexp('a'.repeat(MAX_REGEXP_LENGTH + 1));
  assert.ok(!long.ok && /at most 4096/.test(long.error));
  const huge = compileUserRegexp('(?:a{1,1000}){1,1000}');
  assert.ok(!huge.ok && /too large/.test(huge.error));
  assert.throws(() => compileRegexps(['ok', '(x'], 'fail_if_body_matches_regexp'), /invalid regexp "\(x" in fail_if_body_matches_regexp: missing closing \)/);
});

test('patterns that backtrack for hours in JavaScript answer at once', () => {
  // With `new RegExp` each of these runs for minutes or more (2^34 ways to split the a's).
  const evil = `${'a'.repeat(34)}!`;
  for (const src of ['^(a+)+$', '(a|aa)+b', '(a|a)+b', '^(\\w+\\s?)*$']) {
    const c = compileUserRegexp(src);
    assert.ok(c.ok);
    assert.equal(c.regexp.test(evil), false, src);
  }
});

test('compiled patterns are reused (the engine keeps its cache in them)', () => {
  const a = compileUserRegexp('reuse-me');
  const b = compileUserRegexp('reuse-me');
  assert.ok(a.ok && b.ok && a.regexp === b.regexp);
  const c = compileUserRegexp('reuse-me', 'i');
  assert.ok(c.ok && c.regexp !== a.regexp);
});
