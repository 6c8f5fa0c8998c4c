// Task dispatch: how fast a task reaches its agents and its results come back, through the real
// server (a process) with its built-in agent (in-process) and a real remote agent process over the
// signed agent API on loopback. N tasks are started one after another (ping 127.0.0.1 once) on both
// agents; for each agent's part it prints hand-out (queued → fetched, server clock), result
// (queued → result stored) and, as the API caller sees it, POST → every result seen by long-poll.
// Run: npx tsx bench/task-dispatch.ts   env: N=50
// Traffic goes to 127.0.0.1 only.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TaskRecord } from '../src/tasks/record.ts';
import { freePort, writeSecret } from '../test/agents-kit.ts';
import { waitFor } from '../test/wait.ts';

const N = Number(process.env.N ?? 50);
const dir = mkdtempSync(join(tmpdir(), 'sm-bench-tasks-'));
const port = await freePort();
const base = `http://127.0.0.1:${port}`;
const secret = writeSecret(dir, 'r1');
const config = `general: { step: 60, pings: 1, listen: 127.0.0.1:${port}, data_dir: ${join(dir, 'data')}, agent_name: srv, log_level: warn }
agents:
  - { name: r1, secret_file: ${secret}, heartbeat: 2 }
tasks:
  per_agent: { concurrency: 2, per_minute: 600, queue: 100 }
targets:
  server_probes: false
  agents: none
  children:
    lo: { host: 127.0.0.1 }
`;
writeFileSync(join(dir, 'smokemesh.yaml'), config);
const procs: ChildProcess[] = [];
const run = (args: string[]) => {
  const p = spawn(process.execPath, ['bin/smokemesh.js', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  p.stdout!.on('data', (d) => (out += d));
  p.stderr!.on('data', (d) => (out += d));
  procs.push(p);
  return () => out;
};
try {
  const serverOut = run(['server', '--config', join(dir, 'smokemesh.yaml')]);
  await waitFor('the server', async () => (await fetch(`${base}/health`).catch(() => undefined))?.ok, 60_000).catch((e) => { throw new Error(`${e}\n${serverOut()}`); });
  run(['agent', '--server', base, '--name', 'r1', '--secret-file', secret, '--spool', join(dir, 'spool'), '--log-level', 'warn']);
  await waitFor('r1 to connect', async () => ((await (await fetch(`${base}/api/v1/agents`)).json()) as { agents: { name: string; alive: boolean }[] }).agents.find((a) => a.name === 'r1')?.alive, 60_000);
  const token = readFileSync(join(dir, 'data', 'admin.token'), 'utf8').trim();
  const handout: Record<string, number[]> = { srv: [], r1: [] };
  const result: Record<string, number[]> = { srv: [], r1: [] };
  const caller: number[] = [];
  for (let i = 0; i < N; i++) {
    const t0 = performance.now();
    let rec = await (await fetch(`${base}/api/v1/tasks`, {
      method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ kind: 'ping', params: { host: '127.0.0.1', count: 1, timeout_ms: 500 }, agents: { names: ['srv', 'r1'] } }),
    })).json() as TaskRecord;
    while (rec.state !== 'finished') rec = await (await fetch(`${base}/api/v1/tasks/${rec.id}?version=${rec.version}&wait=25`)).json() as TaskRecord;
    caller.push(performance.now() - t0);
    for (const r of rec.results) {
      if (r.status !== 'done') throw new Error(`${r.agent}: ${r.status} ${r.error}`);
      handout[r.agent]!.push(r.started! - r.queued);
      result[r.agent]!.push(r.finished! - r.queued);
    }
  }
  const q = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))]!;
  const fmt = (xs: number[]) => `p50 ${q(xs, 0.5).toFixed(0)} ms, p99 ${q(xs, 0.99).toFixed(0)} ms, max ${Math.max(...xs).toFixed(0)} ms`;
  console.log(`task dispatch: ${N} ping tasks (count 1, 127.0.0.1), each on the built-in agent and one remote agent`);
  for (const a of ['srv', 'r1']) {
    console.log(`  ${a.padEnd(4)} hand-out (queued → fetched): ${fmt(handout[a]!)}`);
    console.log(`  ${a.padEnd(4)} result   (queued → stored):  ${fmt(result[a]!)}`);
  }
  console.log(`  caller: POST → both results seen by long-poll: ${fmt(caller)}`);
  console.log(`command: N=${N} npx tsx bench/task-dispatch.ts; config: per_agent.concurrency 2, one remote agent on loopback (heartbeat 2 s)`);
  console.log(`load average: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
} finally {
  for (const p of procs.reverse()) p.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 500));
  rmSync(dir, { recursive: true, force: true });
}
