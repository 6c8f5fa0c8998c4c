// One group /Many of `n` ICMP targets (step 60 s, 20 pings; host 127.0.x.y each) with `hours` of
// synthetic history per target (test/e2e/synthetic.ts: base RTT 5–54 ms, every 10th target with
// 5 % loss, agent "local"), served by the dev server over the real store: the data of the
// overview, charts and UI overview benches.
import { startDevServer } from '../test/e2e/dev-server.ts';
import { syntheticRounds } from '../test/e2e/synthetic.ts';
import type { Round } from '../src/probes/round.ts';

export async function startSyntheticGroup(n: number, hours: number, now = Date.now()) {
  const lines = ['general: { step: 60, pings: 20 }', 'targets:', '  children:', '    Many:', '      children:'];
  for (let i = 0; i < n; i++) lines.push(`        t${i}: { host: 127.0.${i >> 8}.${(i & 255) + 1} }`);
  function* rounds(): Generator<Round> {
    for (let i = 0; i < n; i++) {
      yield* syntheticRounds({ target: `/Many/t${i}`, agent: 'local', from: now - hours * 3_600_000, to: now, step: 60, pings: 20, base: 5 + (i % 50), lossRate: i % 10 === 0 ? 0.05 : 0, seed: i + 1 });
    }
  }
  return startDevServer({ configYaml: lines.join('\n') + '\n', rounds: rounds() });
}
