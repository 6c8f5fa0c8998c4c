import type { Round } from '../../src/probes/round.ts';
import { syntheticRounds } from './synthetic.ts';

/** A config of a few groups of loopback-named targets, for UI development, screenshots and benchmarks. */
export function demoConfig(targetsPerGroup = 4, step = 300): string {
  const groups = ['Backbone', '华东 East', 'Web'];
  const lines = [`general: { step: ${step}, pings: 20, title: "smokemesh demo" }`, 'targets:', '  menu: Overview', '  title: All paths', '  children:'];
  groups.forEach((g, gi) => {
    lines.push(`    "${g}":`, `      title: "${g} paths"`, '      children:');
    for (let i = 0; i < targetsPerGroup; i++) {
      const host = `127.0.${gi}.${i + 1}`;
      const http = g === 'Web' && i === 0;
      lines.push(`        "t${i}${gi === 1 ? '-上海' : ''}": { host: "${http ? 'http://127.0.0.1:9/' : host}", ${http ? 'probe: http, ' : ''}title: "${g} target ${i}", labels: { isp: isp${i % 3} } }`);
    }
  });
  return lines.join('\n') + '\n';
}

/** Synthetic history for every target of demoConfig, by one or two agents. */
export function* demoRounds(targetsPerGroup: number, from: number, to: number, step = 300): Generator<Round> {
  const groups = ['Backbone', '华东 East', 'Web'];
  let seed = 1;
  for (const [gi, g] of groups.entries()) {
    for (let i = 0; i < targetsPerGroup; i++) {
      const target = `/${g}/t${i}${gi === 1 ? '-上海' : ''}`;
      const probe = g === 'Web' && i === 0 ? 'http' : 'icmp';
      const base = 2 + ((i * 7 + gi * 13) % 40);
      yield* syntheticRounds({ target, agent: 'local', from, to, step, pings: 20, base, lossRate: i === 1 ? 0.08 : 0.005, seed: seed++, probe });
      if (i % 2 === 0) yield* syntheticRounds({ target, agent: 'tokyo', from, to, step, pings: 20, base: base + 25, lossRate: 0.02, seed: seed++, probe });
    }
  }
}
