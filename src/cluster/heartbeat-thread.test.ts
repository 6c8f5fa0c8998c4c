import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import pino from 'pino';
import type { ActiveRow, Silence } from '../alerts/db.ts';
import { makeRound, type Round } from '../probes/round.ts';
import { freePort } from '../../test/agents-kit.ts';
import { startPostgres, type Postgres } from '../../test/postgres.ts';
import { waitFor } from '../../test/wait.ts';
import type { ClusterConfig } from './config.ts';
import { heartbeatApplication } from './heartbeat-pg.ts';
import { seriesKey } from './hrw.ts';
import { liveSet, type ServerBeat } from './membership.ts';
import { ClusterDb } from './postgres.ts';
import { ClusterService, type Evaluator, type LocalSilences } from './service.ts';

let pg: Postgres;
before(async () => { pg = await startPostgres(); });
after(async () => { await pg?.stop(); });

const OUT_OF_TOUCH = /^cluster: no heartbeat written for longer than dead_after_s/;
const HELD = /heartbeats were held/;

/** The engine's side: the series it holds. */
class Holder implements Evaluator {
  held = new Set<string>();
  ownershipKey(target: string, agent: string): string { return seriesKey(target, agent); }
  write(rounds: readonly Round[]): void { for (const r of rounds) this.held.add(seriesKey(r.target, r.agent)); }
  heldKeys(): string[] { return [...this.held]; }
  forget(keys: Iterable<string>): void { for (const k of keys) this.held.delete(k); }
  adopt(rows: readonly ActiveRow[]): void { for (const r of rows) this.held.add(seriesKey(r.target, r.agent)); }
}

/** A server of its own (its log kept), with in-memory silences: a silence arriving proves a heartbeat was applied. */
function member(cfg: Omit<ClusterConfig, 'coordination'>, url = pg.url, db = new ClusterDb(url)) {
  const lines: { level: number; msg: string; stalled_ms?: number }[] = [];
  const log = pino({ level: 'info' }, { write: (s: string) => void lines.push(JSON.parse(s)) });
  const engine = new Holder();
  const local = new Map<string, Silence>();
  const silences: LocalSilences = { list: () => [...local.values()], save: (s) => void local.set(s.id, s), remove: (id) => void local.delete(id), changed: () => {} };
  const service = new ClusterService({ cfg: { coordination: url, ...cfg }, url: `http://${cfg.server_id}`, db, engine, log, silences });
  const logged = (re: RegExp) => lines.filter((l) => re.test(l.msg));
  return { service, engine, local, lines, logged, db };
}

/** A server that took its series: joined, and its one grace heartbeat over. */
async function joined(m: ReturnType<typeof member>, id: string): Promise<void> {
  await m.service.start();
  await waitFor(`${id} to take its series after joining`, () => m.logged(/^cluster membership joined/).length > 0, 60_000);
}

/**
 * Another thread that reads the heartbeat table every 50 ms with a connection of its own while
 * the main thread is blocked: it publishes the latest beat of `id` and how many distinct beats
 * came after the block began, and reports the rows at the first moment `id` is out of the live
 * set by its own reckoning (dead_after on the database's clock).
 */
function observer(id: string, deadAfterMs: number) {
  const shared = new BigInt64Array(new SharedArrayBuffer(4 * 8)); // block start, latest beat, beats after the start, dead seen
  const w = new Worker(`
    const { workerData: d, parentPort } = require('node:worker_threads');
    const pg = require(d.pg);
    const a = new BigInt64Array(d.buffer);
    const ms = (c) => '(extract(epoch from ' + c + ') * 1000)::float8';
    let stop = false;
    parentPort.on('message', () => { stop = true; });
    (async () => {
      const c = new pg.Client({ connectionString: d.url });
      await c.connect();
      const beats = [];
      let last = 0;
      while (!stop) {
        const r = await c.query('SELECT server_id, url, ' + ms('beat_at') + ' AS beat_at, ' + ms('started_at') + ' AS started_at, ' + ms('clock_timestamp()') + ' AS now FROM smokemesh_servers');
        const start = Number(Atomics.load(a, 0));
        const now = Math.max(...r.rows.map((x) => x.now));
        const mine = r.rows.find((x) => x.server_id === d.id);
        if (mine && mine.beat_at !== last) {
          last = mine.beat_at;
          beats.push(last);
          Atomics.store(a, 1, BigInt(Math.floor(last)));
          if (start && last > start) Atomics.add(a, 2, 1n);
        }
        if (start && mine && !Atomics.load(a, 3) && now - mine.beat_at > d.deadAfterMs) {
          parentPort.postMessage({ dead: { rows: r.rows.map(({ now: _, ...b }) => b), now } });
          Atomics.store(a, 3, 1n);
        }
        await new Promise((res) => setTimeout(res, 50));
      }
      await c.end();
      parentPort.postMessage({ beats });
    })().catch((e) => parentPort.postMessage({ error: String(e) }));
  `, { eval: true, workerData: { pg: createRequire(import.meta.url).resolve('pg'), url: pg.url, id, deadAfterMs, buffer: shared.buffer } });
  const messages: Record<string, unknown>[] = [];
  w.on('message', (m: Record<string, unknown>) => messages.push(m));
  return {
    /** The main thread blocks from now: beats are counted from here. */
    blockStarts(at: number) { Atomics.store(shared, 0, BigInt(at)); },
    latestBeat: () => Number(Atomics.load(shared, 1)),
    beatsSinceStart: () => Number(Atomics.load(shared, 2)),
    deadSeen: () => Atomics.load(shared, 3) === 1n,
    dead: () => waitFor('the observer\'s rows', () => messages.find((m) => 'dead' in m)?.dead as { rows: ServerBeat[]; now: number } | undefined, 10_000),
    async stop(): Promise<number[]> {
      w.postMessage('stop');
      const out = await waitFor('the observer to stop', () => messages.find((m) => 'beats' in m || 'error' in m), 30_000);
      await w.terminate();
      if ('error' in out) throw new Error(`observer: ${String(out.error)}`);
      return out.beats as number[];
    },
  };
}

