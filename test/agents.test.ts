import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { signRequest } from '../src/auth/signing.ts';
import { Spool } from '../src/agent/spool.ts';
import { makeRound } from '../src/probes/round.ts';
import { waitFor } from './wait.ts';
import {
  freePort, gapsAndDuplicates, getJson, seriesPoints, spoolBacklog, startAgent, startServer, writeSecret, type Proc,
} from './agents-kit.ts';

// Real processes on loopback: one server, agents a1..a3, a TCP listener as the target.
const dir = mkdtempSync(join(tmpdir(), 'sm-agents-'));
const STEP = 2;
let port: number;
let base: string;
let listener: Server;
let targetPort: number;
let server: Proc;
const agents: Record<string, Proc> = {};
const secrets: Record<string, string> = {};
const cfgFile = join(dir, 'smokemesh.yaml');

function config(extraTargets = ''): string {
  return `general:
  step: ${STEP}
  pings: 3
  listen: 127.0.0.1:${port}
  data_dir: ${join(dir, 'data')}
  agent_name: srv
  log_level: debug
agents:
  - { name: a1, secret_file: ${secrets.a1}, heartbeat: 1, region: tokyo, display_name: Tokyo 1 }
  - { name: a2, secret_file: ${secrets.a2}, heartbeat: 1 }
  - { name: a3, secret_file: ${secrets.a3}, heartbeat: 1 }
probes:
  tcpx: { type: tcp, port: ${targetPort}, timeout: 1000 }
targets:
  server_probes: false
  probe: tcpx
  children:
    t1: { host: 127.0.0.1 }
    only3: { host: 127.0.0.1, agents: [a3] }
${extraTargets}`;
}

// Waits that include an agent process's start: a cold start (tsx compiling the sources) took
// over 30 s at load average 25–35 on the shared test machine.
const AGENT_START_MS = 90_000;

const agentArgs = (name: string, extra: string[] = []) => ({ server: base, name, secretFile: secrets[name]!, spool: join(dir, `spool-${name}`), extra });

before(async () => {
  listener = createServer((s) => s.destroy());
  await new Promise<void>((r) => listener.listen(0, '127.0.0.1', r));
  targetPort = (listener.address() as { port: number }).port;
  port = await freePort();
  base = `http://127.0.0.1:${port}`;
  for (const n of ['a1', 'a2', 'a3']) secrets[n] = writeSecret(dir, n);
  writeFileSync(cfgFile, config());
  server = await startServer(cfgFile);
});

after(async () => {
  for (const a of Object.values(agents)) await a.stop('SIGKILL');
  await server?.stop('SIGKILL');
  listener?.close();
});

test('a server outage of several rounds: every round is stored exactly once', async () => {
  agents.a1 = startAgent(agentArgs('a1', ['--label', 'isp=lab']));
  agents.a2 = startAgent(agentArgs('a2'));
  await waitFor('rounds of a1 and a2 in the store', async () =>
    (await seriesPoints(base, '/t1', 'a1')).length >= 2 && (await seriesPoints(base, '/t1', 'a2')).length >= 2, AGENT_START_MS);

  const listed = await getJson<{ agents: { name: string; region: string; labels: Record<string, string>; alive: boolean; version?: string; addresses: string[]; builtin: boolean; display_name?: string }[] }>(`${base}/api/v1/agents`);
  const a1 = listed.agents.find((a) => a.name === 'a1')!;
  assert.equal(listed.agents[0]!.builtin, true);
  assert.deepEqual({ region: a1.region, labels: a1.labels, alive: a1.alive, display: a1.display_name }, { region: 'tokyo', labels: { isp: 'lab' }, alive: true, display: 'Tokyo 1' });
  assert.ok(a1.version && a1.addresses.length >= 0);

  await server.stop('SIGKILL');
  const downAt = Date.now();
  await waitFor('4 rounds waiting in each spool', () => spoolBacklog(agentArgs('a1').spool) >= 4 && spoolBacklog(agentArgs('a2').spool) >= 4, 30000);
  server = await startServer(cfgFile);
  const upAt = Date.now();

  for (const name of ['a1', 'a2']) {
    await waitFor(`${name}: fresh rounds stored and the spool drained`, async () => {
      const pts = await seriesPoints(base, '/t1', name);
      return pts.some((p) => p.time > upAt + STEP * 1000) && spoolBacklog(agentArgs(name).spool) <= 1;
    }, 30000);
    const times = (await seriesPoints(base, '/t1', name)).map((p) => p.time);
    const { duplicates, gaps } = gapsAndDuplicates(times, STEP * 1000);
    assert.equal(duplicates, 0, `${name}: duplicated rounds`);
    assert.deepEqual(gaps, [], `${name}: rounds missing after ${gaps.map((g) => new Date(g).toISOString())}`);
    const during = times.filter((t) => t > downAt && t < upAt).length;
    assert.ok(during >= 3, `${name}: ${during} rounds from the outage stored, expected at least 3`);
  }
  assert.match(agents.a1!.out, /push failed: cannot reach/);
  assert.match(agents.a1!.out, /push: the server answers again/);
});

