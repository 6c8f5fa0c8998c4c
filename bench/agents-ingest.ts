// Agent ingest: one server process takes the rounds of A simulated agents × T targets at a
// 60 s step through the real agent API (signed, gzip JSON), as the real agent sends them: each
// agent pushes the rounds that came due, at most once per PUSH_MS (the agent's push delay), and
// heartbeats every 10 s while holding a plan long-poll open. Prints the server's CPU (cores, from
// /proc/<pid>/stat), push latency p50/p99 as the agents see it, the backlog of rounds due but not
// yet acknowledged (it must not grow), rounds stored, and the load average.
// Run: npx tsx bench/agents-ingest.ts   env: AGENTS=500 TARGETS=200 WARMUP=20 DURATION=120 PUSH_MS=1000
// Traffic goes to 127.0.0.1 only; targets are never probed (server_probes: false).
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { Agent, request } from 'undici';
import { signRequest } from '../src/auth/signing.ts';
import { makeRound, type Round } from '../src/probes/round.ts';
import { freePort } from '../test/agents-kit.ts';

const AGENTS = Number(process.env.AGENTS ?? 500);
const TARGETS = Number(process.env.TARGETS ?? 200);
const WARMUP = Number(process.env.WARMUP ?? 20);
const DURATION = Number(process.env.DURATION ?? 120);
const PUSH_MS = Number(process.env.PUSH_MS ?? 1000);
const STEP = 60;
const CLK_TCK = 100;

const dir = mkdtempSync(join(tmpdir(), 'sm-bench-agents-'));
const port = await freePort();
const base = `http://127.0.0.1:${port}`;
const names = Array.from({ length: AGENTS }, (_, i) => `sim-${i}`);
const secrets = new Map<string, string>();
const agentLines: string[] = [];
for (const n of names) {
  const s = randomBytes(24).toString('hex');
  secrets.set(n, s);
  const f = join(dir, `${n}.secret`);
  writeFileSync(f, s);
  chmodSync(f, 0o600);
  agentLines.push(`  - { name: ${n}, secret_file: ${f}, region: r${names.indexOf(n) % 5} }`);
}
const targetLines = Array.from({ length: TARGETS }, (_, i) => `    t${i}: { host: 127.0.0.1 }`);
writeFileSync(join(dir, 'smokemesh.yaml'), `general:
  step: ${STEP}
  pings: 20
  listen: 127.0.0.1:${port}
  data_dir: ${join(dir, 'data')}
  agent_name: bench-server
  log_level: warn
agents:
${agentLines.join('\n')}
probes:
  tcpx: { type: tcp, port: 9 }
targets:
  server_probes: false
  probe: tcpx
  children:
${targetLines.join('\n')}
`);

const server = spawn(process.execPath, ['bin/smokemesh.js', 'server', '--config', join(dir, 'smokemesh.yaml')], { stdio: ['ignore', 'pipe', 'pipe'] });
let serverOut = '';
server.stdout.on('data', (d) => (serverOut += d));
server.stderr.on('data', (d) => (serverOut += d));
const serverCpu = () => {
  const st = readFileSync(`/proc/${server.pid}/stat`, 'utf8');
  const f = st.slice(st.lastIndexOf(')') + 2).split(' ').map(Number);
  return (f[11]! + f[12]!) / CLK_TCK;
};
for (let i = 0; !(await fetch(`${base}/health`).then((r) => r.ok, () => false)); i++) {
  if (i > 600 || server.exitCode !== null) throw new Error(`server did not start: ${serverOut.slice(-2000)}`);
  await new Promise((r) => setTimeout(r, 100));
}

// One connection per simulated agent at most, as real agents each keep their own.
const pool = new Agent({ connections: AGENTS, keepAliveTimeout: 30_000 });
const pollPool = new Agent({ connections: AGENTS + 10, headersTimeout: 120_000, bodyTimeout: 120_000 });
let stopping = false;

