/**
 * The one place where a regexp written by a user (a config or an API caller) becomes
 * something that runs. The engine is RE2 (re2js, a pure-JavaScript port of Go's regexp):
 * matching takes time linear in the input, so no pattern can backtrack for hours the way
 * a JavaScript RegExp can (`^(a+)+$` against "aaa…a!"), and the syntax is Go's, which is
 * exactly what blackbox_exporter configs are written in. The rest of the code never calls
 * `new RegExp` on user input; it calls compileUserRegexp or compileRegexps.
 *
 * Linear is not free: the worst case costs input length × program size (a pattern like
 * `(?:a?){1000}a{1000}` holds thousands of instructions), so probes run their checks
 * against target-controlled text through net-regexp-worker.ts, off the event loop.
 */
import { RE2JS } from 're2js';

/** A compiled user regexp. `test` is unanchored, like RegExp.prototype.test. */
export interface UserRegexp {
  /** The pattern as the user wrote it. */
  readonly source: string;
  /** True when the pattern matches anywhere in `text` (a string, or UTF-8 bytes). */
  test(text: string | Uint8Array): boolean;
}

/** compileUserRegexp's answer: the regexp, or why it does not compile. */
export type CompiledRegexp = { ok: true; regexp: UserRegexp } | { ok: false; error: string };

/** Longest pattern accepted, in characters: a regexp is a line in a config, not a document. */
export const MAX_REGEXP_LENGTH = 4096;

const FLAGS: Record<string, number> = { i: RE2JS.CASE_INSENSITIVE, s: RE2JS.DOTALL, m: RE2JS.MULTILINE };

// Compiling costs far more than a match and re2js keeps its DFA cache in the compiled
// object, so probes that compile per round reuse it. Bounded: oldest entries go first.
const CACHE_MAX = 1000;
const cache = new Map<string, UserRegexp>();

/**
 * Compiles `source` in RE2 syntax (Go's regexp: `(?i)` and the other inline flags work;
 * backreferences and lookarounds do not exist). `flags` may hold `i`, `s` and `m`, as in
 * JavaScript. Never throws: a pattern that does not compile, is longer than
 * MAX_REGEXP_LENGTH or is too large for the engine comes back as `{ ok: false, error }`
 * with the engine's reason, ready to be placed after a file:line:column and field.
 */
export function compileUserRegexp(source: string, flags = ''): CompiledRegexp {
  if (typeof source !== 'string') return { ok: false, error: 'a regexp must be a string' };
  if (source.length > MAX_REGEXP_LENGTH) {
    return { ok: false, error: `regexp is ${source.length} characters long; at most ${MAX_REGEXP_LENGTH} are allowed` };
  }
  let bits = 0;
  for (const f of flags) {
    const bit = FLAGS[f];
    if (bit === undefined) return { ok: false, error: `unknown regexp flag "${f}" (known: i, s, m)` };
    bits |= bit;
  }
  const key = `${bits}/${source}`;
  const hit = cache.get(key);
  if (hit) return { ok: true, regexp: hit };
  let re: RE2JS;
  try {
    re = RE2JS.compile(source, bits);
  } catch (e) {
    return { ok: false, error: `${(e as Error).message.replace(/^error parsing regexp: /, '')} (RE2 syntax)` };
  }
  const regexp: UserRegexp = { source, test: (text) => re.test(text) };
  if (cache.size >= CACHE_MAX) cache.delete(cache.keys().next().value!);
  cache.set(key, regexp);
  return { ok: true, regexp };
}

/** Compiles one pattern of a config; throws an Error naming the pattern, `field` and the engine's reason. */
export function compileRegexp(source: string, field: string): UserRegexp {
  const c = compileUserRegexp(source);
  if (!c.ok) throw new Error(`invalid regexp ${JSON.stringify(source)} in ${field}: ${c.error}`);
  return c.regexp;
}

/** Compiles every pattern of a config list; throws as compileRegexp for the first that does not compile. */
export function compileRegexps(patterns: readonly string[] | undefined, field: string): UserRegexp[] {
  return (patterns ?? []).map((src) => compileRegexp(src, field));
}
