// Cluster ingest: SERVERS smokemesh server processes (store.backend: victoriametrics, one
// cluster on one PostgreSQL; SERVERS=1 runs one server without a cluster section) take rounds
// from AGENTS simulated agents through the real agent API (signed, gzip JSON), spread over the
// servers, each agent pushing batches of BATCH rounds back to back for DURATION seconds. Every
// target carries a loss alert, so each round is also routed to its one evaluator (relayed
// through PostgreSQL when another server owns it). Prints rounds acknowledged per second, the
// time until VictoriaMetrics holds every acknowledged round (end to end), each server's CPU,
// and the load average. Debian's victoria-metrics and PostgreSQL run on 127.0.0.1.
// Run: npx tsx bench/cluster-ingest.ts   env: SERVERS=3 AGENTS=30 TARGETS=100 BATCH=500 DURATION=60
// Steady mode (RATE_STEP=60): instead of pushing back to back, each agent pushes one round of
// each of its TARGETS once per RATE_STEP seconds, the agents' pushes spread evenly over the step,
// as a real fleet does; the servers' CPU over DURATION is then the cost of that fleet's load.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { Agent, request } from 'undici';
import { signRequest } from '../src/auth/signing.ts';
import { makeRound, type Round } from '../src/probes/round.ts';
import { freePort } from '../test/agents-kit.ts';
import { startPostgres } from '../test/postgres.ts';
import { startVictoria } from '../test/victoria.ts';

const SERVERS = Number(process.env.SERVERS ?? 3);
const AGENTS = Number(process.env.AGENTS ?? 30);
const TARGETS = Number(process.env.TARGETS ?? 100);
const BATCH = Number(process.env.BATCH ?? 500);
const DURATION = Number(process.env.DURATION ?? 60);
const RATE_STEP = Number(process.env.RATE_STEP ?? 0);
/** FOLLOW=0: agents stay on the server they were given, ignoring the one the cluster names (every round relayed to its owner as before agents moved). */
const FOLLOW = process.env.FOLLOW !== '0';
const CLK_TCK = 100;

const dir = mkdtempSync(join(tmpdir(), 'sm-bench-cluster-'));
// The end-to-end count below reads every series at once: let that one query take its time.
const vm = await startVictoria(['-search.maxQueryDuration=600s']);
const pg = SERVERS > 1 ? await startPostgres() : undefined;
const names = Array.from({ length: AGENTS }, (_, i) => `sim-${i}`);
const secrets = new Map(names.map((n) => [n, randomBytes(24).toString('hex')]));
const agentLines = names.map((n) => {
  const f = join(dir, `${n}.secret`);
  writeFileSync(f, secrets.get(n)!);
  chmodSync(f, 0o600);
  return `  - { name: ${n}, secret_file: ${f} }`;
});