test('kill -9 of an agent while it drains its spool: after restart nothing is lost or doubled', async () => {
  // A backlog of 1200 rounds measured "earlier" (the agent's own spool format), sent 4 at a time.
  const spoolDir = agentArgs('a3').spool;
  const spool = new Spool(spoolDir);
  const t0 = Math.floor((Date.now() - 3_000_000) / 2000) * 2000;
  const backlog = Array.from({ length: 1200 }, (_, i) => makeRound({ target: '/only3', agent: 'a3', probe: 'tcp', time: t0 + i * 2000, step: STEP }, { sent: 3, rtts: [0.1, 0.2, 0.3] }));
  spool.append(backlog);
  spool.close();

  agents.a3 = startAgent(agentArgs('a3', ['--batch-size', '4']));
  const stored = async () => (await seriesPoints(base, '/only3', 'a3', t0 - 1)).filter((p) => p.time <= backlog.at(-1)!.time).length;
  await waitFor('the drain to be under way', async () => (await stored()) >= 100, AGENT_START_MS, 20);
  agents.a3.child.kill('SIGKILL');
  await agents.a3.exited;
  const storedAtKill = await stored();
  const left = spoolBacklog(spoolDir);
  assert.ok(storedAtKill < 1200 && left > 0, `killed mid-drain: ${storedAtKill} stored, ${left} waiting`);

  agents.a3 = startAgent(agentArgs('a3', ['--batch-size', '50']));
  await waitFor('the rest of the backlog to arrive', async () => (await stored()) === 1200, 60000);
  const times = (await seriesPoints(base, '/only3', 'a3', t0 - 1)).map((p) => p.time);
  const { duplicates, gaps } = gapsAndDuplicates(times.filter((t) => t <= backlog.at(-1)!.time), 2000);
  assert.equal(duplicates, 0);
  assert.deepEqual(gaps, []);
  await waitFor('live rounds of a3 too', async () => (await seriesPoints(base, '/only3', 'a3', backlog.at(-1)!.time + 1)).length >= 2, AGENT_START_MS);
});

