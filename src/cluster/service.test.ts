import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { openAlertDb } from '../alerts/db.ts';
import type { ActiveRow } from '../alerts/db.ts';
import type { Prepared } from '../alerts/outbox.ts';
import { makeRound, type Round } from '../probes/round.ts';
import { startPostgres, type Postgres } from '../../test/postgres.ts';
import { waitFor } from '../../test/wait.ts';
import type { ClusterConfig } from './config.ts';
import { seriesKey, seriesOwner } from './hrw.ts';
import { ClusterDb } from './postgres.ts';
import { ClusterService, type Evaluator, type LocalSilences } from './service.ts';

let pg: Postgres;
before(async () => { pg = await startPostgres(); });
after(async () => { await pg?.stop(); });

const log = pino({ level: process.env.CLUSTER_LOG ?? 'silent' });

/** The engine's side as the cluster sees it, recording what it is given. */
class Recorder implements Evaluator {
  rounds: Round[] = [];
  held = new Set<string>();
  adopted: ActiveRow[] = [];
  ownershipKey(target: string, agent: string): string { return seriesKey(target, agent); }
  write(rounds: readonly Round[]): void {
    this.rounds.push(...rounds);
    for (const r of rounds) this.held.add(seriesKey(r.target, r.agent));
  }
  heldKeys(): string[] { return [...this.held]; }
  forget(keys: Iterable<string>): void { for (const k of keys) this.held.delete(k); }
  adopt(rows: readonly ActiveRow[]): void {
    this.adopted.push(...rows);
    for (const r of rows) this.held.add(seriesKey(r.target, r.agent));
  }
}

const cfg = (id: string): ClusterConfig => ({ coordination: pg.url, server_id: id, heartbeat_s: 0.3, dead_after_s: 1.2, stall_s: 30 });
const t0 = Date.now() - 60_000;
const round = (target: string, agent: string, i: number) => makeRound({ target, agent, probe: 'tcp', time: t0 + i * 1000, step: 1 }, { sent: 1, rtts: [1] });
const series = Array.from({ length: 40 }, (_, i) => ({ target: `/t${i}`, agent: `a${i % 8}` }));

test('two servers on one database: every round is evaluated once, by its owner, whichever server received it; a dead server\'s series and alert state move to the survivor', { timeout: 120_000 }, async () => {
  const members = ['s1', 's2'].map((id) => {
    const engine = new Recorder();
    const db = new ClusterDb(pg.url);
    return { id, engine, db, service: new ClusterService({ cfg: cfg(id), url: `http://${id}`, db, engine, log }) };
  });
  for (const m of members) await m.service.start();
  await waitFor('both servers to see each other', () => members.every((m) => m.service.liveServers().length === 2), 30_000);

  // Each server receives every other round of every series.
  const sent: Round[] = [];
  for (let i = 0; i < 4; i++) {
    const batch = series.map((s) => round(s.target, s.agent, i));
    sent.push(...batch);
    members[i % 2]!.service.write(batch);
  }
  await waitFor('every round to reach its evaluator', () => members.reduce((n, m) => n + m.engine.rounds.length, 0) === sent.length, 30_000);
  for (const m of members) {
    for (const r of m.engine.rounds) assert.equal(seriesOwner(seriesKey(r.target, r.agent), ['s1', 's2']), m.id, 'a round is evaluated by its owner');
  }
  const seen = new Set(members.flatMap((m) => m.engine.rounds.map((r) => `${r.target}|${r.agent}|${r.time}`)));
  assert.equal(seen.size, sent.length, 'no round evaluated twice');

  // s2's alert state is in the shared database.
  const s2series = series.filter((s) => seriesOwner(seriesKey(s.target, s.agent), ['s1', 's2']) === 's2');
  assert.ok(s2series.length > 0);
  const raised = { target: s2series[0]!.target, agent: s2series[0]!.agent, alert: 'loss', prevmatch: 3, since: t0 };
  members[1]!.service.fence([raised], [], () => {});
  await waitFor('the counter in the shared database', async () => (await members[0]!.db.loadState()).filter((x) => x.prevmatch !== 0).length === 1, 10_000);
  // s2 stops (a clean stop leaves the live set at once; kill -9 is test/cluster.test.ts's).
  await members[1]!.service.close();
  await waitFor('s1 alone in the live set', () => members[0]!.service.liveServers().join() === 's1', 30_000);
  assert.deepEqual(members[0]!.engine.adopted, [raised], 's1 continues the dead server\'s alert state');
  const before = members[0]!.engine.rounds.length;
  members[0]!.service.write(s2series.map((s) => round(s.target, s.agent, 10)));
  assert.equal(members[0]!.engine.rounds.length, before + s2series.length, 'the dead server\'s series are evaluated by the survivor');
  await members[0]!.service.close();
});

