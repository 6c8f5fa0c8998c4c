/**
 * What a user regexp costs with the engine smokemesh uses (RE2 through re2js, src/probes/
 * net-regexp.ts) against JavaScript's backtracking RegExp, on inputs a monitored target could
 * send. Prints ms per match (second run, warm) for growing inputs: RE2 grows linearly, the
 * backtracking engine doubles per extra character on `^(a+)+$` (it is only run on small
 * inputs, or it would not finish). The last rows show RE2's worst case: linear, but times
 * the pattern's size, which is why probe checks run on a worker with a deadline.
 *
 *   npx tsx bench/regexp-engine.ts
 */
import { loadavg } from 'node:os';
import { compileUserRegexp } from '../src/probes/net-regexp.ts';

const time = (f: () => unknown): number => {
  f();
  const t0 = performance.now();
  f();
  return performance.now() - t0;
};
console.log(`command: npx tsx bench/regexp-engine.ts; load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
console.log('\n^(a+)+$ against "a"×n + "!"');
for (const n of [16, 20, 22, 24]) {
  const s = `${'a'.repeat(n)}!`;
  const js = new RegExp('^(a+)+$');
  const re2 = compileUserRegexp('^(a+)+$');
  if (!re2.ok) throw new Error(re2.error);
  console.log(`n=${n}: JavaScript ${time(() => js.test(s)).toFixed(2)} ms, RE2 ${time(() => re2.regexp.test(s)).toFixed(3)} ms`);
}
console.log('\nRE2 on 1 MiB bodies (ms per match)');
const MiB = 1 << 20;
for (const [src, ch] of [['^(a+)+$', 'a'], ['(?i)<title>.*down.*</title>', 'y'], ['"status":\\s*"ok"', 'x'], ['(a|aa)+$', 'a']] as const) {
  const c = compileUserRegexp(src);
  if (!c.ok) throw new Error(c.error);
  const body = new TextEncoder().encode(`${ch.repeat(MiB - 1)}!`);
  console.log(`${src}: ${time(() => c.regexp.test(body)).toFixed(1)} ms`);
}
console.log('\nRE2 worst case: (?:a?){k}a{k}$ against "a"×n + "!" (cost ~ n × k)');
for (const [k, n] of [[100, 1 << 14], [300, 1 << 14], [1000, 1 << 12], [1000, 1 << 14]] as const) {
  const c = compileUserRegexp(`(?:a?){${k}}a{${k}}$`);
  if (!c.ok) throw new Error(c.error);
  const s = `${'a'.repeat(n)}!`;
  console.log(`k=${k}, n=${n}: ${time(() => c.regexp.test(s)).toFixed(1)} ms`);
}
