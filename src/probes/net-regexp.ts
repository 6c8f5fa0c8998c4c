/**
 * Compiles user regexps written for blackbox_exporter (Go RE2 syntax) as JavaScript
 * RegExps. The common syntax is shared; Go's leading flag group `(?i)`, `(?s)`, `(?m)`
 * (any combination) becomes JavaScript flags. Throws an Error naming `field` and the
 * offending pattern when one does not compile.
 */
export function compileRegexps(patterns: readonly string[] | undefined, field: string): RegExp[] {
  return (patterns ?? []).map((src) => {
    const m = /^\(\?([ism]+)\)/.exec(src);
    const flags = m ? [...new Set(m[1]!)].join('') : '';
    try {
      return new RegExp(m ? src.slice(m[0].length) : src, flags);
    } catch (e) {
      throw new Error(`invalid regexp ${JSON.stringify(src)} in ${field}: ${(e as Error).message}`);
    }
  });
}
