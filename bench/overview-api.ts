// GET /api/v1/overview as the overview page asks it: wall time, CPU and bytes per request.
// Usage: npx tsx bench/overview-api.ts [targets=200] [hours=10] [runs=7]
//   env MODE=both     inject | socket | both (side by side, requests alternating)
// Config: one group of `targets` ICMP targets, step 60 s, 20 pings, shipped store config;
// `hours` of synthetic history per target (test/e2e/synthetic.ts, 10 % of targets with 5 % loss)
// written before measuring; agent "local"; compression as the server registers it
// (src/server/api/compression.ts). Two ways of asking, each printed on its own line:
// - inject: answered in-process (app.inject, no socket); its round trip also turns the body
//   into a string, which a socket does not (a few ms of the bench's own, counted).
// - socket: the server listens on 127.0.0.1 and a separate Node process (plain JavaScript, a
//   kept-alive connection as a browser keeps) asks and reads the body; this process is then
//   only the server, and its CPU (every thread: brotli runs on libuv's pool) is the server's,
//   plus the IPC message that tells the client to ask (well under 0.1 ms). Wall time is the
//   client's, from asking to the last byte.
// Bytes are the body as sent to a browser (brotli), the JSON, and what gzip makes of it. More
// than 200 targets: the first and the last page (200 targets each). Every request builds its
// answer (nothing caches a response): the median is what each refresh of a browser costs once
// the store's summary cache holds the page's series; the first request (which reads them from
// the file and fills it) is printed apart.
import { fork } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { COMPRESSION_SETTINGS } from '../src/server/api/compression.ts';
import { startSyntheticGroup } from './synthetic-group.ts';

const N = Number(process.argv[2] ?? 200);
const HOURS = Number(process.argv[3] ?? 10);
const RUNS = Number(process.argv[4] ?? 7);
const MODE = process.env.MODE ?? 'both';
const modes = (MODE === 'both' ? ['inject', 'socket'] : [MODE]) as Array<'inject' | 'socket'>;
if (!modes.every((m) => m === 'inject' || m === 'socket')) throw new Error(`MODE=${MODE}: use inject, socket or both`);
const load = () => loadavg().map((x) => x.toFixed(2)).join(' ');
console.log(`command: ${MODE === 'both' ? '' : `MODE=${MODE} `}npx tsx bench/overview-api.ts ${N} ${HOURS} ${RUNS}`);
console.log(`config: ${N} targets, step 60 s, 20 pings, ${HOURS} h of history each, store as shipped; compression ${COMPRESSION_SETTINGS}; Node ${process.version}; loadavg at start ${load()}`);
const now = Date.now();
const srv = await startSyntheticGroup(N, HOURS, now);
const med = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)]!;

// The socket client: plain JavaScript in its own process, asking when told (one request at a time).
const clientFile = join(tmpdir(), `smokemesh-overview-client-${process.pid}.mjs`);
writeFileSync(clientFile, `
import http from 'node:http';
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
process.on('message', ({ url }) => {
  const t0 = performance.now();
  http.get(url, { agent, headers: { 'accept-encoding': 'br, gzip' } }, (res) => {
    let bytes = 0;
    res.on('data', (c) => { bytes += c.length; });
    res.on('end', () => process.send({ wall: performance.now() - t0, bytes, status: res.statusCode, encoding: res.headers['content-encoding'] ?? null }));
  }).on('error', (e) => process.send({ error: String(e) }));
});
process.on('disconnect', () => process.exit(0));
`);
const client = modes.includes('socket') ? fork(clientFile, [], { execArgv: [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }) : undefined;
type Answer = { wall: number; bytes: number; status: number; encoding: string | null } | { error: string };
function ask(url: string): Promise<Answer> {
  return new Promise((resolve) => {
    client!.once('message', (m) => resolve(m as Answer));
    client!.send({ url });
  });
}

interface Figures { walls: number[]; cpus: number[]; wire: number }

/** One request of one page as the browser asks it (brotli accepted): its wall, CPU and wire bytes. */
async function once(mode: 'inject' | 'socket', path: string, f: Figures): Promise<void> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  let wall: number;
  if (mode === 'inject') {
    const res = await srv.app.inject({ url: path, headers: { 'accept-encoding': 'br, gzip' } });
    wall = performance.now() - t0;
    if (res.statusCode !== 200) throw new Error(`HTTP ${res.statusCode}: ${res.body.slice(0, 200)}`);
    if (res.headers['content-encoding'] !== 'br') throw new Error(`not compressed: ${String(res.headers['content-encoding'])}`);
    f.wire = res.rawPayload.length;
  } else {
    const a = await ask(srv.url + path);
    if ('error' in a) throw new Error(a.error);
    if (a.status !== 200) throw new Error(`HTTP ${a.status}`);
    if (a.encoding !== 'br') throw new Error(`not compressed: ${a.encoding}`);
    wall = a.wall;
    f.wire = a.bytes;
  }
  const c = process.cpuUsage(c0);
  f.walls.push(wall);
  f.cpus.push((c.user + c.system) / 1000);
}

const pages = Math.ceil(N / 200);
for (const offset of pages > 1 ? [0, (pages - 1) * 200] : [0]) {
  const path = `/api/v1/overview?path=/Many&from=${now - HOURS * 3_600_000}&to=${now}&offset=${offset}`;
  const figures = new Map(modes.map((m) => [m, { walls: [], cpus: [], wire: 0 } as Figures]));
  // The first request fills the summary cache (whichever mode asks it); then the modes alternate.
  const first: Figures = { walls: [], cpus: [], wire: 0 };
  await once(modes[0]!, path, first);
  const load0 = load();
  for (let i = 0; i < RUNS; i++) for (const m of modes) await once(m, path, figures.get(m)!);
  const load1 = load();
  const plain = await srv.app.inject({ url: path });
  const body = plain.json() as { targets: Array<{ series: Array<{ dt: unknown[] }> }> };
  const points = body.targets.reduce((n, t) => n + t.series.reduce((m, s) => m + s.dt.length, 0), 0);
  console.log(`overview of ${body.targets.length} of ${N} targets (offset ${offset}) × ${HOURS} h, ${points} points; ${plain.rawPayload.length} bytes of JSON (gzip -6: ${gzipSync(plain.rawPayload).length}); `
    + `the first request (${modes[0]}; fills the summary cache): ${first.walls[0]!.toFixed(1)} ms wall, ${first.cpus[0]!.toFixed(1)} ms CPU; then ${RUNS} requests per mode, alternating (loadavg ${load0} → ${load1}):`);
  for (const [m, f] of figures) {
    console.log(`  ${m.padEnd(6)}: median ${med(f.walls).toFixed(1)} ms wall, ${med(f.cpus).toFixed(1)} ms CPU (CPU min ${Math.min(...f.cpus).toFixed(1)}, max ${Math.max(...f.cpus).toFixed(1)}); ${f.wire} bytes on the wire (brotli)`);
  }
  console.log('  goal: ≤ 50 ms wall, ≤ 30 ms CPU, ≤ 100 KB on the wire');
}
client?.disconnect();
await srv.close();
console.log(`loadavg at end ${load()}`);
