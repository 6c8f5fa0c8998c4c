import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AlertEvent } from '../src/alerts/notifiers/notifier.ts';
import { scopeOwner } from '../src/localize/owner.ts';
import { cdnWorld, type Fault } from '../src/localize/testkit.ts';
import type { LocalizeModule } from '../src/server/localize-module.ts';
import { startSim, type SimServer } from './localize-sim.ts';
import { startPostgres } from './postgres.ts';
import { startVictoria } from './victoria.ts';
import { waitFor } from './wait.ts';

interface ClusterStatus { live: string[]; rounds: { evaluated: number } }
const status = async (s: SimServer) => (await (await fetch(`${s.server.url}/api/v1/cluster`)).json()) as ClusterStatus;

/**
 * Two real servers (in this process, each with its store on one VictoriaMetrics, its cluster
 * part on one PostgreSQL, its alert engine and webhook deliveries to a local receiver) on one
 * simulated timeline, fed through their ingest: the agents "-1" push to s1, "-2" to s2. One ISP
 * in one province loses every ping. Checked: one `raised` for the cell cause (alone, each
 * server would have blamed its own agent), none of the cell's 12 target alerts' raises sent by
 * either server (the cause suppresses them wherever their series are evaluated); the scope's
 * owner stops, its agents move to the other server, which sends the `cleared` once and no second
 * `raised`.
 */
test('two servers, one localization scope: one cause from both halves, target alerts suppressed on both, carried over when the owner stops', { timeout: 600_000 }, async (t) => {
  const vm = await startVictoria();
  const pg = await startPostgres();
  const world = cdnWorld({ provinces: 4, idcs: 2, vipsPerIdc: 3 });
  const stepMs = world.step * 1000;
  const WINDOWS = 22;
  const T = (Math.floor(Date.now() / stepMs) - WINDOWS - 5) * stepMs;
  const sims: SimServer[] = [];
  const closed = new Set<SimServer>();
  t.after(async () => {
    for (const s of sims) if (!closed.has(s)) await s.close().catch(() => {});
    await pg.stop();
    await vm.stop();
  });
  for (const id of ['s1', 's2']) {
    sims.push(await startSim({
      world, localize: true,
      store: `{ backend: victoriametrics, url: "${vm.url}" }`,
      extra: `cluster: { coordination: "${pg.url}", server_id: ${id}, heartbeat_s: 0.5, dead_after_s: 3 }\n`,
    }, WINDOWS, T));
  }
  await waitFor('both servers live and taking their series', async () => (await Promise.all(sims.map(status))).every((s) => s.live.length === 2), 120_000);
  // A server that has just joined parks its rounds for two heartbeats: let that pass.
  await new Promise((r) => setTimeout(r, 1500));
  const owner = sims[['s1', 's2'].indexOf(scopeOwner('cdn', ['s1', 's2'])!)]!;
  const other = sims.find((s) => s !== owner)!;
  const localize = (s: SimServer) => s.server.modules.find((m) => m.name === 'localize') as LocalizeModule;
  const fault: Fault = { name: 'cell', from: T + 3 * stepMs + 17_000, to: T + 11 * stepMs + 17_000, match: (a) => a.labels.isp === 'mobile' && a.labels.province === 'beijing', loss: 100 };
  let fed = 0;
  let live = [...sims];
  const pushTo = new Map<SimServer, (agent: string) => boolean>([[sims[0]!, (a) => a.endsWith('-1')], [sims[1]!, (a) => a.endsWith('-2')]]);

  /** One window: each server ingests its agents' rounds, every round reaches its evaluator, then the steps of the window's end run. */
  async function window(i: number): Promise<void> {
    for (const s of live) await s.step(i, [fault], pushTo.get(s));
    fed += world.pairs.length;
    await waitFor(`window ${i}: every round evaluated by its owner`, async () => (await Promise.all(live.map(status))).reduce((n, s) => n + s.rounds.evaluated, 0) >= fed, 60_000);
    for (const s of live) await localize(s).service.settled();
    for (const s of live) localize(s).tick(T + (i + 1) * stepMs + 10_000);
    for (const s of live) await localize(s).service.settled();
  }
  const received = () => {
    const byId = new Map<string, AlertEvent>();
    for (const s of sims) for (const r of s.rx.requests) if (r.url === '/hook') byId.set((JSON.parse(r.body) as AlertEvent).id, JSON.parse(r.body) as AlertEvent);
    return [...byId.values()].sort((a, b) => a.time - b.time);
  };
  const causeEvents = () => received().filter((e) => e.cause).map((e) => `${e.state} ${e.cause!.id}`);

  for (let i = 0; i < 9; i++) await window(i);
  await waitFor('the cause\'s notification', () => causeEvents().length > 0, 60_000);
  assert.deepEqual(causeEvents(), ['raised cdn/cell/mobile/beijing']);
  assert.equal(localize(owner).service.list()[0]!.last!.counts.series, world.pairs.length, 'the owner judged every series of the scope');

  // The owner stops; its agents push to the other server from now on.
  await owner.close();
  closed.add(owner);
  live = [other];
  pushTo.set(other, () => true);
  await waitFor('the other server alone', async () => (await status(other)).live.length === 1, 60_000);
  fed = (await status(other)).rounds.evaluated;
  for (let i = 9; i < WINDOWS; i++) await window(i);
  await waitFor('the clear', () => causeEvents().length >= 2, 60_000);
  await waitFor('no delivery pending or held', async () => {
    const p = (await (await fetch(`${other.server.url}/api/v1/alerts/deliveries?status=pending`)).json()) as unknown[];
    const h = (await (await fetch(`${other.server.url}/api/v1/alerts/deliveries?status=held`)).json()) as unknown[];
    return p.length === 0 && h.length === 0;
  }, 60_000);
  assert.deepEqual(causeEvents(), ['raised cdn/cell/mobile/beijing', 'cleared cdn/cell/mobile/beijing']);
  // Not the target alerts' clears: a clear is suppressed like the raise it follows only where that
  // raise was judged (the engine keeps that per server); a series whose alert state moved with the
  // stopped server is judged again by the cause, and may clear after it (docs/localize.md).
  const targetRaised = received().filter((e) => !e.cause && e.state === 'raised');
  assert.deepEqual(targetRaised.map((e) => `${e.target.path} ${e.agent}`), [], 'every target alert of the cell was suppressed, on both servers');
  // They were raised (and suppressed by the cause, on both servers), not absent.
  const cell = (e: { agent: string }) => e.agent.startsWith('mobile-beijing-');
  const rows = (await (await fetch(`${other.server.url}/api/v1/alerts/history?limit=1000`)).json()) as { target: string; agent: string; state: string; alert: string }[];
  assert.equal(rows.filter((e) => cell(e) && e.state === 'raised' && e.alert === 'lossy').length, 12);
});
