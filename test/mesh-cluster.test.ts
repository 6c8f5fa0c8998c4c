import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clusterAgentView, judgeSightings } from '../src/cluster/agents.ts';
import type { SightingRead } from '../src/cluster/tasks-pg.ts';
import { parseConfig } from '../src/config/loader.ts';
import { probedTargets } from '../src/config/tree.ts';
import type { AgentInfo } from '../src/plan/agent-info.ts';
import { LiveMesh } from '../src/plan/live.ts';
import { planFor } from '../src/plan/plan.ts';

const CONFIG = parseConfig(`general: { agent_name: srv }
targets:
  server_probes: false
  children:
    Sharded:
      shard: per_region
      agents: all
      children:
${Array.from({ length: 12 }, (_, i) => `        t${i}: { host: 127.0.0.1 }`).join('\n')}
mesh:
  - name: Mesh
    probe: icmp
    address: public
    self_region: true
    include_server: false
`);

const REMOTE = ['a', 'b', 'c', 'd'];
/** Where each agent talks to: a and b to s1, c and d to s2. */
const SERVER: Record<string, string> = { a: 's1', b: 's1', c: 's2', d: 's2', 'srv-s1': 's1', 'srv-s2': 's2' };
/** A server's row of an agent talking to it, as it writes it (built-in agents: region default, no labels, no public address). */
const row = (agent: string, seenAgo: number): SightingRead => {
  const builtin = agent.startsWith('srv');
  return {
    agent, server: SERVER[agent]!, written_ago: 500, seen_ago: seenAgo, polled_at: null, polling: false, region: builtin ? 'default' : 'r1', labels: builtin ? {} : { site: agent },
    builtin, intranet: null, public: builtin ? null : `127.0.0.${10 + REMOTE.indexOf(agent)}`, version: '1.0.0', now: 0,
  };
};

/** A server's own list: its built-in agent, then every configured agent (alive when it talks to this server). */
function own(me: string, now: number): AgentInfo[] {
  return [
    { name: `srv-${me}`, region: 'default', labels: {}, addresses: [], alive: true, builtin: true, last_seen: now },
    ...REMOTE.map((n): AgentInfo => (SERVER[n] === me
      ? { name: n, region: 'r1', labels: { site: n }, addresses: [row(n, 0).public!], public_address: row(n, 0).public!, alive: true, builtin: false, last_seen: now - 100 }
      : { name: n, region: 'default', labels: {}, addresses: [], alive: false, builtin: false })),
  ];
}

test('in a cluster every server builds the same mesh and plans an agent alike, and a later read with newer times changes nothing', () => {
  const shared = judgeSightings([...REMOTE, 'srv-s1', 'srv-s2'].map((n) => row(n, 300)), 6000);
  let now = 1_000_000;
  const views = { s1: () => clusterAgentView(own('s1', now), shared, 's1', now), s2: () => clusterAgentView(own('s2', now), shared, 's2', now) };
  const s1 = new LiveMesh(views.s1);
  const s2 = new LiveMesh(views.s2);
  s1.sync(CONFIG);
  s2.sync(CONFIG);
  const meshTargets = (m: LiveMesh) => probedTargets(m.tree(CONFIG)).map((t) => t.path).filter((p) => p.startsWith('/Mesh/')).sort();
  assert.deepEqual(meshTargets(s1), REMOTE.map((n) => `/Mesh/r1/${n}`), 'the mesh spans the agents of both servers');
  assert.deepEqual(meshTargets(s2), meshTargets(s1));
  assert.deepEqual(s1.peers(), s2.peers(), 'the same peers on both servers');
  const owners = new Map<string, string[]>();
  for (const n of REMOTE) {
    const who = { name: n, region: 'r1', labels: { site: n }, builtin: false };
    const p1 = planFor(s1.tree(CONFIG), who, s1.peers());
    const p2 = planFor(s2.tree(CONFIG), who, s2.peers());
    assert.equal(p1.version, p2.version, `${n}: the same plan from s1 and s2`);
    for (const a of p1.assignments) if (a.target.startsWith('/Sharded/')) owners.set(a.target, [...(owners.get(a.target) ?? []), n]);
  }
  assert.equal(owners.size, 12, 'every sharded target is probed');
  for (const [t, by] of owners) assert.equal(by.length, 1, `${t}: by one agent of the cluster (${by.join(', ')})`);
  now += 5000;
  assert.equal(s1.sync(CONFIG), false, 'newer last_seen alone is no membership change');
  assert.equal(s2.sync(CONFIG), false);
});
