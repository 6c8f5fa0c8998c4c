import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import pino from 'pino';
import { findNode, probedTargets } from '../src/config/tree.ts';
import { startServer, type RunningServer } from '../src/server/app.ts';
import { freePort, startAgent, writeSecret, type Proc } from './agents-kit.ts';
import { isRoot, sh } from './netns-kit.ts';
import { waitFor } from './wait.ts';

/**
 * Five remote agents in five network namespaces (two regions) on a bridge of our own with
 * TEST-NET-2 addresses: the mesh forms by itself, nftables loss in one namespace shows in
 * that agent's pairs while its region stays green, and a killed agent leaves the mesh and
 * its shard moves to the other agents of its region.
 */

const tag = Math.random().toString(36).slice(2, 7);
const nibble = 16 * (1 + Math.floor(Math.random() * 14));
const net = (host: number) => `198.51.100.${nibble + host}`;
const BRIDGE = `smbr${tag}`;
const AGENTS = [
  { name: 'eu-a', region: 'eu' }, { name: 'eu-b', region: 'eu' }, { name: 'eu-c', region: 'eu' },
  { name: 'us-a', region: 'us' }, { name: 'us-b', region: 'us' },
].map((a, i) => ({ ...a, ns: `sm${tag}${i}`, veth: `smv${tag}${i}`, addr: net(2 + i) }));
const SHARD = Array.from({ length: 12 }, (_, i) => `127.0.0.${10 + i}`);
const dir = mkdtempSync(join(tmpdir(), 'smokemesh-netns-'));
const procs: Record<string, Proc> = {};
let server: RunningServer;

function shQuiet(argv: string[]): void {
  spawnSync(argv[0]!, argv.slice(1), { shell: false });
}