test('rounds relayed to a server that died before taking them are taken by a live one', { timeout: 60_000 }, async () => {
  const db = new ClusterDb(pg.url);
  await db.init();
  // A dead server's unread rounds (it never came back).
  await db.relay([{ owner: 'gone', round: round('/x', 'a0', 1) }, { owner: 'gone', round: round('/x', 'a0', 2) }]);
  const engine = new Recorder();
  const service = new ClusterService({ cfg: cfg('s9'), url: 'http://s9', db: new ClusterDb(pg.url), engine, log });
  await service.start();
  await waitFor('the dead server\'s relayed rounds evaluated', () => engine.rounds.length === 2, 30_000);
  assert.deepEqual(engine.rounds.map((r) => r.time), [t0 + 1000, t0 + 2000], 'in order');
  await service.close();
  await db.close();
});

test('a silence made on one server mutes on the others: shared through the database, and so is its deletion', { timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sm-cluster-silences-'));
  const members = ['p1', 'p2'].map((id) => {
    const db = openAlertDb(join(dir, `${id}.sqlite`), () => {});
    let refreshed = 0;
    const silences: LocalSilences = { list: () => db.silences(), save: (s) => db.saveSilence(s), remove: (x) => void db.deleteSilence(x), changed: () => { refreshed++; } };
    const service = new ClusterService({ cfg: cfg(id), url: `http://${id}`, db: new ClusterDb(pg.url), engine: new Recorder(), log, silences });
    return { db, service, refreshed: () => refreshed };
  });
  try {
    for (const m of members) await m.service.start();
    const s = { id: 'sil-1', created: Date.now(), starts: Date.now(), ends: Date.now() + 3_600_000, comment: 'maintenance', target: '/dc1/**' };
    members[0]!.db.saveSilence(s);
    members[0]!.service.shareSilence({ saved: s });
    await waitFor('the silence on the other server', () => members[1]!.db.silences().some((x) => x.id === 'sil-1'), 30_000);
    assert.deepEqual(members[1]!.db.silences(), [s]);
    assert.ok(members[1]!.refreshed() > 0, 'its engine was told');
    members[0]!.db.deleteSilence('sil-1');
    members[0]!.service.shareSilence({ deleted: 'sil-1' });
    await waitFor('the deletion on the other server', () => members[1]!.db.silences().length === 0, 30_000);
  } finally {
    for (const m of members) {
      await m.service.close();
      m.db.close();
    }
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the fence on a real PostgreSQL: of two servers writing one series from the same version, exactly one stands; a server not live is refused; a cleared row keeps its version', { timeout: 60_000 }, async () => {
  const a = new ClusterDb(pg.url);
  const b = new ClusterDb(pg.url);
  try {
    await a.init();
    await a.beat('f1', 'http://f1');
    await b.beat('f2', 'http://f2');
    const w = (expected: number, prevmatch = 1) => [{ target: '/fence', agent: 'a1', alert: 'lossy', prevmatch, since: t0, expected }];
    // At the same moment, many times over: the conditional upsert settles the insert race too.
    for (let i = 0; i < 20; i++) {
      const target = `/race${i}`;
      const one = (db: ClusterDb, s: string) => db.fencedWrite(s, 60_000, [{ ...w(0)[0]!, target }]);
      const [ra, rb] = await Promise.all([one(a, 'f1'), one(b, 'f2')]);
      assert.equal(ra.accepted.length + rb.accepted.length, 1, `${target}: one of the two stands`);
      assert.equal(ra.refused.length + rb.refused.length, 1);
      const [row] = await a.loadState([{ target, agent: 'a1' }]);
      assert.equal(row!.version, 1);
      assert.equal(row!.owner, ra.accepted.length ? 'f1' : 'f2');
    }
    assert.equal((await a.fencedWrite('f1', 60_000, w(0))).accepted.length, 1);
    const stale = await b.fencedWrite('f2', 60_000, w(0));
    assert.deepEqual(stale.refused.map((x) => [x.why, x.current?.version, x.current?.owner]), [['stale', 1, 'f1']]);
    assert.equal((await b.fencedWrite('f2', 60_000, w(1, 0))).accepted[0]?.version, 2, 'cleared on the version read back');
    const [cleared] = await a.loadState([{ target: '/fence', agent: 'a1' }]);
    assert.deepEqual([cleared!.prevmatch, cleared!.version, cleared!.owner], [0, 2, 'f2'], 'the cleared row stays with its version');
    assert.deepEqual((await a.fencedWrite('nobody', 60_000, w(2))).refused.map((x) => x.why), ['not-live'], 'a server without a heartbeat');
    await new Promise((r) => setTimeout(r, 30));
    assert.deepEqual((await a.fencedWrite('f1', 1, w(2))).refused.map((x) => x.why), ['not-live'], 'a heartbeat older than dead_after');
  } finally {
    await a.leave('f1');
    await b.leave('f2');
    await a.close();
    await b.close();
  }
});

test('two servers that both evaluate one series (views disagree): one notification stands, the other server drops its own and takes the winner\'s state', { timeout: 60_000 }, async () => {
  const members = ['g1', 'g2'].map((id) => {
    const engine = new Recorder();
    const db = new ClusterDb(pg.url);
    return { id, engine, db, service: new ClusterService({ cfg: { ...cfg(id), heartbeat_s: 0.5, dead_after_s: 30 }, url: `http://${id}`, db, engine, log }) };
  });
  try {
    for (const m of members) await m.service.start();
    await waitFor('both servers live', () => members.every((m) => m.service.liveServers().join() === 'g1,g2'), 30_000);
    const raised: ActiveRow = { target: '/both', agent: 'a1', alert: 'lossy', prevmatch: 1, since: t0 };
    const note = { key: '/both\u0000a1\u0000lossy', event: { state: 'raised' } } as unknown as Prepared;
    const other = { key: '/other\u0000a1\u0000lossy', event: { state: 'firing' } } as unknown as Prepared;
    const standing = await Promise.all(members.map((m) => new Promise<Prepared[]>((res) => m.service.fence([raised], [note, other], res))));
    assert.deepEqual(standing.map((s) => s.map((p) => p.key.split('\u0000')[0])).sort(), [['/both', '/other'], ['/other']],
      'the raise stands on one server only; a notification without a state change is not fenced');
    const loser = members[standing.findIndex((s) => s.length === 1)]!;
    const owner = seriesOwner(seriesKey('/both', 'a1'), ['g1', 'g2']);
    // (Rows of the earlier tests share the database: only /both's are looked at.)
    const adopted = loser.engine.adopted.filter((r) => r.target === '/both').map((r) => [r.target, r.prevmatch]);
    if (loser.id === owner) assert.deepEqual(adopted, [['/both', 1]], 'the owner took the winner\'s state');
    else assert.deepEqual(adopted, [], 'not the owner: nothing kept');
    assert.deepEqual(members.map((m) => m.service.status().fence.refused).sort(), [0, 1]);
    // The loser's next change, computed from the state it read back, stands.
    if (loser.id === owner) {
      const next = await new Promise<Prepared[]>((res) => loser.service.fence([{ ...raised, prevmatch: 0 }], [{ ...note, event: { state: 'cleared' } } as unknown as Prepared], res));
      assert.equal(next.length, 1, 'the clear on the version read back stands');
    }
  } finally {
    for (const m of members) await m.service.close();
  }
});

test('init on a database that has this schema runs no DDL (a busy table is not locked); a database that lost its tables gets them back', { timeout: 60_000 }, async () => {
  const { default: driver } = await import('pg');
  const db = new ClusterDb(pg.url);
  await db.init();
  const other = new driver.Client({ connectionString: pg.url });
  await other.connect();
  try {
    // A fenced write in progress holds its table; ALTER TABLE (even one that changes nothing) would wait for it.
    await other.query('BEGIN');
    await other.query('LOCK TABLE smokemesh_alert_state IN ROW EXCLUSIVE MODE');
    const again = new ClusterDb(pg.url, { queryTimeoutMs: 20_000 });
    await again.init();
    await again.close();
    await other.query('COMMIT');
    // The database lost everything: the next init creates it all again.
    const tables = (await other.query(`SELECT tablename FROM pg_tables WHERE tablename LIKE 'smokemesh\\_%'`)).rows.map((r: { tablename: string }) => r.tablename);
    assert.ok(tables.includes('smokemesh_schema') && tables.includes('smokemesh_alert_state'), tables.join());
    await other.query(`DROP TABLE ${tables.join(', ')}`);
    await db.init();
    const back = (await other.query(`SELECT tablename FROM pg_tables WHERE tablename LIKE 'smokemesh\\_%'`)).rows.map((r: { tablename: string }) => r.tablename);
    assert.deepEqual(back.sort(), tables.sort());
    await db.beat('z1', 'http://z1');
  } finally {
    await other.end();
    await db.close();
  }
});
