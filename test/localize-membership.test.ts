import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { AgentClient } from '../src/agent/client.ts';
import { AGENT_API, type Heartbeat } from '../src/agent/protocol.ts';
import { makeRound } from '../src/probes/round.ts';
import { startServer } from '../src/server/app.ts';
import type { LocalizeModule } from '../src/server/localize-module.ts';
import { writeSecret } from './agents-kit.ts';
import { waitFor } from './wait.ts';

/**
 * Labels from mesh membership, not from the config: the agents' config entries carry neither a
 * region nor labels; each agent says `region` and `isp` in its heartbeats (as `smokemesh agent
 * --region … --label isp=…` does), and the mesh group turns the live agents into targets that
 * carry the `region` label of the agent they stand for. A localization scope whose vantage role is
 * `isp`, whose destination role is `region` and whose agent selection matches `isp` sees all of
 * them, and names a region nobody reaches by those labels.
 */
const AGENTS = [
  { name: 'a1', region: 'r1', isp: 'tel', ip: '127.0.1.1' },
  { name: 'a2', region: 'r1', isp: 'uni', ip: '127.0.1.2' },
  { name: 'b1', region: 'r2', isp: 'tel', ip: '127.0.1.3' },
  { name: 'b2', region: 'r2', isp: 'uni', ip: '127.0.1.4' },
  { name: 'c1', region: 'r3', isp: 'tel', ip: '127.0.1.5' },
  { name: 'c2', region: 'r3', isp: 'uni', ip: '127.0.1.6' },
];

test('localization takes agent labels and regions from heartbeats and target regions from mesh membership', { timeout: 600_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'smokemesh-localize-membership-'));
  mkdirSync(join(dir, 'data'));
  const stepMs = 60_000;
  // A simulated clock for the steps, in the recent past (the store takes rounds of the past).
  const T = (Math.floor(Date.now() / stepMs) - 30) * stepMs;
  let now = T;
  const secrets = new Map(AGENTS.map((a) => [a.name, writeSecret(dir, a.name)]));
  writeFileSync(join(dir, 'smokemesh.yaml'), `general:
  step: 60
  pings: 10
  data_dir: ${join(dir, 'data')}
  agent_name: server
agents:
${AGENTS.map((a) => `  - { name: ${a.name}, secret_file: ${secrets.get(a.name)}, heartbeat: 60 }`).join('\n')}
mesh:
  - { name: Mesh, probe: icmp, include_server: false }
targets:
  server_probes: false
  agents: none
  children:
    local: { host: 127.0.0.1 }
localize:
  scopes:
    - name: mesh
      targets: { paths: [/Mesh/**] }
      agents: { labels: { isp: [tel, uni] } }
      roles: { vantage: [isp], destination: [region], item: agent }
      thresholds: { vantage: { min_series: 2 } }
`);
  const server = await startServer({ configFile: join(dir, 'smokemesh.yaml'), listen: '127.0.0.1:0', logger: pino({ level: 'error' }), clock: () => now });
  const localize = server.modules.find((m) => m.name === 'localize') as LocalizeModule;
  const clients = AGENTS.map((a) => ({ a, c: new AgentClient({ server: server.url, agent: a.name, secret: readFileSync(secrets.get(a.name)!, 'utf8').trim() }) }));
  const heartbeat = () => Promise.all(clients.map(({ a, c }) => c.call('POST', AGENT_API.heartbeat, {
    json: { version: 'test', region: a.region, labels: { isp: a.isp }, addresses: { intranet: a.ip }, spool: { backlog: 0, bytes: 0, dropped: 0 }, started_at: T } satisfies Heartbeat,
  })));
  type Scope = { targets: number; counts: { series: number; unlabelled: number }; matrix: { rows: string[]; columns: string[] }; causes: { id: string; raised: number | null; key: Record<string, string>; networks?: { seeing: string[] } }[] };
  const scope = async () => ((await (await fetch(`${server.url}/api/v1/localize`)).json()) as { scopes: Scope[] }).scopes[0]!;
  try {
    await heartbeat();
    // The mesh forms from the heartbeats: each agent is a target /Mesh/<region>/<agent>.
    await waitFor('the mesh targets in the scope', async () => (await scope()).targets === AGENTS.length, 60_000);
    const region = new Map(AGENTS.map((a) => [a.name, a.region]));
    for (let i = 0; i < 12; i++) {
      await heartbeat();
      const rounds = AGENTS.flatMap((from) => AGENTS.filter((to) => to.region !== from.region).map((to) => {
        const time = T + i * stepMs + 5_000;
        const lost = i >= 5 && region.get(to.name) === 'r2';
        return makeRound({ target: `/Mesh/${to.region}/${to.name}`, agent: from.name, probe: 'icmp', time, step: 60 }, { sent: 10, rtts: lost ? [] : Array.from({ length: 10 }, (_, k) => 20 + k / 10) });
      }));
      await server.ingest.accept(rounds);
      await server.ingest.drain();
      now = T + (i + 1) * stepMs;
      localize.tick(now);
    }
    const s = await scope();
    // Every series is in (selected by its heartbeat label, placed by its heartbeat label and its target's membership region).
    assert.equal(s.counts.series, 6 * 4);
    assert.equal(s.counts.unlabelled, 0);
    assert.deepEqual(s.matrix.rows, ['tel', 'uni']);
    assert.deepEqual(s.matrix.columns, ['r1', 'r2', 'r3']);
    const raised = s.causes.filter((c) => c.raised !== null);
    assert.deepEqual(raised.map((c) => c.id), ['mesh/destination/r2'], JSON.stringify(s.causes));
    assert.deepEqual(raised[0]!.key, { region: 'r2' });
    assert.deepEqual(raised[0]!.networks?.seeing, ['tel', 'uni']);
  } finally {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
