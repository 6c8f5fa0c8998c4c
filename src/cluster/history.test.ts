import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openAlertDb, type AlertDb } from '../alerts/db.ts';
import { sampleEvent } from '../alerts/notifiers/receiver.testkit.ts';
import { startPostgres, type Postgres } from '../../test/postgres.ts';
import { LocalHistory } from './history.ts';
import { ClusterDb } from './postgres.ts';

let pg: Postgres;
let dir: string;
before(async () => {
  pg = await startPostgres();
  dir = mkdtempSync(join(tmpdir(), 'sm-cluster-history-'));
});
after(async () => {
  await pg?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const channel = [{ name: 'hook', kind: 'webhook' }];

/** Copies everything `local` recorded since the last copy, as the service does every second. */
async function copy(db: ClusterDb, server: string, local: LocalHistory): Promise<void> {
  for (let more = true; more;) {
    const page = local.changes(2);
    await db.copyHistory(server, page.changes);
    page.advance();
    more = page.more;
  }
}

test('two servers\' alert databases copied to the shared one: the history and deliveries of both are read with the same filters as one file\'s, and a delivery\'s later attempts replace its copy', { timeout: 60_000 }, async () => {
  const shared = new ClusterDb(pg.url);
  const local: { id: string; db: AlertDb; history: LocalHistory }[] = ['h1', 'h2'].map((id) => {
    const db = openAlertDb(join(dir, `${id}.sqlite`), () => {});
    return { id, db, history: new LocalHistory(join(dir, `${id}.sqlite`)) };
  });
  try {
    await shared.init();
    const [a, b] = local as [typeof local[0], typeof local[0]];
    const raised = sampleEvent({ id: 'e-raise', time: 1000, target: { ...sampleEvent().target, path: '/dc1/r1' } });
    const cleared = sampleEvent({ id: 'e-clear', state: 'cleared', time: 5000, target: { ...sampleEvent().target, path: '/dc1/r1' } });
    const other = sampleEvent({ id: 'e-other', time: 3000, agent: 'agent-b', target: { ...sampleEvent().target, path: '/dc2/r9' }, alert: { ...sampleEvent().alert, type: 'rtt', name: 'slow' } });
    // s1 sent the raise (then died, say); s2 sent the clear and another alert.
    const [ra] = a.db.recordEvents([{ event: raised, mutedBy: null, channels: channel, status: 'pending' }]);
    a.db.recordAttempt(ra![0]!, 1, 'retry', 12, 'connection refused');
    b.db.recordEvents([{ event: cleared, mutedBy: null, channels: channel, status: 'pending' }, { event: other, mutedBy: 'sil-1', channels: channel, status: 'silenced' }]);
    for (const x of local) await copy(shared, x.id, x.history);
    a.db.recordAttempt(ra![0]!, 2, 'sent', 8, null);
    await copy(shared, a.id, a.history);
    for (const x of local) {
      const own = x.db.events({ limit: 10 }).map((e) => e.id);
      assert.ok(own.length < 3, `${x.id}'s own file has only its own events`);
    }

    const ids = async (q: Parameters<ClusterDb['events']>[0]) => (await shared.events(q)).rows.map((e) => e.id);
    assert.deepEqual(await ids({ limit: 10 }), ['e-clear', 'e-other', 'e-raise'], 'every server\'s events, newest first');
    assert.deepEqual(await ids({ limit: 10, target: '/dc1' }), ['e-clear', 'e-raise'], 'a target and what is under it');
    assert.deepEqual(await ids({ limit: 10, target: '/dc1/r' }), [], 'not a prefix of a segment');
    assert.deepEqual(await ids({ limit: 10, state: 'raised' }), ['e-other', 'e-raise']);
    assert.deepEqual(await ids({ limit: 10, muted_by: 'sil-1' }), ['e-other']);
    assert.deepEqual(await ids({ limit: 10, type: 'rtt' }), ['e-other']);
    assert.deepEqual(await ids({ limit: 10, before: 5000, from: 2000 }), ['e-other']);
    assert.deepEqual(await ids({ limit: 1, offset: 1 }), ['e-other']);
    assert.equal((await shared.events({ limit: 1 })).total, 3);
    const [first] = (await shared.events({ limit: 10, state: 'cleared' })).rows;
    assert.deepEqual(first!.event, cleared, 'the event as sent');

    const deliveries = await shared.deliveries({ limit: 10 });
    assert.equal(deliveries.total, 3);
    const d = (await shared.deliveries({ limit: 10, target: '/dc1', status: 'sent' })).rows;
    assert.equal(d.length, 1, 'the raise\'s delivery, sent at its second attempt');
    assert.deepEqual(d[0]!.attempt_log.map((x) => [x.attempt, x.outcome, x.delivery_id]), [[1, 'retry', d[0]!.id], [2, 'sent', d[0]!.id]]);
    assert.deepEqual(d[0]!.event, { alert: 'someloss', state: 'raised', target: '/dc1/r1', agent: 'agent-a', time: 1000 });
    assert.deepEqual((await shared.deliveries({ limit: 10, event: 'e-other' })).rows.map((x) => x.status), ['silenced']);
    // Copying again changes nothing (a restarted server copies its file from the start).
    await copy(shared, a.id, new LocalHistory(join(dir, 'h1.sqlite')));
    assert.equal((await shared.deliveries({ limit: 10 })).total, 3);
  } finally {
    for (const x of local) {
      x.history.close();
      x.db.close();
    }
    await shared.close();
  }
});

test('a NUL in an event, a delivery error or a relayed round does not block the copy: PostgreSQL gets U+FFFD, the rest as sent', { timeout: 60_000 }, async () => {
  const shared = new ClusterDb(pg.url);
  const db = openAlertDb(join(dir, 'nul.sqlite'), () => {});
  const history = new LocalHistory(join(dir, 'nul.sqlite'));
  try {
    await shared.init();
    const ev = sampleEvent({ id: 'e-nul' });
    const [ids] = db.recordEvents([{ event: { ...ev, alert: { ...ev.alert, comment: 'loss\u0000here' } }, mutedBy: null, channels: channel, status: 'pending' }]);
    db.recordAttempt(ids![0]!, 1, 'retry', 5, 'HTTP 500: \u0000\u0000');
    await copy(shared, 'nul', history);
    const [row] = (await shared.events({ limit: 10, target: ev.target.path })).rows.filter((e) => e.id === 'e-nul');
    assert.equal(row?.event.alert.comment, 'loss\ufffdhere');
    const [d] = (await shared.deliveries({ limit: 10, event: 'e-nul' })).rows;
    assert.equal(d?.last_error, 'HTTP 500: \ufffd\ufffd');
    assert.equal(d?.attempt_log[0]?.error, 'HTTP 500: \ufffd\ufffd');
    const round = { target: '/nul', agent: 'a', probe: 'http', time: 1000, step: 60, sent: 1, rtts: [], median: null, error: 'reset\u0000' };
    await shared.relay([{ owner: 's1', round: round as never }]);
    const taken = await shared.claim('s1', ['s1']);
    assert.equal((taken[0]?.round as unknown as { error: string }).error, 'reset\ufffd');
  } finally {
    history.close();
    db.close();
    await shared.close();
  }
});
