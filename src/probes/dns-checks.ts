import { compileRegexps, type UserRegexp } from './net-regexp.ts';
import type { DnsParams } from './params.ts';

/** validate_answer_rrs as configured (plain data: it travels to the regexp worker). */
export type AnswerRuleParams = NonNullable<DnsParams['validate_answer_rrs']>;

/** Regexps of validate_answer_rrs, compiled. */
export interface AnswerRules {
  failIfMatches: UserRegexp[];
  failIfNotMatches: UserRegexp[];
  failIfAllMatch: UserRegexp[];
  failIfNoneMatches: UserRegexp[];
}

/** Compiles validate_answer_rrs; throws an Error naming the field of a regexp that does not compile. */
export function compileAnswerRules(v: AnswerRuleParams = {}): AnswerRules {
  const f = 'validate_answer_rrs.';
  return {
    failIfMatches: compileRegexps(v.fail_if_matches_regexp, f + 'fail_if_matches_regexp'),
    failIfNotMatches: compileRegexps(v.fail_if_not_matches_regexp, f + 'fail_if_not_matches_regexp'),
    failIfAllMatch: compileRegexps(v.fail_if_all_match_regexp, f + 'fail_if_all_match_regexp'),
    failIfNoneMatches: compileRegexps(v.fail_if_none_matches_regexp, f + 'fail_if_none_matches_regexp'),
  };
}

/** True when the rules hold any regexp (judging then runs off the event loop). */
export function hasAnswerRegexps(r: AnswerRules): boolean {
  return r.failIfMatches.length + r.failIfNotMatches.length + r.failIfAllMatch.length + r.failIfNoneMatches.length > 0;
}

/** blackbox_exporter's validate_answer_rrs over RRs in text form; returns the failure reason or undefined. */
export function checkAnswerRrs(rrs: string[], r: AnswerRules): string | undefined {
  for (const rr of rrs) {
    for (const re of r.failIfMatches) if (re.test(rr)) return `answer RR ${JSON.stringify(rr)} matched fail_if_matches_regexp ${re.source}`;
    for (const re of r.failIfNotMatches) if (!re.test(rr)) return `answer RR ${JSON.stringify(rr)} did not match fail_if_not_matches_regexp ${re.source}`;
  }
  for (const re of r.failIfAllMatch) {
    if (rrs.length > 0 && rrs.every((rr) => re.test(rr))) return `every answer RR matched fail_if_all_match_regexp ${re.source}`;
  }
  for (const re of r.failIfNoneMatches) {
    if (!rrs.some((rr) => re.test(rr))) return `no answer RR matched fail_if_none_matches_regexp ${re.source}${rrs.length ? '' : ' (empty answer)'}`;
  }
  return undefined;
}
