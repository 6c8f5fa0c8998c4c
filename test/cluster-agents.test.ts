import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { agentOwner } from '../src/cluster/hrw.ts';
import type { AgentInfo } from '../src/plan/agent-info.ts';
import { freePort, getJson, startAgent, startServer, writeSecret, type Proc } from './agents-kit.ts';
import { clusterBackends, clusterServerHead } from './cluster-kit.ts';
import { waitFor } from './wait.ts';

const IDS = ['s1', 's2'];
// Waits that include process starts: a cold start takes 10–30 s on the loaded machine.
const START_MS = 180_000;
const SHARDED = Array.from({ length: 8 }, (_, i) => `/Sharded/t${i}`);

/** The first agent names that rendezvous hashing places two on each server (each agent pushes to its evaluator). */
function agentNames(): string[] {
  const by = new Map(IDS.map((s) => [s, [] as string[]]));
  for (let i = 1; [...by.values()].some((l) => l.length < 2); i++) {
    const l = by.get(agentOwner(`a${i}`, IDS)!)!;
    if (l.length < 2) l.push(`a${i}`);
  }
  return [...by.values()].flat().sort();
}

/** Every series of these targets in VictoriaMetrics with its round times (smokemesh_round_sent samples) since `from`. */
async function vmSeries(vm: string, match: string, from: number): Promise<{ target: string; agent: string; times: number[] }[]> {
  const q = new URLSearchParams({ 'match[]': `smokemesh_round_sent{${match}}`, start: String(Math.floor(from / 1000)) });
  const text = await (await fetch(`${vm}/api/v1/export?${q}`)).text();
  return text.split('\n').filter(Boolean).map((l) => {
    const s = JSON.parse(l) as { metric: { target: string; agent: string }; timestamps: number[] };
    return { target: s.metric.target, agent: s.metric.agent, times: s.timestamps.filter((t) => t > from) };
  }).filter((s) => s.times.length > 0);
}

type AgentEvent = { agent: string; state: 'down' | 'up'; time: number; server?: string };

/**
 * Agents of a cluster, cluster-wide: two servers (one VictoriaMetrics, one PostgreSQL) and four
 * remote agents given both URLs, each moving to the server that evaluates its series (two on
 * each). Checked: both servers list every agent alive with the server it talks to; the mesh
 * spans the agents of both servers (an agent on s1 probes one on s2, and back); a sharded
 * group is split once over the cluster (every target probed, each by one agent); killing an
 * agent makes it down on both servers, told once in the cluster by its owner (the agent events
 * both servers list, and the log of one server), and restarting it tells it up once.
 */