before(async () => {
  if (!isRoot) return;
  const routes = spawnSync('ip', ['-4', 'route'], { encoding: 'utf8' }).stdout;
  assert.ok(!routes.includes(`198.51.100.${nibble}/28`), 'our test subnet is free');
  sh(['ip', 'link', 'add', BRIDGE, 'type', 'bridge']);
  sh(['ip', 'addr', 'add', `${net(1)}/28`, 'dev', BRIDGE]);
  sh(['ip', 'link', 'set', BRIDGE, 'up']);
  for (const a of AGENTS) {
    sh(['ip', 'netns', 'add', a.ns]);
    sh(['ip', 'link', 'add', a.veth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', a.ns]);
    sh(['ip', 'link', 'set', a.veth, 'master', BRIDGE]);
    sh(['ip', 'link', 'set', a.veth, 'up']);
    sh(['ip', '-n', a.ns, 'addr', 'add', `${a.addr}/28`, 'dev', 'eth0']);
    sh(['ip', '-n', a.ns, 'link', 'set', 'eth0', 'up']);
    sh(['ip', '-n', a.ns, 'link', 'set', 'lo', 'up']);
  }
  const port = await freePort(); // any free port number; the server binds it on the bridge address
  const secrets = Object.fromEntries(AGENTS.map((a) => [a.name, writeSecret(dir, a.name)]));
  const configFile = join(dir, 'smokemesh.yaml');
  writeFileSync(configFile, `general:
  step: 2
  pings: 5
  listen: ${net(1)}:${port}
  data_dir: ${join(dir, 'data')}
  agent_name: server
  region: control
agents:
${AGENTS.map((a) => `  - { name: ${a.name}, secret_file: ${secrets[a.name]}, heartbeat: 1 }`).join('\n')}
targets:
  server_probes: false
  children:
    Shard:
      shard: per_region
      agents: { region: eu }
      labels: { region: lo }
      children:
${SHARD.map((h, i) => `        t${i}: { host: ${h}, interval: 20, timeout: 500 }`).join('\n')}
mesh:
  - name: Mesh
    probe: icmp
    include_server: false
    step: 3
    pings: 4
    params: { interval: 100 }
`);
  server = await startServer({ configFile, logger: pino({ level: 'warn' }) });
  for (const a of AGENTS) {
    const spool = join(dir, `spool-${a.name}`);
    mkdirSync(spool, { recursive: true });
    procs[a.name] = startAgent({ server: server.url, name: a.name, secretFile: secrets[a.name]!, spool, ns: a.ns, extra: ['--region', a.region, '--interface', 'eth0', '--log-level', 'warn'] });
  }
});

after(async () => {
  for (const p of Object.values(procs)) await p.stop('SIGKILL');
  await server?.close();
  for (const a of AGENTS) shQuiet(['ip', 'netns', 'del', a.ns]);
  shQuiet(['ip', 'link', 'del', BRIDGE]);
  rmSync(dir, { recursive: true, force: true });
});

interface Cell { source_region: string; target_region: string; status: string; agents_ok: number; agents_total: number; loss_pct: number | null; median: number | null; target?: string; agents: { agent: string; ok: boolean; loss_pct: number }[] }
async function api<T>(path: string): Promise<T> {
  const r = await fetch(server.url + path);
  if (!r.ok) throw new Error(`${path}: ${r.status} ${await r.text()}`);
  return (await r.json()) as T;
}
const matrix = () => api<{ cells: Cell[] }>('/api/v1/regions/matrix?probe=icmp');
const pair = (s: string, t: string) => api<{ cell: Cell; targets: Cell[] }>(`/api/v1/regions/pair?probe=icmp&source=${s}&target=${t}`);
const meshAgents = () => probedTargets(findNode(server.ctx.targets(), '/Mesh') ?? { children: [] } as never).map((t) => t.path).sort();

test('the mesh forms by itself, loss in one namespace stays in its agent, a killed agent leaves and its shard moves', { skip: !isRoot && 'needs root for network namespaces' }, async () => {
  // 1. Every agent becomes a target of the other region; every cell fills with all agents, no loss.
  await waitFor('the mesh targets', () => meshAgents().length === 5, 120000);
  assert.deepEqual(meshAgents(), ['/Mesh/eu/eu-a', '/Mesh/eu/eu-b', '/Mesh/eu/eu-c', '/Mesh/us/us-a', '/Mesh/us/us-b']);
  assert.equal(findNode(server.ctx.targets(), '/Mesh/eu/eu-a')!.probe!.host, AGENTS[0]!.addr);
  let last: unknown;
  const formed = await waitFor('a full, clean eu↔us matrix', async () => {
    const m = await matrix();
    last = m;
    const eu = m.cells.find((c) => c.source_region === 'eu' && c.target_region === 'us');
    const us = m.cells.find((c) => c.source_region === 'us' && c.target_region === 'eu');
    return eu?.agents_total === 3 && us?.agents_total === 2 && eu.loss_pct === 0 && us.loss_pct === 0 ? { eu, us } : undefined;
  }, 120000, 500).catch(async (e: Error) => {
    const st = await api<{ agents: Record<string, unknown>[] }>('/api/v1/agent-status');
    const brief = st.agents.map((a) => ({ name: a.name, alive: a.alive, targets: a.targets, plan: a.plan_version, agent_plan: a.agent_plan_version, ok: a.rounds_accepted, rejected: a.rounds_rejected }));
    throw new Error(`${e.message}; last matrix: ${JSON.stringify(last)}; agents: ${JSON.stringify(brief)}; mesh: ${meshAgents().join(' ')}`);
  });
  assert.equal(formed.eu.status, 'ok');
  assert.ok(formed.eu.median! > 0 && formed.eu.median! < 50, `bridge RTT ${formed.eu.median} ms`);

  // 2. 80 % of the echo replies reaching eu-c are dropped: eu-c's views turn bad, eu stays green.
  const c = AGENTS[2]!;
  sh(['ip', 'netns', 'exec', c.ns, 'nft', '-f', '-'], `table inet smloss {
  chain input { type filter hook input priority 0; policy accept; icmp type echo-reply numgen random mod 100 < 80 drop; }
}
`);
  const lossy = await waitFor('eu-c bad toward us while eu stays ok', async () => {
    const p = await pair('eu', 'us');
    const cView = p.cell.agents.find((a) => a.agent === 'eu-c');
    return cView && !cView.ok && cView.loss_pct >= 40 && p.cell.agents_total === 3 ? p : undefined;
  }, 60000, 500);
  assert.equal(lossy.cell.status, 'ok', 'the healthy majority keeps the region green');
  assert.equal(lossy.cell.agents_ok, 2);
  assert.equal(lossy.cell.loss_pct, 0, 'the region figure is that of its healthy majority');
  assert.ok(lossy.cell.agents.filter((a) => a.agent !== 'eu-c').every((a) => a.ok && a.loss_pct === 0));
  for (const t of lossy.targets) assert.ok(t.agents.find((a) => a.agent === 'eu-c')!.loss_pct > 0, `eu-c's pair toward ${t.target} shows the loss`);
  const usView = await pair('us', 'eu');
  assert.ok(usView.targets.every((t) => t.status === 'ok'), 'echo requests to eu-c still get answered: the us view of eu is clean');

  // 3. Sharding: each Shard target is probed by exactly one eu agent.
  const owners = async () => {
    const p = await pair('eu', 'lo');
    return new Map(p.targets.map((t) => [t.target!, t.agents.map((a) => a.agent)]));
  };
  const before = await waitFor('every shard target owned by exactly one eu agent', async () => {
    const o = await owners();
    return o.size === SHARD.length && [...o.values()].every((list) => list.length === 1) ? o : undefined;
  }, 60000, 500);
  const counts = new Map<string, number>();
  for (const [, [a]] of before) counts.set(a!, (counts.get(a!) ?? 0) + 1);
  const victim = ['eu-a', 'eu-b'].sort((x, y) => (counts.get(y) ?? 0) - (counts.get(x) ?? 0))[0]!;
  assert.ok((counts.get(victim) ?? 0) > 0, `${victim} owns shard targets (${JSON.stringify([...counts])})`);

  // 4. Kill it: it leaves the mesh; its targets move to the other eu agents; nothing else moves.
  await procs[victim]!.stop('SIGKILL');
  await waitFor(`${victim} to leave the mesh`, () => !meshAgents().includes(`/Mesh/eu/${victim}`), 30000);
  const after = await waitFor('the shard to settle without the victim', async () => {
    const o = await owners();
    return o.size === SHARD.length && [...o.values()].every((list) => list.length === 1 && list[0] !== victim) ? o : undefined;
  }, 60000, 500);
  for (const [t, [owner]] of before) {
    if (owner !== victim) assert.deepEqual(after.get(t), [owner], `${t} stayed with ${owner}`);
    else assert.notEqual(after.get(t)![0], victim);
  }
  const metrics = await (await fetch(server.url + '/metrics')).text();
  assert.match(metrics, new RegExp(`^prober_agent_is_alive\\{region="eu",ip="${AGENTS[2]!.addr.replace(/\./g, '\\.')}",version="[^"]+",agent="eu-c"\\} 1$`, 'm'));
  assert.match(metrics, new RegExp(`^prober_agent_is_alive\\{region="eu",ip="[^"]*",version="[^"]*",agent="${victim}"\\} 0$`, 'm'));
  assert.match(metrics, /^smokemesh_agent_spool_backlog_rounds\{agent="us-a"\} \d+$/m);
  const m = await matrix();
  assert.equal(m.cells.find((x) => x.source_region === 'eu' && x.target_region === 'us')!.agents_total, 2, 'the dead agent no longer counts');
});
