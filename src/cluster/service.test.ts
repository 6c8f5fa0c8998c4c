import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { openAlertDb } from '../alerts/db.ts';
import type { ActiveRow } from '../alerts/db.ts';
import { makeRound, type Round } from '../probes/round.ts';
import { startPostgres, type Postgres } from '../../test/postgres.ts';
import { waitFor } from '../../test/wait.ts';
import type { ClusterConfig } from './config.ts';
import { ownerOf, seriesKey } from './hrw.ts';
import { ClusterDb } from './postgres.ts';
import { ClusterService, type Evaluator, type LocalSilences } from './service.ts';

let pg: Postgres;
before(async () => { pg = await startPostgres(); });
after(async () => { await pg?.stop(); });

const log = pino({ level: 'silent' });

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

const cfg = (id: string): ClusterConfig => ({ coordination: pg.url, server_id: id, heartbeat_s: 0.3, dead_after_s: 1.2 });
const t0 = Date.now() - 60_000;
const round = (target: string, agent: string, i: number) => makeRound({ target, agent, probe: 'tcp', time: t0 + i * 1000, step: 1 }, { sent: 1, rtts: [1] });
const series = Array.from({ length: 40 }, (_, i) => ({ target: `/t${i}`, agent: `a${i % 3}` }));

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
    for (const r of m.engine.rounds) assert.equal(ownerOf(seriesKey(r.target, r.agent), ['s1', 's2']), m.id, 'a round is evaluated by its owner');
  }
  const seen = new Set(members.flatMap((m) => m.engine.rounds.map((r) => `${r.target}|${r.agent}|${r.time}`)));
  assert.equal(seen.size, sent.length, 'no round evaluated twice');

  // s2's alert state is in the shared database.
  const s2series = series.filter((s) => ownerOf(seriesKey(s.target, s.agent), ['s1', 's2']) === 's2');
  assert.ok(s2series.length > 0);
  const raised = { target: s2series[0]!.target, agent: s2series[0]!.agent, alert: 'loss', prevmatch: 3, since: t0 };
  members[1]!.service.saveCounters([raised]);
  await waitFor('the counter in the shared database', async () => (await members[0]!.db.loadCounters()).length === 1, 10_000);
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
