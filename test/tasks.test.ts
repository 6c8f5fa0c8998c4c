import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as packet from 'dns-packet';
import pino from 'pino';
import { startServer, type RunningServer } from '../src/server/app.ts';
import type { TaskRecord } from '../src/tasks/record.ts';
import { freePort, startAgent, writeSecret, type Proc } from './agents-kit.ts';
import { waitFor } from './wait.ts';

// One real server (in-process, with its built-in agent "srv") and real agent processes on
// loopback: r1 runs tasks, quiet runs with --no-tasks, gone is configured but never started.
const dir = mkdtempSync(join(tmpdir(), 'sm-tasks-'));
const cfgFile = join(dir, 'smokemesh.yaml');
let server: RunningServer;
let base: string;
let token: string;
let dns: Socket;
let dnsPort: number;
const agents: Proc[] = [];

function config(tasks = ''): string {
  return `general:
  step: 30
  pings: 2
  data_dir: ${join(dir, 'data')}
  agent_name: srv
agents:
  # heartbeat 3: down after 9 s of silence (1 s made a busy machine's stalls read as "went down")
  - { name: r1, secret_file: ${join(dir, 'r1.secret')}, heartbeat: 3, region: lab }
  - { name: quiet, secret_file: ${join(dir, 'quiet.secret')}, heartbeat: 3, region: lab }
  - { name: gone, secret_file: ${join(dir, 'gone.secret')}, heartbeat: 1 }
tasks:
  pickup_s: 3
${tasks}
targets:
  children:
    lo: { host: 127.0.0.1 }
    lo6: { host: "::1", agents: [r1], server_probes: false }
`;
}