async function raw(name: string, secret: string, method: 'GET' | 'POST', path: string, json?: unknown, now?: number, nonce?: string) {
  const body = json === undefined ? undefined : gzipSync(JSON.stringify(json));
  const headers: Record<string, string> = { ...signRequest({ agent: name, secret, method, path, body, now, nonce }) };
  if (body) Object.assign(headers, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
  const r = await fetch(base + path, { method, headers, body });
  const text = await r.text();
  return { status: r.status, body: text ? JSON.parse(text) as Record<string, unknown> : {} };
}

const secretOf = (name: string) => readFileSync(secrets[name]!, 'utf8').trim();
const serverLogged = (reason: string, agent: string) => server.lines().some((l) => l.reason === reason && l.agent === agent && String(l.msg).startsWith(`SMOKEMESH_E_AUTH (${reason})`));

test('wrong secret, unknown agent, old timestamp and replayed request are refused and logged on both sides', async () => {
  const wrong = writeSecret(dir, 'a2-wrong');
  const badAgent = startAgent({ ...agentArgs('a2'), secretFile: wrong, spool: join(dir, 'spool-wrong') });
  const ghost = startAgent({ ...agentArgs('a2'), name: 'ghost', spool: join(dir, 'spool-ghost') });
  try {
    const agentLogged = (p: Proc, reason: string, agent: string) => p.lines().some((l) => l.level === 50 && l.reason === reason
      && String(l.msg).startsWith(`SMOKEMESH_E_AUTH (${reason}): the server refused agent "${agent}"`));
    await waitFor('the wrong secret refused on both sides', () => agentLogged(badAgent, 'bad_signature', 'a2') && serverLogged('bad_signature', 'a2'), AGENT_START_MS);
    await waitFor('the unknown agent refused on both sides', () => agentLogged(ghost, 'unknown_agent', 'ghost') && serverLogged('unknown_agent', 'ghost'), AGENT_START_MS);
  } finally {
    await badAgent.stop('SIGKILL');
    await ghost.stop('SIGKILL');
  }

  const hb = { version: 'test', labels: {}, addresses: {}, spool: { backlog: 0, bytes: 0, dropped: 0 }, started_at: Date.now() };
  const old = await raw('a1', secretOf('a1'), 'POST', '/api/v1/agent/heartbeat', hb, Date.now() - 6 * 60_000);
  assert.equal(old.status, 401);
  assert.equal(old.body.code, 'SMOKEMESH_E_AUTH');
  assert.equal(old.body.reason, 'stale_timestamp');
  assert.match(String(old.body.error), /agent "a1": request timestamp is off by -36\d s/);
  await waitFor('the stale timestamp logged', () => serverLogged('stale_timestamp', 'a1'));

  const now = Date.now();
  const first = await raw('a1', secretOf('a1'), 'GET', '/api/v1/agent/plan', undefined, now, 'fixed-nonce-1');
  assert.equal(first.status, 200);
  const replay = await raw('a1', secretOf('a1'), 'GET', '/api/v1/agent/plan', undefined, now, 'fixed-nonce-1');
  assert.equal(replay.status, 401);
  assert.equal(replay.body.reason, 'replayed_nonce');
  await waitFor('the replay logged', () => serverLogged('replayed_nonce', 'a1'));
});

test('a batch with bad rounds: each refused naming its field, the rest kept', async () => {
  const time = Math.floor(Date.now() / 2000) * 2000 - 600_000 + 1;
  const good = makeRound({ target: '/t1', agent: 'a1', probe: 'tcp', time, step: STEP }, { sent: 3, rtts: [1] });
  const r = await raw('a1', secretOf('a1'), 'POST', '/api/v1/agent/rounds', {
    rounds: [
      good,
      { ...good, time: time + 1, rtts: ['x'] },
      { ...good, time: time + 2, target: '/only3' },
      { ...good, time: time + 3, agent: 'a2' },
    ],
  });
  assert.equal(r.status, 200);
  assert.equal(r.body.accepted, 1);
  const rejected = r.body.rejected as { index: number; error: string }[];
  assert.deepEqual(rejected.map((x) => x.index), [1, 2, 3]);
  assert.match(rejected[0]!.error, /^rounds\[1\]\.rtts\.0: /);
  assert.match(rejected[1]!.error, /rounds\[2\]\.target: "\/only3" is not in the plan of agent "a1"/);
  assert.match(rejected[2]!.error, /rounds\[3\]\.agent: "a2" but the request is signed by agent "a1"/);
  const pts = await seriesPoints(base, '/t1', 'a1');
  assert.equal(pts.filter((p) => p.time === time).length, 1);
  const bad = await raw('a1', secretOf('a1'), 'POST', '/api/v1/agent/heartbeat', { version: 1 });
  assert.equal(bad.status, 400);
  assert.equal(bad.body.code, 'SMOKEMESH_E_PAYLOAD');
});

test('a config change reaches agents through the long-poll; a dead agent goes down and comes back up', async () => {
  writeFileSync(cfgFile, config('    added: { host: 127.0.0.1 }\n'));
  const token = readFileSync(join(dir, 'data', 'admin.token'), 'utf8').trim();
  const t = Date.now();
  const res = await fetch(`${base}/api/v1/reload`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
  assert.equal(res.status, 200, await res.text());
  // The agents poll with wait=25 s: a plan arriving well before that came through the long-poll.
  await waitFor('a1 to apply the new plan', () => agents.a1!.lines().some((l) => l.msg === 'plan applied' && l.targets === 2 && Number(l.time) >= t), 10000, 20);
  const applied = agents.a1!.lines().find((l) => l.msg === 'plan applied' && l.targets === 2)!;
  console.log(`plan change reached a1 in ${Number(applied.time) - t} ms`);
  await waitFor('rounds of the new target', async () => (await seriesPoints(base, '/added', 'a1')).length > 0, 20000);

  await agents.a2!.stop('SIGKILL');
  await waitFor('a2 to be marked down', async () => {
    const { agents: list } = await getJson<{ agents: { name: string; alive: boolean }[] }>(`${base}/api/v1/agents`);
    return list.find((a) => a.name === 'a2')!.alive === false;
  }, 20000);
  assert.ok(server.lines().some((l) => l.agent === 'a2' && /^agent a2 is down: last seen \d+ s ago/.test(String(l.msg))));
  agents.a2 = startAgent(agentArgs('a2'));
  await waitFor('a2 to be up again', () => server.lines().some((l) => l.agent === 'a2' && l.msg === 'agent a2 is up' && Number(l.time) > t), AGENT_START_MS);
  const status = await getJson<{ agents: { name: string; spool: { backlog: number } | null; targets: number }[] }>(`${base}/api/v1/agent-status`);
  assert.equal(status.agents.find((a) => a.name === 'a1')!.targets, 2);
});
