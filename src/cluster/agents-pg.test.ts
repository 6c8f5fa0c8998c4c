import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { startPostgres, type Postgres } from '../../test/postgres.ts';
import type { AgentInfo } from '../plan/agent-info.ts';
import { ClusterAgents } from './agents.ts';
import { markAgent, readAgentEvents } from './agents-pg.ts';
import { ClusterDb } from './postgres.ts';

const log = pino({ level: 'silent' });
let pg: Postgres;
before(async () => {
  pg = await startPostgres();
});
after(async () => {
  await pg?.stop();
});

test('agent-down and agent-up are recorded by one server of two racing, each change once in the events', async () => {
  const dbs = [new ClusterDb(pg.url), new ClusterDb(pg.url)];
  try {
    await dbs[0]!.init();
    await dbs[1]!.init();
    const mark = (i: number, agent: string, down: boolean) => dbs[i]!.transaction('test', (c) => markAgent(c, `s${i + 1}`, agent, down));
    assert.equal(await mark(0, 'never-down', false), false, 'an agent never told down is not told up');
    const winners: string[] = [];
    for (let round = 0; round < 20; round++) {
      const down = round % 2 === 0;
      const won = await Promise.all([mark(0, 'x', down), mark(1, 'x', down)]);
      assert.equal(won.filter(Boolean).length, 1, `round ${round}: exactly one server records ${down ? 'down' : 'up'}`);
      winners.push(won[0] ? 's1' : 's2');
      assert.deepEqual(await Promise.all([mark(0, 'x', down), mark(1, 'x', down)]), [false, false], 'no change, nothing recorded');
    }
    const events = await dbs[0]!.transaction('test', (c) => readAgentEvents(c));
    assert.deepEqual(events.map((e) => [e.agent, e.state, e.server]), winners.map((w, i) => ['x', i % 2 === 0 ? 'down' : 'up', w]).reverse(), 'one event per change, newest first');
  } finally {
    for (const db of dbs) await db.close();
  }
});

test('what one server writes of its agents (addresses, version) another lists, alive, talking to the first', async () => {
  const now = Date.now();
  const mine: AgentInfo[] = [{ name: 'y', region: 'tokyo', labels: { rack: '3' }, addresses: ['10.1.1.1', '192.0.2.7'], intranet_address: '10.1.1.1', public_address: '192.0.2.7', version: '9.9.9', alive: true, builtin: false, last_seen: now }];
  const theirs: AgentInfo[] = [{ name: 'y', region: 'default', labels: {}, addresses: [], alive: false, builtin: false }];
  const dbs = [new ClusterDb(pg.url), new ClusterDb(pg.url)] as const;
  const a = new ClusterAgents({ db: dbs[0], server: 'sa', local: () => mine, periodMs: 60_000, freshMs: 60_000, log });
  const b = new ClusterAgents({ db: dbs[1], server: 'sb', local: () => theirs, periodMs: 60_000, freshMs: 60_000, log });
  try {
    await a.write();
    await b.write();
    const y = b.view(theirs).find((x) => x.name === 'y')!;
    assert.deepEqual({ ...y, last_seen: undefined }, {
      name: 'y', region: 'tokyo', labels: { rack: '3' }, addresses: ['10.1.1.1', '192.0.2.7'], intranet_address: '10.1.1.1', public_address: '192.0.2.7',
      version: '9.9.9', alive: true, builtin: false, server: 'sa', last_seen: undefined,
    });
    // Ages on the database's clock, turned into this machine's: off by the queries' latencies at most.
    assert.ok(Math.abs(y.last_seen! - now) <= Date.now() - now, 'last seen when sa heard from it');
    assert.equal(theirs[0]!.alive, false, 'sb\'s own list unchanged');
  } finally {
    for (const x of [a, b]) x.close();
    for (const db of dbs) await db.close();
  }
});

test('each heartbeat reads only the rows changed since the last; a deleted row leaves the view; after a failed read every row is read again', async () => {
  const now = Date.now();
  const mine: AgentInfo[] = ['p', 'q'].map((name) => ({ name, region: 'tokyo', labels: {}, addresses: [], alive: true, builtin: false, last_seen: now }));
  const theirs: AgentInfo[] = [];
  const dbs = [new ClusterDb(pg.url), new ClusterDb(pg.url)] as const;
  // b's statements, and a failure to inject into its next read.
  const sql: string[] = [];
  let fail = false;
  const watched = new Proxy(dbs[1], {
    get(target, prop, receiver) {
      if (prop !== 'transaction') return Reflect.get(target, prop, receiver) as unknown;
      return (what: string, fn: (c: import('pg').PoolClient) => Promise<unknown>) => target.transaction(what, async (c) => {
        if (fail && what === 'reading agents seen') {
          fail = false;
          throw new Error('injected');
        }
        const query = c.query.bind(c) as (...a: unknown[]) => unknown;
        return fn(new Proxy(c, { get: (t, p) => (p === 'query' ? (...a: unknown[]) => (sql.push(String(a[0])), query(...a)) : Reflect.get(t, p) as unknown) }));
      });
    },
  });
  const a = new ClusterAgents({ db: dbs[0], server: 'sa', local: () => mine, periodMs: 60_000, freshMs: 60_000, log });
  const b = new ClusterAgents({ db: watched, server: 'sb', local: () => theirs, periodMs: 60_000, freshMs: 60_000, log });
  const fullReads = () => sql.filter((s) => /FROM smokemesh_agents_seen\s*$/.test(s)).length;
  const names = () => b.view(theirs).map((x) => x.name).filter((n) => n === 'p' || n === 'q').sort();
  try {
    await a.write();
    await b.write();
    assert.deepEqual(names(), ['p', 'q']);
    assert.equal(fullReads(), 1, 'the first read is a full one');
    await dbs[0].transaction('test', (c) => c.query(`DELETE FROM smokemesh_agents_seen WHERE agent = 'q'`));
    await b.write();
    assert.deepEqual(names(), ['p'], 'the deletion read from its tombstone');
    assert.equal(fullReads(), 1, 'then by changes');
    fail = true;
    await b.write();
    await b.write();
    assert.equal(fullReads(), 2, 'a full read after the failure');
    assert.deepEqual(names(), ['p']);
  } finally {
    for (const x of [a, b]) x.close();
    for (const db of dbs) await db.close();
  }
});
