// GET /api/v1/charts as the Charts page asks it (one request per sorter, 8 rows each): bytes on
// the wire, JSON bytes and CPU per page load, for each of the page's ranges.
// Usage: npx tsx bench/charts-api.ts [targets=50] [hours=31] [runs=3]
// Config: one group of `targets` ICMP targets, step 60 s, 20 pings, shipped store config;
// `hours` of synthetic history per target (test/e2e/synthetic.ts, 10 % of targets with 5 %
// loss), agent "local". Answered in-process (app.inject), brotli accepted as a browser does;
// CPU is the median over `runs` page loads of the five requests together.
import { loadavg } from 'node:os';
import { startSyntheticGroup } from './synthetic-group.ts';

const N = Number(process.argv[2] ?? 50);
const HOURS = Number(process.argv[3] ?? 31);
const RUNS = Number(process.argv[4] ?? 3);
const SORTERS = ['loss', 'median', 'stddev', 'change', 'max'];
const load = () => loadavg().map((x) => x.toFixed(2)).join(' ');
console.log(`command: npx tsx bench/charts-api.ts ${N} ${HOURS} ${RUNS}`);
console.log(`config: ${N} targets, step 60 s, 20 pings, ${HOURS} h of history each, store as shipped, 8 rows per sorter; loadavg at start ${load()}`);
const now = Date.now();
const srv = await startSyntheticGroup(N, HOURS, now);
const med = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)]!;
for (const range of ['3h', '30h']) {
  const cpus: number[] = [];
  let wire = 0;
  let json = 0;
  for (let run = 0; run < RUNS; run++) {
    const c0 = process.cpuUsage();
    wire = 0;
    for (const sorter of SORTERS) {
      const res = await srv.app.inject({ url: `/api/v1/charts?sorter=${sorter}&range=${range}&n=8`, headers: { 'accept-encoding': 'br, gzip' } });
      if (res.statusCode !== 200) throw new Error(`HTTP ${res.statusCode}: ${res.body.slice(0, 200)}`);
      wire += res.rawPayload.length;
    }
    const c = process.cpuUsage(c0);
    cpus.push((c.user + c.system) / 1000);
  }
  json = 0;
  for (const sorter of SORTERS) json += (await srv.app.inject({ url: `/api/v1/charts?sorter=${sorter}&range=${range}&n=8` })).rawPayload.length;
  console.log(`charts page, range ${range} (5 sorters × 8 graphs): ${wire} bytes on the wire (brotli), ${json} bytes of JSON; median ${med(cpus).toFixed(1)} ms CPU for the five requests (${RUNS} page loads)`);
}
await srv.close();
console.log(`loadavg at end ${load()}`);
