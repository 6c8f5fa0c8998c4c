// GET /api/v1/overview as the overview page asks it: wall time, CPU and bytes per request.
// Usage: npx tsx bench/overview-api.ts [targets=200] [hours=10] [runs=7]
// Config: one group of `targets` ICMP targets, step 60 s, 20 pings, shipped store config;
// `hours` of synthetic history per target (test/e2e/synthetic.ts, 10 % of targets with 5 % loss)
// written before measuring; agent "local". The request is answered in-process (app.inject: no
// socket), so wall and CPU are the server's (store read, JSON serialization and brotli
// compression included); bytes are the body as sent to a browser (brotli), the JSON, and what
// gzip makes of it. More than 200 targets: the first and the last page (200 targets each).
// Every request builds its answer (nothing caches a response): the median is what each refresh
// of a browser costs once the store's summary cache holds the page's series; the first request
// (which reads them from the file and fills it) is printed apart.
import { loadavg } from 'node:os';
import { gzipSync } from 'node:zlib';
import { startSyntheticGroup } from './synthetic-group.ts';

const N = Number(process.argv[2] ?? 200);
const HOURS = Number(process.argv[3] ?? 10);
const RUNS = Number(process.argv[4] ?? 7);
const load = () => loadavg().map((x) => x.toFixed(2)).join(' ');
console.log(`command: npx tsx bench/overview-api.ts ${N} ${HOURS} ${RUNS}`);
console.log(`config: ${N} targets, step 60 s, 20 pings, ${HOURS} h of history each, store as shipped; loadavg at start ${load()}`);
const now = Date.now();
const srv = await startSyntheticGroup(N, HOURS, now);
const med = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)]!;

/** RUNS requests of one page as the browser asks it (brotli accepted): median wall and CPU, bytes on the wire, of JSON, and gzip's. */
async function measure(offset: number): Promise<{ wall: number; cpu: number; first: { wall: number; cpu: number }; wire: number; json: number; gz: number; drawn: number; points: number }> {
  const url = `/api/v1/overview?path=/Many&from=${now - HOURS * 3_600_000}&to=${now}&offset=${offset}`;
  const walls: number[] = [];
  const cpus: number[] = [];
  let wire = 0;
  for (let i = 0; i < RUNS; i++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const res = await srv.app.inject({ url, headers: { 'accept-encoding': 'br, gzip' } });
    walls.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpus.push((c.user + c.system) / 1000);
    if (res.statusCode !== 200) throw new Error(`HTTP ${res.statusCode}: ${res.body.slice(0, 200)}`);
    if (res.headers['content-encoding'] !== 'br') throw new Error(`not compressed: ${String(res.headers['content-encoding'])}`);
    wire = res.rawPayload.length;
  }
  const plain = await srv.app.inject({ url });
  const body = plain.json() as { targets: Array<{ series: Array<{ dt: unknown[] }> }> };
  const points = body.targets.reduce((n, t) => n + t.series.reduce((m, s) => m + s.dt.length, 0), 0);
  return { wall: med(walls), cpu: med(cpus), first: { wall: walls[0]!, cpu: cpus[0]! }, wire, json: plain.rawPayload.length, gz: gzipSync(plain.rawPayload).length, drawn: body.targets.length, points };
}

const pages = Math.ceil(N / 200);
for (const offset of pages > 1 ? [0, (pages - 1) * 200] : [0]) {
  const m = await measure(offset);
  console.log(`overview of ${m.drawn} of ${N} targets (offset ${offset}) × ${HOURS} h, ${m.points} points (${RUNS} requests): median ${m.wall.toFixed(1)} ms wall, ${m.cpu.toFixed(1)} ms CPU `
    + `(the first, which fills the summary cache: ${m.first.wall.toFixed(1)} ms wall, ${m.first.cpu.toFixed(1)} ms CPU); `
    + `${m.wire} bytes on the wire (brotli, as a browser asks; ${m.json} bytes of JSON, gzip ${m.gz}); goal ≤ 50 ms, ≤ 30 ms CPU, ≤ 100 KB on the wire`);
}
await srv.close();
console.log(`loadavg at end ${load()}`);
