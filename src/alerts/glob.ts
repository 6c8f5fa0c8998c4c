/**
 * Path globs for silences, matched without backtracking: `*` is any run of characters
 * within one path segment (no `/`), `?` one such character, `**` (or a longer run of `*`)
 * any run across segments; everything else is literal. A glob used to become a JavaScript
 * RegExp, and one with many `*` backtracked for minutes on every notification; this walks
 * the text once, carrying the set of glob positions reached (time ≤ text × glob length).
 */

/** Longest glob the API accepts. */
export const MAX_GLOB_LENGTH = 1024;

type Token = { k: 'lit'; c: string } | { k: 'one' } | { k: 'star' } | { k: 'stars' };

function tokens(glob: string): Token[] {
  const out: Token[] = [];
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '?') out.push({ k: 'one' });
    else if (c !== '*') out.push({ k: 'lit', c });
    else {
      let n = 1;
      while (glob[i + 1] === '*') { n++; i++; }
      out.push({ k: n === 1 ? 'star' : 'stars' });
    }
  }
  return out;
}

/** True when `glob` matches the whole of `text`. */
export function globMatch(glob: string, text: string): boolean {
  const t = tokens(glob);
  const m = t.length;
  let cur = new Uint8Array(m + 1);
  let next = new Uint8Array(m + 1);
  // A star may match nothing: reaching it reaches what follows it too.
  const close = (set: Uint8Array): void => {
    for (let i = 0; i < m; i++) if (set[i] && (t[i]!.k === 'star' || t[i]!.k === 'stars')) set[i + 1] = 1;
  };
  cur[0] = 1;
  close(cur);
  for (const c of text) {
    next.fill(0);
    let alive = false;
    for (let i = 0; i < m; i++) {
      if (!cur[i]) continue;
      const tok = t[i]!;
      if (tok.k === 'stars' || (tok.k === 'star' && c !== '/')) { next[i] = 1; alive = true; }
      else if ((tok.k === 'lit' && tok.c === c) || (tok.k === 'one' && c !== '/')) { next[i + 1] = 1; alive = true; }
    }
    if (!alive) return false;
    close(next);
    [cur, next] = [next, cur];
  }
  return cur[m] === 1;
}
