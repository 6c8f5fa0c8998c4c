import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { startPostgres, type Postgres } from '../../test/postgres.ts';
import { waitFor } from '../../test/wait.ts';
import { AGENTS_SCHEMA } from './agents-pg.ts';
import { AGENTS_SEEN_SCHEMA, pruneTombstones, readSightingChanges } from './agents-seen-pg.ts';
import { ClusterDb } from './postgres.ts';
import { allSightings, applySightings, type SightingsState } from './sightings.ts';
import { pruneSightings, TASKS_SCHEMA, writeSightings, type SightingRow } from './tasks-pg.ts';

let postgres: Postgres;
before(async () => {
  postgres = await startPostgres();
});
after(async () => {
  await postgres?.stop();
});

const sighting = (agent: string, o: Partial<SightingRow> = {}): SightingRow => ({
  agent, seenAgoMs: 0, polling: false, polledAgoMs: null, region: 'eu', labels: {}, builtin: false, intranet: null, public: null, version: null, ...o,
});

/** A database of its own per test (the cluster's tables are shared by name). */
async function database(name: string): Promise<string> {
  const admin = new pg.Client({ connectionString: postgres.url });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  return postgres.url.replace(/\/postgres$/, `/${name}`);
}

async function client(url: string): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  return c;
}

/** A reader as ClusterAgents keeps one: its state, and how its last read was made. */
class Reader {
  state: SightingsState | undefined;
  reason: string | undefined;
  constructor(private readonly c: pg.Client) {}
  async read(): Promise<Map<string, string>> {
    await this.c.query('BEGIN');
    const page = await readSightingChanges(this.c, this.state);
    await this.c.query('COMMIT');
    this.reason = page.reason;
    this.state = applySightings(this.state, page);
    return this.rows();
  }
  /** agent@server → region. */
  rows(): Map<string, string> {
    return new Map([...allSightings(this.state!)].map((r) => [`${r.agent}@${r.server}`, r.region]));
  }
}

/** Every row as a full read gives it now. */
async function fullRead(c: pg.Client): Promise<Map<string, string>> {
  const r = new Reader(c);
  return r.read();
}

async function write(c: pg.Client, server: string, rows: SightingRow[]): Promise<void> {
  await c.query('BEGIN');
  await writeSightings(c as unknown as pg.PoolClient, server, rows);
  await c.query('COMMIT');
}

test('a change numbered lower but committed later is not skipped: the second writer waits for the first, the reader reads both', async () => {
  const url = await database('outoforder');
  const db = new ClusterDb(url);
  await db.init();
  const [a, b, r] = [await client(url), await client(url), await client(url)];
  try {
    const reader = new Reader(r);
    await write(a, 's1', [sighting('before')]);
    assert.deepEqual(await reader.read(), new Map([['before@s1', 'eu']]));
    // a takes the lower number and keeps its transaction open.
    await a.query('BEGIN');
    await writeSightings(a as unknown as pg.PoolClient, 's1', [sighting('x')]);
    const bPid = (await b.query('SELECT pg_backend_pid() AS pid')).rows[0].pid as number;
    let bDone = false;
    const bWrite = write(b, 's2', [sighting('y')]).then(() => { bDone = true; });
    // b either committed a higher number already (no turn taking: the trap) or waits for a's turn to end.
    await waitFor('b committed or waiting for the advisory lock', async () => {
      if (bDone) return true;
      const w = await r.query(`SELECT wait_event_type, wait_event FROM pg_stat_activity WHERE pid = $1`, [bPid]);
      const row = w.rows[0] as { wait_event_type: string | null; wait_event: string | null } | undefined;
      return row?.wait_event_type === 'Lock' && row.wait_event === 'advisory' ? true : undefined;
    });
    const between = await reader.read();
    assert.equal(between.has('x'), false);
    await a.query('COMMIT');
    await bWrite;
    const last = await reader.read();
    assert.deepEqual(last, new Map([['before@s1', 'eu'], ['x@s1', 'eu'], ['y@s2', 'eu']]), 'both rows read, the lower number committed later too');
    assert.deepEqual(last, await fullRead(r));
    assert.equal(reader.reason, undefined, 'read by its changes');
    const changes = await r.query(`SELECT agent, change::float8 AS change FROM smokemesh_agents_seen WHERE agent IN ('x', 'y') ORDER BY agent`);
    const [x, y] = changes.rows as { change: number }[];
    assert.ok(x!.change < y!.change, 'b numbered its row after a committed');
  } finally {
    for (const c of [a, b, r]) await c.end();
    await db.close();
  }
});

test('updates and deletions (pruning) are read by their changes; a row deleted and written again is back', async () => {
  const url = await database('deletions');
  const db = new ClusterDb(url);
  await db.init();
  const [w, r] = [await client(url), await client(url)];
  try {
    const reader = new Reader(r);
    await write(w, 's1', [sighting('a'), sighting('b'), sighting('c')]);
    await write(w, 's2', [sighting('a', { region: 'us' })]);
    await reader.read();
    assert.equal(reader.reason, 'start');
    await write(w, 's1', [sighting('a', { region: 'asia' })]);
    await w.query(`DELETE FROM smokemesh_agents_seen WHERE agent = 'b'`);
    assert.deepEqual(await reader.read(), new Map([['a@s1', 'asia'], ['c@s1', 'eu'], ['a@s2', 'us']]));
    assert.equal(reader.reason, undefined);
    // The pruning of old rows: every row older than 0 ms.
    await w.query('BEGIN');
    assert.equal(await pruneSightings(w as unknown as pg.PoolClient, 0), 3);
    await w.query('COMMIT');
    await write(w, 's1', [sighting('c', { region: 'back' })]);
    assert.deepEqual(await reader.read(), new Map([['c@s1', 'back']]));
    assert.equal(reader.reason, undefined);
    assert.deepEqual(reader.rows(), await fullRead(r));
  } finally {
    for (const c of [w, r]) await c.end();
    await db.close();
  }
});