const servers: { url: string; proc: ChildProcess; out: string }[] = [];
const pool = new Agent({ connections: AGENTS, keepAliveTimeout: 30_000, headersTimeout: 120_000, bodyTimeout: 120_000 });
try {
  for (let i = 0; i < SERVERS; i++) {
    const port = await freePort();
    const dataDir = join(dir, `data${i}`);
    mkdirSync(dataDir);
    const file = join(dir, `s${i}.yaml`);
    writeFileSync(file, `general:
  step: 60
  pings: 20
  listen: 127.0.0.1:${port}
  data_dir: ${dataDir}
  agent_name: bench-s${i}
  log_level: warn
store:
  backend: victoriametrics
  url: ${vm.url}
${pg ? `cluster:\n  coordination: ${pg.url}\n  server_id: s${i}\n  heartbeat_s: 2\n` : ''}alerts:
  lossy: { type: loss, pattern: ">50%,>50%", edgetrigger: yes }
agents:
${agentLines.join('\n')}
probes:
  tcpx: { type: tcp, port: 9 }
targets:
  server_probes: false
  probe: tcpx
  alerts: [lossy]
  children:
${Array.from({ length: TARGETS }, (_, t) => `    t${t}: { host: 127.0.0.1 }`).join('\n')}
`);
    const proc = spawn(process.execPath, ['bin/smokemesh.js', 'server', '--config', file], { stdio: ['ignore', 'pipe', 'pipe'] });
    const s = { url: `http://127.0.0.1:${port}`, proc, out: '' };
    proc.stdout!.on('data', (d) => (s.out += d));
    proc.stderr!.on('data', (d) => (s.out += d));
    servers.push(s);
  }
  for (const s of servers) {
    for (let i = 0; !(await fetch(`${s.url}/health`).then((r) => r.ok, () => false)); i++) {
      if (i > 1200 || s.proc.exitCode !== null) throw new Error(`server did not start: ${s.out.slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  if (pg) {
    for (let i = 0; ; i++) {
      const st = await Promise.all(servers.map(async (s) => (await (await fetch(`${s.url}/api/v1/cluster`)).json()) as { live: string[] }));
      if (st.every((x) => x.live.length === SERVERS)) break;
      if (i > 600) throw new Error('the servers did not see each other');
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  const cpu = (p: ChildProcess) => {
    const f = readFileSync(`/proc/${p.pid}/stat`, 'utf8').split(') ')[1]!.split(' ').map(Number);
    return (f[11]! + f[12]!) / CLK_TCK;
  };

  async function call(base: string, name: string, path: string, json: unknown): Promise<unknown> {
    const body = gzipSync(JSON.stringify(json));
    const headers = { ...signRequest({ agent: name, secret: secrets.get(name)!, method: 'POST', path, body }), 'content-type': 'application/json', 'content-encoding': 'gzip' };
    const r = await request(base + path, { method: 'POST', headers, body, dispatcher: pool });
    const text = await r.body.text();
    if (r.statusCode >= 400) throw new Error(`${name} ${path}: HTTP ${r.statusCode}`);
    return text ? JSON.parse(text) : undefined;
  }

  let stopping = false;
  let moved = 0;
  let warmed = 0;
  let acked = 0;
  let errors = 0;
  // Rounds 1 s apart per series, ending before now (the store refuses rounds ahead of its clock).
  const start = Date.now() - 3 * 86_400_000;
  async function runAgent(name: string, k: number): Promise<void> {
    const first = servers[k % SERVERS]!.url;
    const hb = { version: 'bench', labels: {}, addresses: {}, spool: { backlog: 0, bytes: 0, dropped: 0 }, started_at: Date.now() };
    const told = ((await call(first, name, '/api/v1/agent/heartbeat', hb)) as { server?: string }).server;
    // As a real agent does (AgentClient.prefer): push to the server that evaluates this agent's series.
    const base = FOLLOW && told && servers.some((s) => s.url === told) ? told : first;
    if (base !== first) {
      moved++;
      await call(base, name, '/api/v1/agent/heartbeat', hb);
    }
    // Warm-up (not measured): one round of each series, so that the alert engine has read each
    // series' history back from the store (once per series, at its first round) before the clock starts.
    await call(base, name, '/api/v1/agent/rounds', { rounds: Array.from({ length: TARGETS }, (_, t) => makeRound({ target: `/t${t}`, agent: name, probe: 'tcp', time: start - 1000, step: 60 }, { sent: 20, rtts: [1] })) });
    warmed++;
    while (warmed < AGENTS) await new Promise((r) => setTimeout(r, 100));
    if (RATE_STEP > 0) return steady(base, name, k);
    let n = 0;
    while (!stopping) {
      const rounds: Round[] = [];
      for (let j = 0; j < BATCH; j++, n++) {
        const rtts = Array.from({ length: 20 }, () => 0.2 + Math.random() * 2);
        rounds.push(makeRound({ target: `/t${n % TARGETS}`, agent: name, probe: 'tcp', time: start + Math.floor(n / TARGETS) * 1000, step: 60 }, { sent: 20, rtts }));
      }
      try {
        await call(base, name, '/api/v1/agent/rounds', { rounds });
        if (!stopping) acked += rounds.length;
      } catch {
        errors++;
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  }

  let late = 0;
  /** Steady mode: one round per target every RATE_STEP seconds, this agent's slot at k/AGENTS of the step. */
  async function steady(base: string, name: string, k: number): Promise<void> {
    const t0 = Date.now() + (k / AGENTS) * RATE_STEP * 1000;
    for (let s = 0; !stopping; s++) {
      const due = t0 + s * RATE_STEP * 1000;
      if (Date.now() > due + RATE_STEP * 1000) late++;
      while (!stopping && Date.now() < due) await new Promise((r) => setTimeout(r, Math.min(1000, due - Date.now())));
      if (stopping) break;
      const rounds = Array.from({ length: TARGETS }, (_, t) => makeRound({ target: `/t${t}`, agent: name, probe: 'tcp', time: start + s * 60_000, step: 60 },
        { sent: 20, rtts: Array.from({ length: 20 }, () => 0.2 + Math.random() * 2) }));
      try {
        await call(base, name, '/api/v1/agent/rounds', { rounds });
        if (!stopping) acked += rounds.length;
      } catch {
        errors++;
      }
    }
  }

  console.log(`servers ${SERVERS}${pg ? ' (cluster on PostgreSQL)' : ' (no cluster)'}, agents ${AGENTS} × targets ${TARGETS}, ${RATE_STEP > 0 ? `steady: one round per series every ${RATE_STEP} s (${((AGENTS * TARGETS) / RATE_STEP).toFixed(0)} rounds/s offered)` : `batches of ${BATCH} back to back`}, ${DURATION} s`);
  const runs = names.map((n, k) => runAgent(n, k));
  const w0 = Date.now();
  while (warmed < AGENTS) await new Promise((r) => setTimeout(r, 100));
  console.log(`warm-up (first round of ${AGENTS * TARGETS} series: histories read back from VictoriaMetrics): ${((Date.now() - w0) / 1000).toFixed(1)} s`);
  if (pg) console.log(`agents moved to the server that evaluates their series: ${moved} of ${AGENTS}${FOLLOW ? '' : ' (FOLLOW=0: none follow)'}`);
  const cpu0 = servers.map((s) => cpu(s.proc));
  const t0 = Date.now();
  await new Promise((r) => setTimeout(r, DURATION * 1000));
  stopping = true;
  await Promise.allSettled(runs);
  const secs = (Date.now() - t0) / 1000;
  const ackedAll = acked;
  console.log(`acknowledged: ${ackedAll} rounds in ${secs.toFixed(1)} s = ${(ackedAll / secs).toFixed(0)} rounds/s; request errors ${errors}${RATE_STEP > 0 ? `, pushes a whole step late ${late}` : ''}`);
  servers.forEach((s, i) => {
    const used = cpu(s.proc) - cpu0[i]!;
    console.log(`server ${i}: CPU ${used.toFixed(1)} s over ${secs.toFixed(0)} s = ${((100 * used) / secs).toFixed(0)} % of one core; RSS ${(Number(readFileSync(`/proc/${s.proc.pid}/statm`, 'utf8').split(' ')[1]) * 4096 / 2 ** 20).toFixed(0)} MiB`);
  });
  // End to end: until VictoriaMetrics counts every acknowledged round.
  let inVm = 0;
  for (;;) {
    await vm.forceFlush();
    const q = new URLSearchParams({ query: 'sum(count_over_time(smokemesh_round_sent[5d]))' });
    const r = (await (await fetch(`${vm.url}/api/v1/query?${q}`)).json()) as { data?: { result: { value: [number, string] }[] }; error?: string };
    if (!r.data) throw new Error(`VictoriaMetrics could not count the rounds: ${r.error ?? JSON.stringify(r).slice(0, 500)}`);
    inVm = Number(r.data.result[0]?.value[1] ?? 0);
    if (inVm >= ackedAll + AGENTS * TARGETS || Date.now() - t0 > (DURATION + 600) * 1000) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  const e2e = (Date.now() - t0) / 1000;
  inVm -= AGENTS * TARGETS;
  // What each server still holds for VictoriaMetrics (its outbox), and why.
  for (const [i, s] of servers.entries()) {
    const h = (await (await fetch(`${s.url}/health`, { headers: { connection: 'close' } })).json()) as { store: { pending?: number; last_error?: string } };
    console.log(`server ${i}: outbox pending ${h.store.pending ?? '?'}${h.store.last_error ? `, last error: ${h.store.last_error}` : ''}`);
  }
  console.log(`in VictoriaMetrics: ${inVm} rounds ${e2e.toFixed(1)} s after the start = ${(inVm / e2e).toFixed(0)} rounds/s end to end`);
  for (const s of servers) {
    if (s.proc.exitCode !== null) console.log(`a server exited (${s.proc.exitCode}): ${s.out.slice(-3000)}`);
    else if (pg) {
      const st = (await (await fetch(`${s.url}/api/v1/cluster`, { headers: { connection: 'close' } })).json()) as { server_id: string; rounds: Record<string, number> };
      const notes = s.out.split('\n').filter((l) => l.includes('"module":"cluster"')).map((l) => (JSON.parse(l) as { msg: string }).msg);
      // Late heartbeats: each "no heartbeat written" line is a step back (series forgotten, read again at the rejoin).
      const steps = notes.filter((n) => n.startsWith('cluster: no heartbeat written')).length;
      const held = notes.filter((n) => n.includes('heartbeats were held')).length;
      console.log(`${st.server_id}: ${JSON.stringify(st.rounds)}; stepped back ${steps}, heartbeats held ${held}; cluster log lines: ${notes.length}${notes.length ? `, last: ${notes.slice(-3).join(' | ')}` : ''}`);
    }
  }
  console.log(`load average: ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
} finally {
  for (const s of servers) s.proc.kill('SIGTERM');
  await Promise.all(servers.map((s) => new Promise((r) => (s.proc.exitCode !== null ? r(null) : s.proc.on('exit', r)))));
  await pool.destroy();
  await pg?.stop();
  await vm.stop();
  rmSync(dir, { recursive: true, force: true });
}
process.exit(0);
