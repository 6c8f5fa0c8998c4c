import { after, before, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import pino from 'pino';
import { makeRound, type Round } from '../probes/round.ts';
import { contractConfig } from '../store/store-contract.ts';
import { VmStore } from '../store/victoriametrics.ts';
import { startPostgres, type Postgres } from '../../test/postgres.ts';
import { startVictoria, type Victoria } from '../../test/victoria.ts';
import { waitFor } from '../../test/wait.ts';
import { seriesKey } from './hrw.ts';
import { LatestRounds } from '../plan/latest-rounds.ts';
import { IndexSync } from './index-sync.ts';
import { ClusterDb } from './postgres.ts';
import { ClusterService, type Evaluator } from './service.ts';

let pgs: Postgres;
let vm: Victoria;
before(async () => { [pgs, vm] = await Promise.all([startPostgres(), startVictoria()]); });
after(async () => { await Promise.all([pgs?.stop(), vm?.stop()]); });

const log = pino({ level: process.env.CLUSTER_LOG ?? 'silent' });
const now = Date.now();

/** A VM store in its own data dir (a server's), sending nothing by itself. */
function store(t: TestContext): VmStore {
  const dir = mkdtempSync(join(tmpdir(), 'sm-index-sync-'));
  const s = new VmStore(dir, { ...contractConfig, backend: 'victoriametrics', url: vm.url }, { timers: false });
  t.after(() => { s.close(); rmSync(dir, { recursive: true, force: true }); });
  return s;
}

function round(target: string, agent: string, ago: number, rtts: number[], sent = 5): Round {
  return makeRound({ target, agent, probe: 'icmp', time: now - ago, step: 60 }, { sent, rtts });
}

const byKey = (rs: Round[]) => [...rs].sort((a, b) => seriesKey(a.target, a.agent).localeCompare(seriesKey(b.target, b.agent)));

/** A fresh shared database for one test (the tables of another test's servers would be shared too). */
async function freshDb(t: TestContext): Promise<string> {
  const name = `t${Math.random().toString(36).slice(2, 10)}`;
  const admin = new pg.Client({ connectionString: pgs.url });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = pgs.url.replace(/\/postgres$/, `/${name}`);
  const db = new ClusterDb(url);
  await db.init();
  t.after(() => db.close());
  return url;
}

/** Two servers' stores, each with its index sync, over one fresh shared database. */
async function twoServers(t: TestContext) {
  const url = await freshDb(t);
  const a = store(t);
  const b = store(t);
  const dbA = new ClusterDb(url);
  const dbB = new ClusterDb(url);
  t.after(() => Promise.all([dbA.close(), dbB.close()]));
  const syncA = new IndexSync({ db: dbA, store: a, server: 'a', intervalMs: 1000, log });
  const syncB = new IndexSync({ db: dbB, store: b, server: 'b', intervalMs: 1000, log });
  return { url, a, b, dbA, dbB, syncA, syncB };
}

test('two servers: rounds received only by A are listed by B after a sync, with the same latest rounds, top-N and graphs; changes flow both ways; a recreated shared table is filled again', { timeout: 120_000 }, async (t) => {
  const { url, a, b, dbA, dbB, syncA, syncB } = await twoServers(t);

  a.write([
    ...Array.from({ length: 10 }, (_, i) => round('/dc/r1', 'x', (10 - i) * 60_000, [10 + i, 12 + i, 30], 5)),
    round('/dc/r2', 'x', 90_000, [], 4),
    round('/dc/r2', 'y', 30_000, [50, 51, 52, 53], 4),
  ]);
  await a.flush();
  await vm.forceFlush();
  assert.deepEqual(b.list(), []);
  await syncA.sync();
  await syncB.sync();
  assert.equal(syncA.stats.pushed, 3);
  assert.equal(syncB.stats.pulled, 3);
  assert.deepEqual(b.list(), a.list());
  assert.deepEqual(byKey(b.latest()), byKey(a.latest()));
  for (const m of ['loss', 'median', 'max', 'stddev'] as const) assert.deepEqual(b.top(m, 10), a.top(m, 10), `top by ${m}`);
  assert.equal(b.top('loss', 10)[0]!.target, '/dc/r2');
  // The overview's rows (small graphs of every series of the targets) are the same on both.
  const overview = { targets: ['/dc/r1', '/dc/r2'], from: now - 3_600_000, to: now, points: 60, levels: [0.5] };
  assert.equal(b.summaries(overview).length, 3);
  assert.deepEqual(b.summaries(overview), a.summaries(overview));
  // B knows the series now, so it reads their graphs from VM too.
  assert.deepEqual(b.series({ target: '/dc/r1', agent: 'x', from: now - 3_600_000, to: now }).points.map((p) => p.median),
    a.series({ target: '/dc/r1', agent: 'x', from: now - 3_600_000, to: now }).points.map((p) => p.median));

  // The agent y moved to B: its newer round and a new series reach A; an older round B got changes nothing.
  b.write([round('/dc/r2', 'y', 10_000, [60], 4), round('/dc/r3', 'y', 20_000, [5, 6], 2), round('/dc/r1', 'x', 5 * 60_000, [99], 5)]);
  await syncB.sync();
  await syncA.sync();
  assert.deepEqual(a.list(), b.list());
  assert.deepEqual(byKey(a.latest()), byKey(b.latest()));
  assert.equal(a.latest().find((r) => r.target === '/dc/r2' && r.agent === 'y')!.median, 60);
  assert.equal(a.latest().find((r) => r.target === '/dc/r1' && r.agent === 'x')!.time, now - 60_000, 'an older round does not replace the latest');
  assert.equal(a.list().length, 4);

  // Nothing changed: a sync moves nothing (the cursors are kept with the index).
  const before = { ...syncA.stats };
  await syncA.sync();
  assert.equal(syncA.stats.pushed, before.pushed);
  assert.equal(syncA.stats.pulled, before.pulled);

  // The shared table is lost and recreated: each server shares again what it received; a new server gets it all.
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query('DROP TABLE smokemesh_series, smokemesh_series_epoch, smokemesh_schema; DROP SEQUENCE smokemesh_series_seq');
  await admin.end();
  await dbA.init();
  await syncA.sync();
  await syncB.sync();
  const c = store(t);
  const syncC = new IndexSync({ db: dbB, store: c, server: 'c', intervalMs: 1000, log });
  await syncC.sync();
  assert.deepEqual(c.list(), a.list());
  assert.deepEqual(byKey(c.latest()), byKey(a.latest()));
});

test('the rounds of rows merged from other servers are told to the store\'s listeners: a region view\'s latest rounds on B hold A\'s rounds as A received them, newer ones winning', { timeout: 120_000 }, async (t) => {
  const { a, b, syncA, syncB } = await twoServers(t);
  // B's region view: its own rounds, and what the shared index brings.
  const onB = new LatestRounds();
  const told: number[] = [];
  b.onIndexMerged((rounds) => { told.push(rounds.length); onB.add(rounds, Date.now()); });
  b.write([round('/m/r2/q', 'p', 40_000, [7, 8], 2)]);
  onB.add(b.latest(), Date.now());

  const fromA: Round[] = [
    { ...round('/m/r1/x', 'y', 30_000, [20, 21, 25], 4), error: 'one lost' },
    round('/m/r1/z', 'y', 20_000, [], 3),
    { ...round('/m/r1/x', 'w', 10_000, [1.5], 1), probe: 'tcp' as const },
  ];
  a.write([round('/m/r1/x', 'y', 90_000, [90], 1), ...fromA]);
  await syncA.sync();
  await syncB.sync();
  assert.ok(told.reduce((n, x) => n + x, 0) >= 3, `B's listener told A's rows (${told.join(', ')})`);
  const key = (r: Round) => seriesKey(r.target, r.agent);
  const held = new Map([...onB.values()].map((r) => [key(r), r]));
  assert.equal(held.size, 4, 'A\'s three series and B\'s own');
  for (const r of fromA) assert.deepEqual(held.get(key(r)), r, `${key(r)}: the whole round (median, loss, time, probe, error) as A received it`);

  // B receives a newer round of one of A's series; A's older one, shared again, does not replace it.
  const newer = round('/m/r1/z', 'y', 5_000, [3, 4, 5], 3);
  b.write([newer]);
  onB.add([newer], Date.now());
  a.write([round('/m/r1/z', 'y', 15_000, [9], 3)]);
  await syncA.sync();
  await syncB.sync();
  assert.deepEqual([...onB.values()].find((r) => key(r) === key(newer)), newer);
  // A listener that throws does not stop the sync or the other listeners.
  b.onIndexMerged(() => { throw new Error('boom'); });
  const later = round('/m/r1/x', 'y', 1_000, [30], 1);
  a.write([later]);
  await syncA.sync();
  await syncB.sync();
  assert.deepEqual([...onB.values()].find((r) => key(r) === key(later)), later);
  assert.deepEqual(b.latest().find((r) => key(r) === key(later)), later);
});

/** The engine's side, holding nothing (these targets have no alerts). */
const noEngine: Evaluator = { ownershipKey: () => undefined, write() {}, heldKeys: () => [], forget() {}, adopt() {} };

test('two cluster services with the index sync: a series received by one server is listed by the other within two heartbeats, and GET /api/v1/cluster counts it', { timeout: 120_000 }, async (t) => {
  const url = await freshDb(t);
  const stores = [store(t), store(t)] as const;
  const members = stores.map((s, i) => {
    const db = new ClusterDb(url);
    const id = `s${i + 1}`;
    const index = new IndexSync({ db, store: s, server: id, intervalMs: 300, log });
    return new ClusterService({ cfg: { coordination: url, server_id: id, heartbeat_s: 0.3, dead_after_s: 1.2, stall_s: 30 }, url: `http://${id}`, db, engine: noEngine, log, index });
  });
  for (const m of members) await m.start();
  t.after(() => Promise.all(members.map((m) => m.close())));
  stores[0].write([round('/x/y', 'a1', 30_000, [7, 8, 9])]);
  await waitFor('s2 to list the series s1 received', () => stores[1].list().length === 1, 30_000);
  assert.deepEqual(stores[1].latest(), stores[0].latest());
  assert.equal(members[1]!.status().index!.pulled, 1);
  assert.equal(members[0]!.status().index!.pushed, 1);
});