test('tombstones pruned before a reader read them: it reads every row again; a reader past them does not', async () => {
  const url = await database('gaps');
  const db = new ClusterDb(url);
  await db.init();
  const [w, r1, r2] = [await client(url), await client(url), await client(url)];
  try {
    const [behind, ahead] = [new Reader(r1), new Reader(r2)];
    await write(w, 's1', [sighting('a'), sighting('b')]);
    await behind.read();
    await w.query(`DELETE FROM smokemesh_agents_seen WHERE agent = 'a'`);
    await ahead.read();
    await write(w, 's1', [sighting('c')]);
    assert.equal(await pruneTombstones(w, 0), 1);
    assert.deepEqual(await behind.read(), new Map([['b@s1', 'eu'], ['c@s1', 'eu']]), 'the deletion of a is seen though its tombstone is gone');
    assert.equal(behind.reason, 'pruned');
    assert.deepEqual(await ahead.read(), new Map([['b@s1', 'eu'], ['c@s1', 'eu']]));
    assert.equal(ahead.reason, undefined, 'it had read the tombstone');
    assert.equal(await pruneTombstones(w, 0), 0);
    await behind.read();
    assert.equal(behind.reason, undefined, 'past the pruned horizon now');
  } finally {
    for (const c of [w, r1, r2]) await c.end();
    await db.close();
  }
});

test('tables recreated (numbers start over) or the schema run again: a new epoch, every row read again', async () => {
  const url = await database('epochs');
  let db = new ClusterDb(url);
  await db.init();
  const [w, r] = [await client(url), await client(url)];
  try {
    const reader = new Reader(r);
    await write(w, 's1', [sighting('a'), sighting('b'), sighting('c'), sighting('d')]);
    await reader.read();
    await w.query(AGENTS_SEEN_SCHEMA);
    await write(w, 's1', [sighting('a', { region: 'us' })]);
    assert.deepEqual(await reader.read(), new Map([['a@s1', 'us'], ['b@s1', 'eu'], ['c@s1', 'eu'], ['d@s1', 'eu']]));
    assert.equal(reader.reason, 'epoch');
    // The database emptied and the tables created again: the sequence starts over below the cursor.
    await db.close();
    await w.query('DROP SCHEMA public CASCADE; CREATE SCHEMA public');
    db = new ClusterDb(url);
    await db.init();
    await write(w, 's2', [sighting('new')]);
    assert.deepEqual(await reader.read(), new Map([['new@s2', 'eu']]));
    assert.equal(reader.reason, 'epoch');
  } finally {
    for (const c of [w, r]) await c.end();
    await db.close();
  }
});

test('an existing table without the column is upgraded: its rows numbered, and writers that do not name the column number theirs', async () => {
  const url = await database('upgrade');
  const [w, r] = [await client(url), await client(url)];
  const db = new ClusterDb(url);
  try {
    // The previous release's upsert (an older server in a rolling upgrade): no change column named.
    const oldWrite = (agent: string, server: string, region: string) => w.query(`INSERT INTO smokemesh_agents_seen (agent, server, seen_at, written_at, polling, region, labels, builtin)
      VALUES ($1, $2, now(), now(), false, $3, '{}', false) ON CONFLICT (agent, server) DO UPDATE SET region = excluded.region, written_at = excluded.written_at`, [agent, server, region]);
    // The tables as the previous release made them, with its rows.
    await w.query(TASKS_SCHEMA);
    await w.query(AGENTS_SCHEMA);
    await oldWrite('old1', 's1', 'eu');
    await oldWrite('old2', 's1', 'eu');
    await db.init();
    const numbered = await r.query('SELECT count(*)::int AS n, count(DISTINCT change)::int AS d FROM smokemesh_agents_seen WHERE change IS NOT NULL');
    assert.deepEqual(numbered.rows[0], { n: 2, d: 2 });
    const reader = new Reader(r);
    assert.deepEqual(await reader.read(), new Map([['old1@s1', 'eu'], ['old2@s1', 'eu']]));
    await oldWrite('older', 's0', 'eu');
    await oldWrite('old1', 's1', 'moved');
    await w.query(`DELETE FROM smokemesh_agents_seen WHERE agent = 'old2'`);
    assert.deepEqual(await reader.read(), new Map([['old1@s1', 'moved'], ['older@s0', 'eu']]));
    assert.equal(reader.reason, undefined);
    await w.query(`UPDATE smokemesh_agents_seen SET region = 'by hand' WHERE agent = 'older'`);
    await write(w, 's1', [sighting('old1', { region: 'ours' })]);
    assert.deepEqual(await reader.read(), new Map([['old1@s1', 'ours'], ['older@s0', 'by hand']]));
    assert.deepEqual(reader.rows(), await fullRead(r));
  } finally {
    for (const c of [w, r]) await c.end();
    await db.close();
  }
});