async function call(name: string, method: 'GET' | 'POST', path: string, json?: unknown, headers: Record<string, string> = {}, dispatcher = pool) {
  const body = json === undefined ? undefined : gzipSync(JSON.stringify(json));
  const h = { ...headers, ...signRequest({ agent: name, secret: secrets.get(name)!, method, path, body }), 'accept-encoding': 'gzip' };
  if (body) Object.assign(h, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
  const r = await request(base + path, { method, headers: h, body, dispatcher });
  await r.body.arrayBuffer();
  if (r.statusCode >= 400) throw new Error(`${name} ${path}: HTTP ${r.statusCode}`);
  return r;
}

const heartbeat = (name: string) => call(name, 'POST', '/api/v1/agent/heartbeat', {
  version: 'bench', labels: {}, addresses: { intranet: '127.0.0.1' }, spool: { backlog: 0, bytes: 0, dropped: 0 }, started_at: Date.now(),
});

const latencies: number[] = [];
let measuring = false;
let acked = 0;
let due = 0;
let errors = 0;

/** One simulated agent: its targets' slots at fixed random offsets in the step. */
async function runAgent(name: string): Promise<void> {
  await heartbeat(name);
  const first = await call(name, 'GET', '/api/v1/agent/plan?wait=0');
  const etag = String(first.headers.etag);
  const offsets = Array.from({ length: TARGETS }, () => Math.random() * STEP * 1000);
  void (async () => {
    while (!stopping) await call(name, 'GET', '/api/v1/agent/plan?wait=55', undefined, { 'if-none-match': etag }, pollPool).catch(() => undefined);
  })();
  let hbAt = Date.now() + Math.random() * 10_000;
  let last = Date.now();
  const pending: Round[] = [];
  await new Promise((r) => setTimeout(r, Math.random() * PUSH_MS));
  while (!stopping) {
    const now = Date.now();
    // Rounds whose slot fell in (last, now], as the scheduler would have produced them.
    for (let i = 0; i < TARGETS; i++) {
      const stepMs = STEP * 1000;
      const slot = Math.floor((now - offsets[i]!) / stepMs) * stepMs + offsets[i]!;
      if (slot > last && slot <= now) {
        const rtts = Array.from({ length: 20 }, () => 0.2 + Math.random() * 2);
        pending.push(makeRound({ target: `/t${i}`, agent: name, probe: 'tcp', time: Math.floor(slot), step: STEP }, { sent: 20, rtts }));
        due++;
      }
    }
    last = now;
    if (now >= hbAt) {
      hbAt = now + 10_000;
      await heartbeat(name).catch(() => errors++);
    }
    if (pending.length) {
      const batch = pending.splice(0, 500);
      const t = performance.now();
      try {
        await call(name, 'POST', '/api/v1/agent/rounds', { rounds: batch });
        if (measuring) latencies.push(performance.now() - t);
        acked += batch.length;
      } catch {
        errors++;
        pending.unshift(...batch);
      }
    }
    await new Promise((r) => setTimeout(r, Math.max(0, PUSH_MS - (Date.now() - now))));
  }
}

console.log(`agents ${AGENTS} × targets ${TARGETS}, step ${STEP} s, push every ${PUSH_MS} ms; warm-up ${WARMUP} s, measuring ${DURATION} s`);
const runs = names.map((n) => runAgent(n).catch((e) => { errors++; console.error(String(e)); }));
await new Promise((r) => setTimeout(r, WARMUP * 1000));
measuring = true;
const cpu0 = serverCpu();
const self0 = process.cpuUsage();
const t0 = Date.now();
const acked0 = acked;
const samples: string[] = [];
while (Date.now() - t0 < DURATION * 1000) {
  await new Promise((r) => setTimeout(r, 10_000));
  samples.push(`${Math.round((Date.now() - t0) / 1000)}s:${due - acked}`);
}
const cpu1 = serverCpu();
const self1 = process.cpuUsage(self0);
const secs = (Date.now() - t0) / 1000;
measuring = false;
stopping = true;
latencies.sort((a, b) => a - b);
const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]!.toFixed(1);
const health = await (await fetch(`${base}/api/v1/health`)).json() as { store: { rounds_written: number } };
console.log(`server CPU: ${((cpu1 - cpu0) / secs).toFixed(2)} cores average (${(cpu1 - cpu0).toFixed(1)} s over ${secs.toFixed(0)} s)`);
console.log(`simulator (this process) CPU: ${((self1.user + self1.system) / 1e6 / secs).toFixed(2)} cores average`);
console.log(`rounds acknowledged: ${acked - acked0} in ${secs.toFixed(0)} s = ${((acked - acked0) / secs).toFixed(0)}/s (expected ${(AGENTS * TARGETS / STEP).toFixed(0)}/s); pushes: ${latencies.length}`);
console.log(`push latency: p50 ${q(0.5)} ms, p99 ${q(0.99)} ms, max ${latencies.at(-1)!.toFixed(1)} ms`);
console.log(`backlog (rounds due, not yet acknowledged) every 10 s: ${samples.join(' ')}`);
console.log(`store rounds written: ${health.store.rounds_written}; request errors: ${errors}`);
console.log(`load average: ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
server.kill('SIGTERM');
await new Promise((r) => server.on('exit', r));
await Promise.race([Promise.allSettled(runs), new Promise((r) => setTimeout(r, 2000))]);
await pool.destroy();
await pollPool.destroy();
rmSync(dir, { recursive: true, force: true });
process.exit(0);
