// GET /api/v1/overview as the overview page asks it: wall time, CPU and bytes per request.
// Usage: npx tsx bench/overview-api.ts [targets=200] [hours=10] [runs=7]
// Config: one group of `targets` ICMP targets, step 60 s, 20 pings, shipped store config;
// `hours` of synthetic history per target (test/e2e/synthetic.ts, 10 % of targets with 5 % loss)
// written before measuring; agent "local". The request is answered in-process (app.inject: no
// socket), so wall and CPU are the server's (JSON serialization included); bytes are the JSON
// body as sent (the server does not compress it) and what gzip would make of it.
import { loadavg } from 'node:os';
import { gzipSync } from 'node:zlib';
import { startDevServer } from '../test/e2e/dev-server.ts';
import { syntheticRounds } from '../test/e2e/synthetic.ts';
import type { Round } from '../src/probes/round.ts';

const N = Number(process.argv[2] ?? 200);
const HOURS = Number(process.argv[3] ?? 10);
const RUNS = Number(process.argv[4] ?? 7);
const load = () => loadavg().map((x) => x.toFixed(2)).join(' ');
console.log(`command: npx tsx bench/overview-api.ts ${N} ${HOURS} ${RUNS}`);
console.log(`config: ${N} targets, step 60 s, 20 pings, ${HOURS} h of history each, store as shipped; loadavg at start ${load()}`);
const now = Date.now();
const lines = ['general: { step: 60, pings: 20 }', 'targets:', '  children:', '    Many:', '      children:'];
for (let i = 0; i < N; i++) lines.push(`        t${i}: { host: 127.0.${i >> 8}.${(i & 255) + 1} }`);
function* rounds(): Generator<Round> {
  for (let i = 0; i < N; i++) {
    yield* syntheticRounds({ target: `/Many/t${i}`, agent: 'local', from: now - HOURS * 3_600_000, to: now, step: 60, pings: 20, base: 5 + (i % 50), lossRate: i % 10 === 0 ? 0.05 : 0, seed: i + 1 });
  }
}
const srv = await startDevServer({ configYaml: lines.join('\n') + '\n', rounds: rounds() });
const url = `/api/v1/overview?path=/Many&from=${now - HOURS * 3_600_000}&to=${now}`;
const walls: number[] = [];
const cpus: number[] = [];
let bytes = 0;
let gz = 0;
let drawn = 0;
for (let i = 0; i < RUNS; i++) {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const res = await srv.app.inject({ url });
  walls.push(performance.now() - t0);
  const c = process.cpuUsage(c0);
  cpus.push((c.user + c.system) / 1000);
  if (res.statusCode !== 200) throw new Error(`HTTP ${res.statusCode}: ${res.body.slice(0, 200)}`);
  bytes = res.rawPayload.length;
  gz = gzipSync(res.rawPayload).length;
  drawn = (res.json() as { targets: unknown[] }).targets.length;
}
await srv.close();
const med = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)]!;
console.log(`overview of ${drawn} of ${N} targets × ${HOURS} h (${RUNS} requests): median ${med(walls).toFixed(0)} ms wall, ${med(cpus).toFixed(0)} ms CPU; ${bytes} bytes of JSON (gzip would be ${gz}); goal ≤ 50 ms, ≤ 30 ms CPU, ≤ 100 KB on the wire`);
console.log(`loadavg at end ${load()}`);