/** Blocks this thread (no timer, message or I/O callback runs) until `done`, checked every 20 ms; throws past `deadlineMs`. */
function blockUntil(what: string, done: () => boolean, deadlineMs: number): void {
  const nap = new Int32Array(new SharedArrayBuffer(4));
  const deadline = Date.now() + deadlineMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`blocked for ${deadlineMs} ms without ${what}`);
    Atomics.wait(nap, 0, 0, 20);
  }
}

const round = (target: string, agent: string) => makeRound({ target, agent, probe: 'tcp', time: Date.now() - 60_000, step: 60 }, { sent: 1, rtts: [1] });
const silence = (id: string): Silence => ({ id, created: Date.now(), starts: Date.now(), ends: Date.now() + 3_600_000, comment: 'proves a heartbeat was applied', target: '/x' });

test('a main thread blocked for longer than dead_after_s (under stall_s): the heartbeat thread keeps the row fresh, and the server keeps its place and its series', { timeout: 180_000 }, async () => {
  // dead_after long against the heartbeat: only the block is judged, not a loaded machine's late beat.
  const deadAfterMs = 5000;
  const m = member({ server_id: 'hb1', heartbeat_s: 0.3, dead_after_s: deadAfterMs / 1000, stall_s: 120 });
  let obs: ReturnType<typeof observer> | undefined;
  try {
    await joined(m, 'hb1');
    // (After the tables exist.)
    const o = (obs = observer('hb1', deadAfterMs));
    m.service.write([round('/kept', 'a1')]);
    assert.deepEqual(m.engine.heldKeys(), [seriesKey('/kept', 'a1')]);
    await waitFor('the observer to see a beat', () => o.latestBeat() > 0, 30_000);

    // Blocked until the row has been written again well past the moment the others would count us dead without the thread.
    const start = Date.now();
    o.blockStarts(start);
    blockUntil('fresh heartbeat rows', () => o.beatsSinceStart() >= 3 && o.latestBeat() > start + 2 * deadAfterMs, 120_000);
    const end = Date.now();
    assert.ok(!o.deadSeen(), 'the row was never older than dead_after_s during the block');

    // A beat applied after the block: a silence shared meanwhile arrives.
    const other = new ClusterDb(pg.url);
    await other.saveSilence(silence('after-block-1'));
    await other.close();
    await waitFor('a heartbeat applied after the block', () => m.local.has('after-block-1'), 30_000);
    assert.deepEqual(m.service.liveServers(), ['hb1'], 'still in the live set');
    assert.deepEqual(m.logged(OUT_OF_TOUCH), [], 'never counted itself out of touch');
    assert.deepEqual(m.logged(HELD), []);
    assert.deepEqual(m.engine.heldKeys(), [seriesKey('/kept', 'a1')], 'its series were not forgotten');
    assert.equal(m.logged(/^cluster membership joined/).length, 1, 'joined once');
    const beats = await o.stop();
    const during = beats.filter((t) => t > start && t < end);
    assert.ok(during.length >= 3, `rows written during the ${end - start} ms block: ${during.map((t) => t - start).join(', ')} ms after its start`);
  } finally {
    await obs?.stop().catch(() => []);
    await m.service.close();
  }
});