test('cluster agents: every server lists every agent, one mesh and one shard split over the cluster, agent-down told once', { timeout: 900_000 }, async (t) => {
  const { dir, vm, pg, procs } = await clusterBackends(t, 'sm-cluster-agents-');
  const AGENTS = agentNames();
  const secrets = Object.fromEntries(AGENTS.map((a) => [a, writeSecret(dir, a)]));
  // dead_after_s 10: an agent stays alive in the cluster for 20 s after its last row (a starved
  // server writes late on a loaded machine), so the membership and the plans do not flap.
  const servers = await Promise.all(IDS.map(async (id) => {
    const port = await freePort();
    const dataDir = join(dir, `data-${id}`);
    mkdirSync(dataDir);
    const file = join(dir, `${id}.yaml`);
    writeFileSync(file, `${clusterServerHead({ id, port, dataDir, step: 3, pings: 2, vmUrl: vm.url, pgUrl: pg.url, deadAfterS: 10 })}agents:
${AGENTS.map((a) => `  - { name: ${a}, secret_file: ${secrets[a]}, heartbeat: 1 }`).join('\n')}
targets:
  server_probes: false
  children:
    Sharded:
      shard: per_region
      agents: all
      children:
${SHARDED.map((p) => `        ${p.split('/').pop()}: { host: 127.0.0.1 }`).join('\n')}
mesh:
  - name: Mesh
    probe: icmp
    address: public
    self_region: true
    include_server: false
`);
    return { id, url: `http://127.0.0.1:${port}`, file, proc: undefined as Proc | undefined };
  }));
  for (const s of servers) procs.push((s.proc = await startServer(s.file, { timeoutMs: START_MS })));
  await waitFor('both servers to see each other', async () => (await Promise.all(servers.map((s) => getJson<{ live: string[] }>(`${s.url}/api/v1/cluster`))))
    .every((x) => x.live.join() === IDS.join()), START_MS);

  // Each agent's public address is its own loopback address (the one the mesh probes); all start on s1 and move to their evaluator.
  const address = (a: string) => `127.0.0.${10 + AGENTS.indexOf(a)}`;
  const list = servers.map((s) => s.url).join(',');
  const agentProc = (a: string) => startAgent({ server: list, name: a, secretFile: secrets[a]!, spool: join(dir, `spool-${a}`), extra: ['--region', 'r1', '--public-address', address(a), '--log-level', 'info'] });
  const agents = new Map(AGENTS.map((a) => [a, agentProc(a)]));
  procs.push(...agents.values());

  const listed = async (s: typeof servers[0]) => (await getJson<{ agents: AgentInfo[] }>(`${s.url}/api/v1/agents`)).agents;
  const allAlive = async () => {
    for (const s of servers) {
      const l = await listed(s);
      for (const a of AGENTS) {
        const x = l.find((y) => y.name === a);
        if (!x?.alive || x.server !== agentOwner(a, IDS) || x.public_address !== address(a)) return false;
      }
      if (!IDS.every((id) => l.find((y) => y.name === `srv-${id}`)?.alive)) return false;
    }
    return true;
  };
  await waitFor('both servers to list every agent alive, each with the server it talks to (its evaluator)', allAlive, START_MS, 500);

  // The mesh spans both servers' agents: one on s1 probes one on s2 and the other way round.
  const on = (id: string) => AGENTS.filter((a) => agentOwner(a, IDS) === id);
  const [x, y] = [on('s1')[0]!, on('s2')[0]!];
  for (const [from, to] of [[x, y], [y, x]] as const) {
    await waitFor(`${from} (on ${agentOwner(from, IDS)}) to probe /Mesh/r1/${to} (on ${agentOwner(to, IDS)})`,
      async () => (await vmSeries(vm.url, `target="/Mesh/r1/${to}",agent="${from}"`, 0)).length > 0, START_MS, 1000);
  }

  // Plans settled: every agent runs the plan its server computed (no membership change since).
  const settled = async () => {
    for (const s of servers) {
      const st = await getJson<{ agents: { name: string; plan_version: string | null; agent_plan_version: string | null }[] }>(`${s.url}/api/v1/agent-status`);
      for (const a of on(s.id)) {
        const r = st.agents.find((z) => z.name === a);
        if (!r?.plan_version || r.plan_version !== r.agent_plan_version) return false;
      }
    }
    return allAlive();
  };
  await waitFor('every agent to run the plan its server computed', settled, START_MS, 500);
  const since = Date.now();
  // Rounds started after this were probed by the plans seen settled: the sharded group, split once over the four agents.
  const shards = await waitFor('every sharded target probed since the plans settled', async () => {
    const s = await vmSeries(vm.url, 'target=~"/Sharded/.*"', since);
    return SHARDED.every((p) => s.some((z) => z.target === p)) ? s : undefined;
  }, START_MS, 1000);
  assert.ok(await settled(), 'no plan changed meanwhile');
  for (const p of SHARDED) {
    assert.deepEqual(shards.filter((z) => z.target === p).length, 1, `${p}: probed by exactly one agent of the cluster (${shards.filter((z) => z.target === p).map((z) => z.agent).join(', ')})`);
  }
  assert.ok(new Set(shards.map((z) => z.agent)).size >= 2, 'the shards spread over agents of both servers');

  // Kill an agent of s2: down on both servers, told once in the cluster; restarted: up, told once.
  const victim = y;
  // Each server lists the cluster's agent events (each told by one server).
  const eventsOf = async (s: typeof servers[0]) => (await getJson<{ agent_events: AgentEvent[] }>(`${s.url}/api/v1/alerts`)).agent_events;
  const events = () => eventsOf(servers[1]!);
  const count = (l: AgentEvent[], agent: string, state: 'down' | 'up') => l.filter((e) => e.agent === agent && e.state === state).length;
  const downLines = (agent: string) => servers.reduce((n, s) => n + s.proc!.lines().filter((l) => String(l.msg).startsWith(`agent ${agent} is down:`)).length, 0);
  const before = await events();
  for (const a of AGENTS) assert.ok(downLines(a) <= 1, `${a}: told down by at most one server at the start (${downLines(a)})`);
  const linesBefore = downLines(victim);
  await agents.get(victim)!.stop('SIGKILL');
  await waitFor(`${victim} down on both servers`, async () => {
    for (const s of servers) if ((await listed(s)).find((z) => z.name === victim)?.alive !== false) return false;
    return true;
  }, START_MS, 500);
  await waitFor(`${victim}'s agent-down told`, async () => count(await events(), victim, 'down') > count(before, victim, 'down'), START_MS, 500);
  const restarted = agentProc(victim);
  procs.push(restarted);
  await waitFor(`${victim} back: both servers list every agent alive`, allAlive, START_MS, 500);
  await waitFor(`${victim}'s agent-up told`, async () => count(await events(), victim, 'up') > count(before, victim, 'up'), START_MS, 500);
  // Both servers read the shared rows again since (the victim's last_seen moves on each): each judged it alive again after the up.
  const upSeen = Date.now();
  await waitFor('both servers to read the agents again', async () => {
    for (const s of servers) if (((await listed(s)).find((z) => z.name === victim)?.last_seen ?? 0) <= upSeen) return false;
    return true;
  }, START_MS, 500);
  const after = await events();
  assert.equal(count(after, victim, 'down') - count(before, victim, 'down'), 1, 'agent-down told once in the cluster');
  assert.equal(count(after, victim, 'up') - count(before, victim, 'up'), 1, 'agent-up told once in the cluster');
  const told = after.filter((e) => e.agent === victim).slice(0, 2);
  assert.deepEqual(told.map((e) => [e.state, e.server]), [['up', agentOwner(victim, IDS)], ['down', agentOwner(victim, IDS)]], 'told by its owner');
  assert.deepEqual((await eventsOf(servers[0]!)).filter((e) => e.agent === victim).slice(0, 2), told, 's1 lists the same events');
  assert.equal(downLines(victim) - linesBefore, 1, `"agent ${victim} is down" logged by one server`);
  for (const a of AGENTS.filter((z) => z !== victim)) assert.equal(count(after, a, 'down'), count(before, a, 'down'), `${a}: alive all along, never told down`);
});