async function api<T>(method: string, path: string, body?: unknown, auth = token): Promise<{ status: number; body: T }> {
  const r = await fetch(base + path, {
    method,
    headers: { ...(auth ? { authorization: `Bearer ${auth}` } : {}), ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  return { status: r.status, body: (await r.json()) as T };
}

/** Follows a task by long-poll until every agent's part is final. */
async function finished(id: string): Promise<TaskRecord> {
  let rec = (await api<TaskRecord>('GET', `/api/v1/tasks/${id}`)).body;
  while (rec.state !== 'finished') rec = (await api<TaskRecord>('GET', `/api/v1/tasks/${id}?version=${rec.version}&wait=20`)).body;
  return rec;
}

before(async () => {
  for (const n of ['r1', 'quiet', 'gone']) writeSecret(dir, n);
  // A tiny DNS server for the dns task: x.test. A 198.51.100.1, NXDOMAIN for anything else.
  dns = createSocket('udp4');
  dns.on('message', (msg, rinfo) => {
    const q = packet.decode(msg);
    const name = q.questions?.[0]?.name ?? '';
    const answer = packet.encode({
      type: 'response', id: q.id, flags: packet.RECURSION_DESIRED | packet.RECURSION_AVAILABLE | (name === 'x.test' ? 0 : 3), questions: q.questions,
      answers: name === 'x.test' ? [{ type: 'A', name, ttl: 60, class: 'IN', data: '198.51.100.1' }] : [],
    });
    dns.send(answer, rinfo.port, rinfo.address);
  });
  await new Promise<void>((r) => dns.bind(0, '127.0.0.1', r));
  dnsPort = dns.address().port;
  writeFileSync(cfgFile, config());
  const port = await freePort();
  server = await startServer({ configFile: cfgFile, listen: `127.0.0.1:${port}`, logger: pino({ level: 'silent' }) });
  base = server.url;
  token = server.adminToken;
  agents.push(startAgent({ server: base, name: 'r1', secretFile: join(dir, 'r1.secret'), spool: join(dir, 'spool-r1') }));
  agents.push(startAgent({ server: base, name: 'quiet', secretFile: join(dir, 'quiet.secret'), spool: join(dir, 'spool-quiet'), extra: ['--no-tasks'] }));
  // Agent processes start through tsx: slow on a loaded machine.
  await waitFor('r1 and quiet to connect', () => server.ctx.agents().filter((a) => a.alive).length === 3, 90_000);
});

after(async () => {
  for (const a of agents) await a.stop();
  await server?.close();
  dns?.close();
  rmSync(dir, { recursive: true, force: true });
});

test('mtr from the built-in agent and a remote agent: each result arrives, recorded with who asked', { timeout: 60_000 }, async () => {
  const r = await api<TaskRecord>('POST', '/api/v1/tasks', {
    kind: 'mtr', params: { host: '127.0.0.1', count: 2, interval: 0.2, grace: 0.5 }, agents: { names: ['srv', 'r1'] }, requested_by: 'ops test',
  });
  assert.equal(r.status, 201);
  assert.deepEqual(r.body.results.map((x) => [x.agent, x.status]), [['srv', 'queued'], ['r1', 'queued']]);
  const rec = await finished(r.body.id);
  assert.equal(rec.created_by, 'admin@127.0.0.1 (ops test)');
  for (const res of rec.results) {
    assert.equal(res.status, 'done', `${res.agent}: ${res.error}`);
    assert.equal(res.summary, 'path clean: 1 hop to 127.0.0.1, no loss, ' + (res.output as { hops: { avg: number }[] }).hops[0]!.avg + ' ms');
    assert.ok(res.started! >= res.queued && res.finished! >= res.started!);
  }
  assert.match(agents[0]!.out, /task mtr started/);
  const list = (await api<{ tasks: { id: string; created_by: string }[] }>('GET', '/api/v1/tasks?agent=r1&kind=mtr')).body.tasks;
  assert.equal(list[0]!.id, rec.id);
});

test('traceroute over IPv6 to the agents that probe a target; ping, tcp, dns and http on the built-in agent', { timeout: 60_000 }, async () => {
  const tr = await api<TaskRecord>('POST', '/api/v1/tasks', { kind: 'traceroute', params: { host: '::1', queries: 2, wait: 0.5, max_ttl: 3 }, agents: { probing: '/lo6' } });
  assert.equal(tr.status, 201, JSON.stringify(tr.body));
  assert.deepEqual(tr.body.results.map((x) => x.agent), ['r1']);
  const trace = await finished(tr.body.id);
  assert.deepEqual((trace.results[0]!.output as { hops: { addresses: string[] }[] }).hops[0]!.addresses, ['::1']);

  const run = async (kind: string, params: Record<string, unknown>) => {
    const res = await api<TaskRecord>('POST', '/api/v1/tasks', { kind, params, agents: { names: ['srv'] } });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    return (await finished(res.body.id)).results[0]!;
  };
  const ping = await run('ping', { host: '127.0.0.1', count: 3, interval_ms: 20 });
  assert.deepEqual([ping.status, (ping.output as { received: number }).received], ['done', 3]);
  const port = Number(new URL(base).port);
  const tcp = await run('tcp', { host: '127.0.0.1', port, count: 2 });
  assert.deepEqual([tcp.status, (tcp.output as { received: number }).received], ['done', 2]);
  const q = await run('dns', { host: '127.0.0.1', port: dnsPort, name: 'x.test', type: 'A' });
  assert.equal(q.status, 'done', q.error);
  assert.deepEqual(q.output, { server: `127.0.0.1:${dnsPort}`, transport: 'udp', rcode: 'NOERROR', flags: ['rd', 'ra'], time_ms: (q.output as { time_ms: number }).time_ms, answers: ['x.test.\t60\tIN\tA\t198.51.100.1'], authorities: [], additionals: [] });
  const http = await run('http', { url: `${base}/health` });
  assert.equal(http.status, 'done', http.error);
  assert.equal((http.output as { status: number }).status, 200);
  assert.deepEqual(Object.keys((http.output as { phases_ms: object }).phases_ms), ['resolve', 'connect', 'tls', 'processing', 'transfer']);
});

test('refusals: no or wrong admin token, parameters out of range, host outside the policy, unknown agent', async () => {
  const body = { kind: 'mtr', params: { host: '127.0.0.1' }, agents: { names: ['srv'] } };
  assert.equal((await api('POST', '/api/v1/tasks', body, '')).status, 401);
  const wrong = await api<{ code: string }>('POST', '/api/v1/tasks', body, 'not-the-token-at-all');
  assert.deepEqual([wrong.status, wrong.body.code], [401, 'SMOKEMESH_E_AUTH']);
  const range = await api<{ code: string; error: string }>('POST', '/api/v1/tasks', { ...body, params: { host: '127.0.0.1', count: 500, max_ttl: 0 } });
  assert.equal(range.status, 400);
  assert.equal(range.body.code, 'SMOKEMESH_E_PARAM');
  assert.match(range.body.error, /params\.count: must be <= 100/);
  assert.match(range.body.error, /params\.max_ttl: must be >= 1/);
  const policy = await api<{ code: string; error: string }>('POST', '/api/v1/tasks', { ...body, params: { host: '198.51.100.99' } });
  assert.deepEqual([policy.status, policy.body.code], [403, 'SMOKEMESH_E_POLICY']);
  assert.match(policy.body.error, /host "198\.51\.100\.99" is not allowed by the task policy/);
  const unknown = await api<{ error: string }>('POST', '/api/v1/tasks', { ...body, agents: { names: ['nobody'] } });
  assert.equal(unknown.status, 400);
  assert.match(unknown.body.error, /"nobody" is not known/);
  assert.equal((await api('GET', '/api/v1/tasks/no-such-task')).status, 404);
});

test('an agent that is down, or does not fetch tasks, gets a clear status; nothing hangs', { timeout: 30_000 }, async () => {
  await waitFor('"gone" to be down', () => server.ctx.agents().find((a) => a.name === 'gone')?.alive === false);
  const down = await api<TaskRecord>('POST', '/api/v1/tasks', { kind: 'ping', params: { host: '127.0.0.1' }, agents: { names: ['gone'] } });
  assert.equal(down.status, 201);
  assert.equal(down.body.state, 'finished');
  assert.deepEqual([down.body.results[0]!.status, down.body.results[0]!.error], ['agent_down', 'agent "gone" is down: the task was not sent']);
  const quiet = await api<TaskRecord>('POST', '/api/v1/tasks', { kind: 'ping', params: { host: '127.0.0.1' }, agents: { regions: ['lab'] } });
  const rec = await finished(quiet.body.id);
  const q = rec.results.find((x) => x.agent === 'quiet')!;
  assert.equal(q.status, 'timeout');
  assert.match(q.error!, /did not fetch the task within 3 s \(tasks\.pickup_s\): it runs with --no-tasks/);
  assert.equal(rec.results.find((x) => x.agent === 'r1')!.status, 'done');
});

test('the CLI prints each agent\'s result as it arrives, with mtr\'s hop table', { timeout: 180_000 }, async () => {
  const tokenFile = join(dir, 'data', 'admin.token');
  // Asynchronously: the server runs in this process and must keep answering.
  const run = (args: string[]) => new Promise<{ status: number; stdout: string; stderr: string }>((resolve) => {
    execFile(process.execPath, ['bin/smokemesh.js', 'task', ...args], { encoding: 'utf8' }, (err, stdout, stderr) => resolve({ status: err ? Number(err.code ?? 1) : 0, stdout, stderr }));
  });
  const cli = (args: string[]) => run([...args, '--server', base, '--token-file', tokenFile]);
  const r = await cli(['mtr', '127.0.0.1', '--agent', 'srv', '--agent', 'r1', '-c', '2', '-P', 'interval=0.2', '-P', 'grace=0.5']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^task [-0-9a-f]{36}: mtr 127\.0\.0\.1 on srv, r1\n/);
  for (const a of ['srv', 'r1']) assert.match(r.stdout, new RegExp(`== ${a}: done in [0-9.]+ s — path clean: 1 hop to 127\\.0\\.0\\.1`));
  assert.match(r.stdout, /\n {1}hop host\s+loss%\s+sent\s+last\s+avg\s+best\s+worst\s+stdev\n\s+1 127\.0\.0\.1\s+0\.0\s+2 /);
  const bad = await cli(['mtr', '203.0.113.1', '--agent', 'srv']);
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /SMOKEMESH_E_POLICY: host "203\.0\.113\.1" is not allowed/);
  const noToken = await run(['ping', '127.0.0.1', '--all', '--server', base, '--token-file', join(dir, 'none')]);
  assert.match(noToken.stderr, /cannot read the admin token file/);
});

test('OpenAPI describes the task routes; /metrics says tasks are on, and off once the config disables them', async () => {
  const doc = (await api<{ paths: Record<string, Record<string, unknown>> }>('GET', '/api/openapi.json')).body;
  for (const p of ['/api/v1/tasks', '/api/v1/tasks/{id}', '/api/v1/tasks/kinds']) assert.ok(doc.paths[p], p);
  assert.ok(doc.paths['/api/v1/tasks']!.post);
  const metrics = async () => (await (await fetch(`${base}/metrics`)).text()).match(/^prober_server_task_enabled (\d)$/m)?.[1];
  assert.equal(await metrics(), '1');
  writeFileSync(cfgFile, config('  enabled: false'));
  assert.equal((await api('POST', '/api/v1/reload', {})).status, 200);
  assert.equal(await metrics(), '0');
  const off = await api<{ error: string }>('POST', '/api/v1/tasks', { kind: 'ping', params: { host: '127.0.0.1' }, agents: { all: true } });
  assert.equal(off.status, 403);
  assert.match(off.body.error, /tasks are disabled/);
  writeFileSync(cfgFile, config('  allow: { networks: [not-a-network] }'));
  const bad = await api<{ errors: string[] }>('POST', '/api/v1/reload', {});
  assert.equal(bad.status, 422);
  assert.match(bad.body.errors.join('\n'), /smokemesh\.yaml:\d+:\d+: tasks\.allow\.networks\.0: "not-a-network" is not an address/);
  assert.match(readFileSync(cfgFile, 'utf8'), /not-a-network/);
});