test('a main thread blocked past stall_s: the heartbeat thread holds the beats, the live set on the rows drops the server; once it runs again it steps back and joins anew', { timeout: 180_000 }, async () => {
  const deadAfterMs = 3000;
  const stallMs = 6000;
  const m = member({ server_id: 'hb2', heartbeat_s: 0.3, dead_after_s: deadAfterMs / 1000, stall_s: stallMs / 1000 });
  let obs: ReturnType<typeof observer> | undefined;
  try {
    await joined(m, 'hb2');
    // (After the tables exist.)
    const o = (obs = observer('hb2', deadAfterMs));
    m.service.write([round('/moved', 'a1')]);
    assert.equal(m.engine.heldKeys().length, 1);
    await waitFor('the observer to see a beat', () => o.latestBeat() > 0, 30_000);

    // (A late beat on a loaded machine may have stepped it back already: counted from here.)
    const joins = m.logged(/^cluster membership joined/).length;
    const steps = m.logged(OUT_OF_TOUCH).length;
    o.blockStarts(Date.now());
    blockUntil('the row to go stale', () => o.deadSeen(), 120_000);
    const { rows, now } = await o.dead();
    assert.ok(!liveSet(rows, now, deadAfterMs).includes('hb2'), `the others' live set from the rows leaves hb2 out: ${JSON.stringify(rows)} at ${now}`);

    await waitFor('the held beats reported', () => m.logged(HELD).length > 0, 30_000);
    assert.ok(m.logged(HELD)[0]!.stalled_ms! > stallMs, 'held only past stall_s');
    await waitFor('the server to step back', () => m.logged(OUT_OF_TOUCH).length > steps, 30_000);
    await waitFor('the server to join again', () => m.logged(/^cluster membership joined/).length > joins && m.service.liveServers().includes('hb2'), 60_000);
    assert.deepEqual(m.engine.heldKeys(), [], 'its series were forgotten (the others may have changed their state meanwhile)');
    assert.equal(m.logged(OUT_OF_TOUCH).length, steps + 1, 'stepped back once (not again when the beats resumed)');
  } finally {
    await obs?.stop().catch(() => []);
    await m.service.close();
  }
});

test('the heartbeat connection broken: the failure is logged and in last_error, the thread connects again; close ends its connection and leaves', { timeout: 120_000 }, async () => {
  const m = member({ server_id: 'hb3', heartbeat_s: 0.3, dead_after_s: 3, stall_s: 30 });
  const { default: driver } = await import('pg');
  const admin = new driver.Client({ connectionString: pg.url });
  await admin.connect();
  const connections = async () => Number((await admin.query('SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = $1', [heartbeatApplication('hb3')])).rows[0].n);
  try {
    await m.service.start();
    await waitFor('hb3 live', () => m.service.liveServers().includes('hb3'), 30_000);
    assert.equal(await connections(), 1, 'one connection of its own');
    const killed = await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1', [heartbeatApplication('hb3')]);
    assert.equal(killed.rowCount, 1);
    await waitFor('the heartbeat failure logged', () => m.logged(/^cluster: cluster database: heartbeat: .*; retrying$/).length > 0, 30_000);
    await waitFor('the database answering again', () => m.logged(/^cluster database answers again$/).length > 0, 30_000);
    await waitFor('a new heartbeat connection', async () => (await connections()) === 1, 30_000);
    assert.equal(m.service.status().last_error, undefined);
    await m.service.close();
    await waitFor('the heartbeat connection ended', async () => (await connections()) === 0, 30_000);
    const row = await admin.query('SELECT 1 FROM smokemesh_servers WHERE server_id = $1', ['hb3']);
    assert.equal(row.rowCount, 0, 'the row deleted, and no beat wrote it back');
  } finally {
    await m.service.close().catch(() => {});
    await admin.end();
  }
});

test('the database away at start: start() returns, the heartbeat failure is in last_error, nothing is live; close stops the thread', { timeout: 60_000 }, async () => {
  const url = `postgres://postgres@127.0.0.1:${await freePort()}/postgres`;
  const m = member({ server_id: 'hb4', heartbeat_s: 0.3, dead_after_s: 1.2, stall_s: 30 }, url, new ClusterDb(url, { connectTimeoutMs: 2000 }));
  await m.service.start();
  try {
    await waitFor('the heartbeat failure', () => m.logged(/^cluster: cluster database: heartbeat: /).length > 0, 30_000);
    assert.match(m.service.status().last_error ?? '', /^cluster database: (heartbeat|creating the tables): /);
    assert.deepEqual(m.service.liveServers(), []);
    // Both the heartbeat thread and the table check keep failing, in turn: each message is logged once, not at every retry.
    const until = Date.now() + 5 * 300;
    await waitFor('five more heartbeats\' time', () => Date.now() > until, 30_000);
    const errors = m.lines.filter((l) => l.level >= 50).map((l) => l.msg);
    assert.deepEqual(errors, [...new Set(errors)], errors.join(' | '));
  } finally {
    await m.service.close();
  }
});
