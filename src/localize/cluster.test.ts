import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pgDriver from 'pg';
import pino from 'pino';
import { openAlertDb } from '../alerts/db.ts';
import type { AlertEvent } from '../alerts/notifiers/notifier.ts';
import { parseConfig } from '../config/loader.ts';
import type { ClusterConfig } from '../cluster/config.ts';
import { ClusterDb } from '../cluster/postgres.ts';
import { ClusterService, type Evaluator } from '../cluster/service.ts';
import { localizeShared } from '../server/cluster-module.ts';
import { openStore } from '../store/index.ts';
import { startPostgres, type Postgres } from '../../test/postgres.ts';
import { waitFor } from '../../test/wait.ts';
import { memoOf } from './memory.ts';
import { scopeOwner } from './owner.ts';
import { seriesKey } from './types.ts';
import { LocalizeService, type LocalizeAgent } from './service.ts';
import { cdnWorld, roundsAt, type Fault, type WorldAgent } from './testkit.ts';

let pg: Postgres;
const dirs: string[] = [];
before(async () => { pg = await startPostgres(); });
after(async () => {
  await pg?.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const log = pino({ level: process.env.LOCALIZE_LOG ?? 'silent' });

/** The cluster's alert side is not under test here: series with no alerts (nothing routed). */
const noAlerts: Evaluator = { ownershipKey: () => undefined, write: () => {}, heldKeys: () => [], forget: () => {}, adopt: () => {} };

// 4 provinces × 3 ISPs × 2 agents (24), 2 IDCs × 3 VIPs: 144 series. Agents "-1" push to one server, "-2" to the other.
const world = cdnWorld({ provinces: 4, idcs: 2, vipsPerIdc: 3 });
const M = world.step * 1000;
const CELL = 'cdn/cell/mobile/beijing';

function configText(): string {
  const idcs = [...new Set(world.targets.map((t) => t.labels.idc!))];
  // The notifier is named only: notifications are taken where the service hands them to the alert channels.
  return `general: { step: ${world.step}, pings: ${world.pings} }
notifiers:
  hook: { type: webhook, url: "http://127.0.0.1:9/hook" }
targets:
  server_probes: false
  agents: none
  children:
    IDC:
      children:
${idcs.map((idc) => `        ${idc}:\n          children:\n${world.targets.filter((t) => t.labels.idc === idc).map((t) => `            ${t.path.split('/').pop()}: { host: ${t.host}, labels: { idc: ${idc}, vip: "${t.labels.vip}" } }`).join('\n')}`).join('\n')}
localize:
  scopes:
    - name: cdn
      targets: { paths: [/IDC/**] }
      roles: { vantage: [isp, province], destination: [idc], item: vip }
      to: hook
`;
}

interface Member {
  id: string;
  cluster: ClusterService;
  localize: LocalizeService;
  sent: { state: string; id: string }[];
  /** The agents pushing to this server (what its own agent list holds). */
  agents: WorldAgent[];
  close(): Promise<void>;
}

function member(id: string, agents: WorldAgent[], owns?: (scope: string) => boolean): Member {
  const dir = mkdtempSync(join(tmpdir(), 'smokemesh-localize-cluster-'));
  dirs.push(dir);
  const cfg: ClusterConfig = { coordination: pg.url, server_id: id, heartbeat_s: 0.3, dead_after_s: 1.2, stall_s: 30 };
  const cluster = new ClusterService({ cfg, url: `http://${id}`, db: new ClusterDb(pg.url), engine: noAlerts, log });
  const config = parseConfig(configText());
  const store = openStore(join(dir, 'store'), config.store);
  const db = openAlertDb(join(dir, 'alerts.sqlite'));
  const sent: Member['sent'] = [];
  const m: Member = {
    id, cluster, sent, agents,
    localize: new LocalizeService({
      config, store, db, tree: () => config.targets,
      agents: (): LocalizeAgent[] => m.agents,
      notify: (event: AlertEvent) => void sent.push({ state: event.state, id: event.target.path }),
      log, now: Date.now,
      owns: owns ?? ((scope) => scopeOwner(scope, cluster.liveServers()) === id),
      shared: localizeShared(cluster, cfg),
    }),
    close: async () => {
      await m.localize.handOver();
      m.localize.close();
      await cluster.close();
      store.close();
      db.close();
    },
  };
  return m;
}

/**
 * Feeds window `i` (its rounds to the server each agent pushes to), then runs the steps of its
 * end on every member as the server's timer would: the boundary (digests sent, the owner's
 * step scheduled), then the owner's step once the others' digests are in.
 */
async function window(members: Member[], pushTo: (agent: string) => Member, T: number, i: number, faults: Fault[]): Promise<void> {
  const byMember = new Map<Member, ReturnType<typeof roundsAt>>();
  for (const r of roundsAt(world, T + i * M, faults, i)) {
    const m = pushTo(r.agent);
    if (!byMember.has(m)) byMember.set(m, []);
    byMember.get(m)!.push(r);
  }
  for (const [m, rounds] of byMember) m.localize.write(rounds);
  const end = T + (i + 1) * M;
  for (const m of members) m.localize.tick(end);
  await Promise.all(members.map((m) => m.localize.settled()));
  for (const m of members) m.localize.tick(end + 10_000);
  await Promise.all(members.map((m) => m.localize.settled()));
}

/** Window-aligned start in the past (the store takes rounds of the recent past). */
const startOf = (windows: number) => (Math.floor(Date.now() / M) - windows - 5) * M;

test('a fault seen only by merging two servers\' rounds is raised once by the scope\'s owner; the owner stops, the other continues it without a second raise and clears it once', { timeout: 180_000 }, async () => {
  const one = world.agents.filter((a) => a.name.endsWith('-1'));
  const two = world.agents.filter((a) => a.name.endsWith('-2'));
  const members = [member('s1', one), member('s2', two)];
  try {
    for (const m of members) await m.cluster.start();
    await waitFor('both servers to see each other', () => members.every((m) => m.cluster.liveServers().length === 2), 30_000);
    const owner = members.find((m) => scopeOwner('cdn', ['s1', 's2']) === m.id)!;
    const other = members.find((m) => m !== owner)!;
    const T = startOf(30);
    for (const m of members) m.localize.tick(T);
    let pushTo = (agent: string) => (agent.endsWith('-1') ? members[0]! : members[1]!);
    const fault: Fault = { name: 'cell', from: T + 3 * M + 17_000, to: T + 12 * M + 17_000, match: (a) => a.labels.isp === 'mobile' && a.labels.province === 'beijing', loss: 100 };
    for (let i = 0; i < 8; i++) await window(members, pushTo, T, i, [fault]);
    // Each half alone would blame its own agent (src/localize/digest.test.ts); merged, it is the cell.
    assert.deepEqual(owner.sent, [{ state: 'raised', id: CELL }], JSON.stringify(owner.sent));
    assert.deepEqual(other.sent, []);
    const cell = owner.localize.list()[0]!.last!;
    assert.equal(cell.counts.series, world.pairs.length, 'the owner stepped over every series of the scope');
    assert.ok(owner.localize.sharedStats.digests_read > 0 && other.localize.sharedStats.digests_sent > 0);
    // The other server evaluates the target alerts of its own series: the shared cause explains them there too.
    const itsAgent = other.agents.find((a) => a.labels.isp === 'mobile' && a.labels.province === 'beijing')!.name;
    assert.equal(other.localize.explain('/IDC/idc1/vip1', itsAgent)?.id, CELL);
    assert.equal(other.localize.explain('/IDC/idc1/vip1', other.agents.find((a) => a.labels.isp === 'telecom')!.name), undefined);
    assert.ok(other.localize.holdMs('/IDC/idc1/vip1', itsAgent) > 0, 'its target alerts wait for the verdict');

    // The owner stops (a clean stop leaves the live set at once); its agents move to the other server.
    await owner.close();
    await waitFor('the other server alone in the live set', () => other.cluster.liveServers().join() === other.id, 30_000);
    pushTo = () => other;
    other.agents = world.agents;
    await window([other], pushTo, T, 8, [fault]);
    // It continued the owner's per-series memory too (baselines learned over the 8 windows before), not from nothing.
    const ownerAgent = owner.agents.find((a) => a.labels.isp === 'telecom')!.name;
    assert.ok((memoOf(other.localize.list()[0]!.last!.state.series, seriesKey('/IDC/idc2/vip1', ownerAgent))?.samples ?? 0) >= 8);
    for (let i = 9; i < 20; i++) await window([other], pushTo, T, i, [fault]);
    assert.deepEqual(other.sent, [{ state: 'cleared', id: CELL }], 'no second raise; the clear sent once');
    assert.deepEqual(owner.sent, [{ state: 'raised', id: CELL }]);
  } finally {
    for (const m of members) await m.close().catch(() => {});
  }
});

test('two servers that both step a scope at once (views of the live set disagree): each notification is sent once', { timeout: 180_000 }, async () => {
  // A fresh start: the first test's digests and causes are not this one's.
  const c = new pgDriver.Client({ connectionString: pg.url });
  await c.connect();
  await c.query('DELETE FROM smokemesh_localize_digests; DELETE FROM smokemesh_localize_state');
  await c.end();
  // Every server believes it owns the scope and receives every round.
  const members = [member('b1', world.agents, () => true), member('b2', world.agents, () => true)];
  try {
    for (const m of members) await m.cluster.start();
    await waitFor('both servers live', () => members.every((m) => m.cluster.liveServers().length === 2), 30_000);
    const T = startOf(30);
    for (const m of members) m.localize.tick(T);
    const fault: Fault = { name: 'idc', from: T + 2 * M + 17_000, to: T + 9 * M + 17_000, match: (_a, t) => t.labels.idc === 'idc2', loss: 100 };
    const both = (r: ReturnType<typeof roundsAt>[number]) => { for (const m of members) m.localize.write([r]); };
    for (let i = 0; i < 16; i++) {
      for (const r of roundsAt(world, T + i * M, [fault], i)) both(r);
      const end = T + (i + 1) * M;
      for (const m of members) m.localize.tick(end);
      // Both steps run at the same moment: both read the same version; one write stands.
      for (const m of members) m.localize.tick(end + 10_000);
      await Promise.all(members.map((m) => m.localize.settled()));
    }
    const all = members.flatMap((m) => m.sent);
    assert.deepEqual(all.filter((e) => e.state === 'raised'), [{ state: 'raised', id: 'cdn/destination/idc2' }], JSON.stringify(members.map((m) => m.sent)));
    assert.deepEqual(all.filter((e) => e.state === 'cleared'), [{ state: 'cleared', id: 'cdn/destination/idc2' }]);
    assert.ok(members.reduce((n, m) => n + m.localize.sharedStats.refused, 0) > 0, 'the fence refused the slower server\'s writes');
  } finally {
    for (const m of members) await m.close().catch(() => {});
  }
});
