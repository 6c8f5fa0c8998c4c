/**
 * Event-loop stalls under pathological input (issue 10): a real server process probes every
 * second an HTTP target whose body and a DNS target whose TXT answer make `(a+)+`-style
 * regexps backtrack for hours in a JavaScript engine, tries a silence with a 30-star glob on
 * every alert notification, and answers a search every 200 ms; a client loop times /health
 * and a signed agent heartbeat for the whole run. Prints count, median, p99 and max per
 * endpoint, and the load average (the machine is shared: say so with the figures). Then the
 * same run as a control: the same targets without any regexp check and no silence, so that a
 * tail that comes from the machine's load shows in both.
 *
 *   npx tsx bench/trust-stall.ts [seconds=30]
 */
import { loadavg } from 'node:os';
import { latencyLoop, postStarSilence, startStallScenario } from '../test/fixtures/stall-scenario.ts';

const SECONDS = Number(process.argv[2] ?? 30);
const load = () => loadavg().map((x) => x.toFixed(2)).join(' ');
console.log(`command: npx tsx bench/trust-stall.ts ${SECONDS}`);
for (const control of [false, true]) await run(control);

async function run(control: boolean): Promise<void> {
  const loadBefore = load();
  const s = await startStallScenario({ control });
  try {
    await fetch(`${s.base}/health`);
    await s.heartbeat();
    const loop = latencyLoop(s);
    if (!control) {
      const post = await postStarSilence(s);
      if (post.status !== 201) throw new Error(`silence refused: ${post.status} ${await post.text()}`);
    }
    const end = Date.now() + SECONDS * 1000;
    let searches = 0;
    while (Date.now() < end) {
      await fetch(`${s.base}/api/v1/search?q=${encodeURIComponent('a'.repeat(200))}`, { signal: AbortSignal.timeout(5000) });
      searches++;
      await new Promise((r) => setTimeout(r, 200));
    }
    await loop.stop();
    const latest = (await (await fetch(`${s.base}/api/v1/latest`)).json()) as { rounds: { target: string; error?: string }[] };
    const stats = (xs: number[]) => {
      const v = [...xs].sort((a, b) => a - b);
      const q = (p: number) => v[Math.min(v.length - 1, Math.floor(p * v.length))]!.toFixed(1);
      return `${v.length} requests, median ${q(0.5)} ms, p99 ${q(0.99)} ms, max ${v.at(-1)!.toFixed(1)} ms`;
    };
    console.log(`\n${control ? 'control (no regexp checks, no silence)' : 'pathological'}: ${SECONDS} s, ${searches} searches; load average before ${loadBefore}, after ${load()}`);
    console.log(`/health:   ${stats(loop.health)}`);
    console.log(`agent API: ${stats(loop.agentApi)}`);
    for (const r of latest.rounds) if (r.target === '/web' || r.target === '/dns') console.log(`${r.target}: ${r.error ?? 'ok'}`);
  } finally {
    await s.stop();
  }
}
