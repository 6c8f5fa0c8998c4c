import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DnsParamsSchema, HttpParamsSchema } from '../probes/params.ts';
import { validate } from './validate.ts';

test('probe params: every regexp field compiles with RE2 at validation, errors name the field and the reason', () => {
  const http = validate(HttpParamsSchema, {
    pings: 1, timeout: 1000, step: 60, offset: 'random',
    fail_if_body_matches_regexp: ['fine', '(a'],
    fail_if_body_not_matches_regexp: ['(?<=x)y'],
    fail_if_header_matches: [{ header: 'x', regexp: '[z-a]' }],
    fail_if_header_not_matches: [{ header: 'y', regexp: '^ok$' }],
  });
  assert.deepEqual(http.map((i) => i.path.join('.')), [
    'fail_if_body_matches_regexp.1', 'fail_if_body_not_matches_regexp.0', 'fail_if_header_matches.0.regexp',
  ]);
  assert.match(http[0]!.message, /^invalid regexp "\(a": missing closing \): `\(a` \(RE2 syntax\)$/);
  const dns = validate(DnsParamsSchema, {
    pings: 1, timeout: 1000, step: 60, offset: 'random',
    validate_answer_rrs: { fail_if_matches_regexp: ['\\1'], fail_if_none_matches_regexp: ['(?i)ok'] },
  });
  assert.deepEqual(dns.map((i) => i.path.join('.')), ['validate_answer_rrs.fail_if_matches_regexp.0']);
});
