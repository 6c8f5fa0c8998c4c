// Config start-up and reload at scale: a real server (startServer, built-in agent, alert
// engine, store) with N loopback targets (test/fixtures/big-config.ts: groups of 100, ~250
// bytes per target, two alerts on each, the built-in agent plans them all at one ping an
// hour), then a reload of a changed file of the same size. Prints, per N: file size, start
// time, reload time (check on the worker thread + apply on the main thread, from the
// server's log), the longest event-loop stall during the reload (perf_hooks
// monitorEventLoopDelay) and the slowest /health answer meanwhile. Loopback only.
// Run: node --import tsx bench/config-reload.ts [N…] [flat]   (default 1000 10000 40000; "flat"
// runs the 41k-targets-in-one-group shape of issue 10, 8.9 MB, after the N given)
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { Writable } from 'node:stream';
import pino from 'pino';
import { startServer } from '../src/server/app.ts';
import { bigConfig } from '../test/fixtures/big-config.ts';

const args = process.argv.slice(2);
const sizes = args.filter((a) => /^\d+$/.test(a)).map(Number);
const runs: { n: number; flat: boolean }[] = (sizes.length || args.includes('flat') ? sizes : [1000, 10000, 40000]).map((n) => ({ n, flat: false }));
if (args.includes('flat')) runs.push({ n: 41000, flat: true });

const load = () => loadavg().map((x) => x.toFixed(2)).join(' ');
console.log(`config reload benchmark, node ${process.version}, load average at start ${load()}`);
console.log('| targets | file | start | reload | check (worker) | apply (main) | longest stall | slowest /health | load avg (1, 5, 15 min) |');
console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');

for (const { n, flat } of runs) {
  const dir = mkdtempSync(join(tmpdir(), 'smokemesh-bench-reload-'));
  const file = join(dir, 'smokemesh.yaml');
  writeFileSync(file, bigConfig(n, { dataDir: join(dir, 'data'), probed: true, flat }));
  const logs: Record<string, unknown>[] = [];
  const sink = new Writable({ write(chunk, _e, cb) { for (const l of String(chunk).split('\n')) if (l) logs.push(JSON.parse(l)); cb(); } });
  const log = pino({ level: 'info' }, sink);

  const t0 = performance.now();
  const server = await startServer({ configFile: file, listen: '127.0.0.1:0', logger: log });
  const startMs = performance.now() - t0;
  await new Promise((r) => setTimeout(r, 2000)); // let the start's own work settle

  writeFileSync(file, bigConfig(n, { dataDir: join(dir, 'data'), probed: true, flat, salt: 'v2' }));
  const stall = monitorEventLoopDelay({ resolution: 10 });
  stall.enable();
  let done = false;
  let slowest = 0;
  const t1 = performance.now();
  const reloading = server.ctx.reload().finally(() => (done = true));
  while (!done) {
    const h0 = performance.now();
    await (await fetch(`${server.url}/health`)).arrayBuffer();
    slowest = Math.max(slowest, performance.now() - h0);
  }
  const result = await reloading;
  const reloadMs = performance.now() - t1;
  await new Promise((r) => setTimeout(r, 1000)); // the plan applied after the reload resolves counts too
  stall.disable();
  if (result.errors.length) throw new Error(result.errors.slice(0, 5).join('\n'));
  const line = logs.find((l) => l.msg === 'config reloaded') as { check_ms: number; apply_ms: number; apply_steps_ms: number[] };
  const s = (ms: number) => (ms >= 1000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms)} ms`);
  console.log(`| ${n.toLocaleString('en')}${flat ? ' (one group)' : ''} | ${(statSync(file).size / 1e6).toFixed(1)} MB | ${s(startMs)} | ${s(reloadMs)} | ${s(line.check_ms)} | ${s(line.apply_ms)} | ${s(stall.max / 1e6)} | ${s(slowest)} | ${load()} |`);
  console.log(`  (apply, ms per module in turn: ${line.apply_steps_ms.join(', ')})`);
  await server.close();
  rmSync(dir, { recursive: true, force: true });
}
