/**
 * The cluster's shared coordination database (PostgreSQL through `pg`): the heartbeat table
 * the live set is read from, the alert state (match counters) every owner continues from, and
 * the relay of rounds received by one server for the series another owns. I/O only: the
 * decisions are in membership.ts, hrw.ts, handover.ts and fence.ts.
 */
import { createHash } from 'node:crypto';
import type pg from 'pg';
import { lazyModule } from '../lazy-module.ts';

/** The driver, loaded when a cluster database is first used (a server without `cluster:` never loads it). */
const driver = lazyModule(() => import('pg'));
import type { Silence } from '../alerts/db.ts';
import { SmokemeshError } from '../errors.ts';
import type { Round } from '../probes/round.ts';
import type { DeliveryListRow, DeliveryQuery, EventQuery, EventRow } from '../alerts/db.ts';
import { copyHistory, HISTORY_SCHEMA, sharedDeliveries, sharedEvents, type LocalChanges } from './history.ts';
import { INDEX_SCHEMA, pullIndex, pushIndex, type IndexPage } from './index-pg.ts';
import type { IndexRow } from '../store/vm/outbox.ts';
import { fencedScopeWrite, LOCALIZE_SCHEMA, publishDigest, readCauses, readScope } from './localize-pg.ts';
import { safeClient } from './pg-text.ts';
import { TASKS_SCHEMA } from './tasks-pg.ts';
import { AGENTS_SCHEMA } from './agents-pg.ts';
import { AGENTS_SEEN_SCHEMA } from './agents-seen-pg.ts';
import { decideFence, stateKey, type FenceWrite, type SharedAlertState } from './fence.ts';
import { ms, registerStart, removeServer, writeBeat, type BeatRows } from './heartbeat-pg.ts';

/** Serialises table creation among servers starting together (any constant of our own). */
const SCHEMA_LOCK = 0x736d6b6d;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS smokemesh_servers (
  server_id text PRIMARY KEY,
  url text NOT NULL,
  beat_at timestamptz NOT NULL,
  started_at timestamptz NOT NULL
);
CREATE TABLE IF NOT EXISTS smokemesh_alert_state (
  target text NOT NULL,
  agent text NOT NULL,
  alert text NOT NULL,
  prevmatch integer NOT NULL,
  since bigint NOT NULL,
  PRIMARY KEY (target, agent, alert)
);
ALTER TABLE smokemesh_alert_state ADD COLUMN IF NOT EXISTS version bigint NOT NULL DEFAULT 0;
ALTER TABLE smokemesh_alert_state ADD COLUMN IF NOT EXISTS owner text NOT NULL DEFAULT '';
CREATE TABLE IF NOT EXISTS smokemesh_relay (
  id bigserial PRIMARY KEY,
  owner text NOT NULL,
  round jsonb NOT NULL
);
CREATE TABLE IF NOT EXISTS smokemesh_silences (
  id text PRIMARY KEY,
  body jsonb,
  deleted boolean NOT NULL DEFAULT false
);
CREATE INDEX IF NOT EXISTS smokemesh_relay_owner ON smokemesh_relay (owner, id);
`;

/** Every table's DDL (idempotent), run in this order when the schema is new to the database. */
const SCHEMAS = [SCHEMA, HISTORY_SCHEMA, INDEX_SCHEMA, LOCALIZE_SCHEMA, TASKS_SCHEMA, AGENTS_SCHEMA, AGENTS_SEEN_SCHEMA];
/** This schema's id: a database that has it needs no DDL. */
const SCHEMA_ID = createHash('sha256').update(SCHEMAS.join('\n')).digest('hex').slice(0, 16);

/** A relayed round with the server it was addressed to. */
export interface RelayedRound {
  owner: string;
  round: Round;
}

const STATE_COLUMNS = 'target, agent, alert, prevmatch, since::float8 AS since, version::float8 AS version, owner';

/** Wraps a driver failure as SMOKEMESH_E_CLUSTER naming what was being done. */
export function clusterError(what: string, e: unknown): SmokemeshError {
  return new SmokemeshError('SMOKEMESH_E_CLUSTER', `cluster database: ${what}: ${(e as Error).message}`);
}

/** The pools: `beat` (one connection) only for membership, so that a heartbeat never queues behind relayed rounds, history copies or fenced writes on a busy database. */
type PoolName = 'main' | 'beat';

export class ClusterDb {
  private readonly pools = new Map<PoolName, pg.Pool>();
  private closed = false;
  private readonly poolConfig: pg.PoolConfig;
  /** The driver's timeouts (the heartbeat thread's connection takes the same). */
  readonly timeouts: { connectTimeoutMs: number; queryTimeoutMs: number };

  /** `url`: cluster.coordination. Connections are made lazily; errors come from the calls. */
  constructor(url: string, opts: { connectTimeoutMs?: number; queryTimeoutMs?: number } = {}) {
    this.timeouts = { connectTimeoutMs: opts.connectTimeoutMs ?? 5000, queryTimeoutMs: opts.queryTimeoutMs ?? 10_000 };
    this.poolConfig = {
      connectionString: url, max: 4, idleTimeoutMillis: 30_000,
      connectionTimeoutMillis: this.timeouts.connectTimeoutMs, query_timeout: this.timeouts.queryTimeoutMs,
    };
  }

  private async connect(name: PoolName): Promise<pg.PoolClient> {
    let pool = this.pools.get(name);
    if (!pool) {
      const { Pool } = await driver();
      if (this.closed) throw new Error('closed');
      pool = this.pools.get(name);
      if (!pool) {
        pool = new Pool(name === 'beat' ? { ...this.poolConfig, max: 1 } : this.poolConfig);
        // An idle connection that breaks (the database restarted) is replaced at the next query.
        pool.on('error', () => {});
        this.pools.set(name, pool);
      }
    }
    return pool.connect();
  }

  private async run<T>(what: string, fn: (c: pg.PoolClient) => Promise<T>, pool: PoolName = 'main'): Promise<T> {
    let client: pg.PoolClient;
    try {
      client = await this.connect(pool);
    } catch (e) {
      throw clusterError(what, e);
    }
    try {
      return await fn(safeClient(client));
    } catch (e) {
      await client.query('ROLLBACK').catch(() => {});
      throw clusterError(what, e);
    } finally {
      client.release();
    }
  }

  /**
   * Creates the tables when missing (servers starting together take turns). Runs after every
   * failure too (the database may have been recreated), so when this schema is already there
   * it only reads one row: the DDL (ALTER TABLE locks its table whole, even when it changes
   * nothing) would otherwise queue behind every fenced write and relay claim of a busy cluster.
   */
  async init(): Promise<void> {
    await this.run('creating the tables', async (c) => {
      const known = await c.query(`SELECT to_regclass('smokemesh_schema') IS NOT NULL AS present`);
      if ((known.rows[0] as { present: boolean }).present) {
        const r = await c.query('SELECT 1 FROM smokemesh_schema WHERE id = $1', [SCHEMA_ID]);
        if (r.rowCount) return;
      }
      await c.query('BEGIN');
      await c.query('SELECT pg_advisory_xact_lock($1)', [SCHEMA_LOCK]);
      for (const ddl of SCHEMAS) await c.query(ddl);
      await c.query('CREATE TABLE IF NOT EXISTS smokemesh_schema (id text PRIMARY KEY)');
      await c.query('INSERT INTO smokemesh_schema (id) VALUES ($1) ON CONFLICT DO NOTHING', [SCHEMA_ID]);
      await c.query('COMMIT');
    });
  }

  /** Records this server's heartbeat and returns every server's row with the database's clock (heartbeat-pg.ts; the heartbeat thread writes the same through its own connection). */
  async beat(serverId: string, url: string): Promise<BeatRows> {
    return this.run('heartbeat', (c) => writeBeat(c, serverId, url), 'beat');
  }

  /** Marks this server as started now (a restart is a new run) before its first beat. */
  async started(serverId: string, url: string): Promise<void> {
    await this.run('registering', (c) => registerStart(c, serverId, url), 'beat');
  }

  /** Removes this server's row (a clean stop): the others take its series at their next heartbeat. */
  async leave(serverId: string): Promise<void> {
    await this.run('leaving', (c) => removeServer(c, serverId), 'beat');
  }

  /**
   * The per-series fence (fence.ts): in one transaction, locks the rows of `writes`, judges each
   * write with `decideFence` (the writer live on the database's clock, the row's version the one
   * expected) and applies those that stand, each by a conditional upsert (a row another server
   * inserted meanwhile makes it stale too). Returns what stood and what did not, with the row as
   * it is.
   */
  async fencedWrite(server: string, deadAfterMs: number, writes: readonly FenceWrite[]): Promise<{ accepted: SharedAlertState[]; refused: { write: FenceWrite; why: 'stale' | 'not-live'; current: SharedAlertState | undefined }[] }> {
    const accepted: SharedAlertState[] = [];
    const refused: { write: FenceWrite; why: 'stale' | 'not-live'; current: SharedAlertState | undefined }[] = [];
    if (!writes.length) return { accepted, refused };
    await this.run('writing alert state', async (c) => {
      await c.query('BEGIN');
      const beat = await c.query(`SELECT ${ms('clock_timestamp()')} - ${ms('beat_at')} AS age FROM smokemesh_servers WHERE server_id = $1`, [server]);
      const age = (beat.rows[0] as { age: number } | undefined)?.age;
      const live = age !== undefined && age <= deadAfterMs;
      const r = await c.query(`SELECT ${STATE_COLUMNS} FROM smokemesh_alert_state
        WHERE (target, agent, alert) IN (SELECT * FROM unnest($1::text[], $2::text[], $3::text[])) FOR UPDATE`,
      [writes.map((w) => w.target), writes.map((w) => w.agent), writes.map((w) => w.alert)]);
      const rows = new Map((r.rows as SharedAlertState[]).map((x) => [stateKey(x.target, x.agent, x.alert), x]));
      for (const w of writes) {
        const current = rows.get(stateKey(w.target, w.agent, w.alert));
        const v = decideFence(current, w, server, live);
        if (!v.ok) {
          refused.push({ write: w, why: v.why, current: v.current });
          continue;
        }
        const n = v.next;
        const done = await c.query(`INSERT INTO smokemesh_alert_state (target, agent, alert, prevmatch, since, version, owner) VALUES ($1, $2, $3, $4, $5, $6, $7)
          ON CONFLICT (target, agent, alert) DO UPDATE SET prevmatch = $4, since = $5, version = $6, owner = $7 WHERE smokemesh_alert_state.version = $8`,
        [n.target, n.agent, n.alert, n.prevmatch, n.since, n.version, n.owner, w.expected]);
        if (done.rowCount === 1) accepted.push(n);
        else refused.push({ write: w, why: 'stale', current });
      }
      await c.query('COMMIT');
    });
    return { accepted, refused };
  }

  /** The shared alert state: every row (prevmatch 0 rows keep their version), or only those of the given series. */
  async loadState(series?: readonly { target: string; agent: string }[]): Promise<SharedAlertState[]> {
    return this.run('reading alert state', async (c) => {
      const r = series
        ? await c.query(`SELECT ${STATE_COLUMNS} FROM smokemesh_alert_state WHERE (target, agent) IN (SELECT * FROM unnest($1::text[], $2::text[]))`,
          [series.map((x) => x.target), series.map((x) => x.agent)])
        : await c.query(`SELECT ${STATE_COLUMNS} FROM smokemesh_alert_state`);
      return r.rows as SharedAlertState[];
    });
  }

  /** Shares a silence made or changed on one server. */
  async saveSilence(s: Silence): Promise<void> {
    await this.run('sharing a silence', (c) => c.query(`INSERT INTO smokemesh_silences (id, body, deleted) VALUES ($1, $2, false)
      ON CONFLICT (id) DO UPDATE SET body = $2 WHERE NOT smokemesh_silences.deleted`, [s.id, JSON.stringify(s)]));
  }

  /** Shares a deletion: the row stays as a tombstone, so that no server brings the silence back. */
  async deleteSilence(id: string): Promise<void> {
    await this.run('sharing a silence deletion', (c) => c.query(`INSERT INTO smokemesh_silences (id, body, deleted) VALUES ($1, NULL, true)
      ON CONFLICT (id) DO UPDATE SET body = NULL, deleted = true`, [id]));
  }

  /** Every shared silence, and the ids of deleted ones. */
  async loadSilences(): Promise<{ silences: Silence[]; deleted: string[] }> {
    return this.run('reading silences', async (c) => {
      const r = await c.query('SELECT id, body, deleted FROM smokemesh_silences');
      const rows = r.rows as { id: string; body: Silence | null; deleted: boolean }[];
      return { silences: rows.filter((x) => !x.deleted && x.body).map((x) => x.body!), deleted: rows.filter((x) => x.deleted).map((x) => x.id) };
    });
  }

  /** Hands rounds to the servers that own their series. */
  async relay(rounds: readonly RelayedRound[]): Promise<void> {
    if (!rounds.length) return;
    await this.run('relaying rounds', async (c) => {
      for (let i = 0; i < rounds.length; i += 1000) {
        const part = rounds.slice(i, i + 1000);
        await c.query('INSERT INTO smokemesh_relay (owner, round) SELECT * FROM unnest($1::text[], $2::jsonb[])',
          [part.map((r) => r.owner), part.map((r) => JSON.stringify(r.round))]);
      }
    });
  }

  /**
   * Takes (deletes and returns, oldest first) up to `max` relayed rounds addressed to `me` or to
   * a server outside `live` (a dead server's rounds are taken by whoever asks first and routed
   * again). Rows another server is taking at the same moment are skipped, not waited for.
   */
  async claim(me: string, live: readonly string[], max = 5000): Promise<RelayedRound[]> {
    return this.run('taking relayed rounds', async (c) => {
      const r = await c.query(`DELETE FROM smokemesh_relay WHERE id IN (
          SELECT id FROM smokemesh_relay WHERE owner = $1 OR NOT (owner = ANY($2::text[])) ORDER BY id LIMIT $3 FOR UPDATE SKIP LOCKED)
        RETURNING id, owner, round`, [me, live, max]);
      return (r.rows as { id: string; owner: string; round: Round }[])
        .sort((a, b) => Number(a.id) - Number(b.id))
        .map((row) => ({ owner: row.owner, round: row.round }));
    });
  }

  /** Copies this server's new and changed alert events and deliveries (history.ts) in one transaction. */
  async copyHistory(server: string, changes: LocalChanges): Promise<void> {
    if (!changes.events.length && !changes.deliveries.length) return;
    await this.run('sharing alert history', async (c) => {
      await c.query('BEGIN');
      await copyHistory(c, server, changes);
      await c.query('COMMIT');
    });
  }

  /** Alert events of every server (GET /api/v1/alerts/history in a cluster). */
  async events(q: EventQuery): Promise<{ rows: EventRow[]; total: number }> {
    return this.run('reading alert history', (c) => sharedEvents(c, q));
  }

  /** Deliveries of every server (GET /api/v1/alerts/deliveries in a cluster). */
  async deliveries(q: DeliveryQuery): Promise<{ rows: DeliveryListRow[]; total: number }> {
    return this.run('reading alert deliveries', (c) => sharedDeliveries(c, q));
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.pools.values()].map((p) => p.end()));
  }

  /** Shares rows of the series index changed on `server` (index-pg.ts); returns the changed rows as they now stand. */
  async pushIndex(server: string, rows: readonly IndexRow[]): Promise<IndexRow[]> {
    return this.run('sharing the series index', (c) => pushIndex(c, server, rows));
  }

  /** Rows of the series index other servers changed after `cursor` (index-pg.ts). */
  async pullIndex(me: string, cursor: number, limit: number): Promise<IndexPage> {
    return this.run('reading the shared series index', (c) => pullIndex(c, me, cursor, limit));
  }

  /** A localization digest of one scope from one server (localize-pg.ts). */
  async localizePublish(scope: string, sender: string, time: number, body: Buffer): Promise<void> {
    await this.run('sharing a localization digest', (c) => publishDigest(c, scope, sender, time, body));
  }

  /** A localization scope's digests and shared state (localize-pg.ts). */
  async localizeRead(scope: string, since: number, memory: boolean): ReturnType<typeof readScope> {
    return this.run('reading localization state', (c) => readScope(c, scope, since, memory));
  }

  /** A localization scope's shared causes, without digests or memory (localize-pg.ts). */
  async localizeCauses(scope: string): ReturnType<typeof readCauses> {
    return this.run('reading localization causes', (c) => readCauses(c, scope));
  }

  /** A localization scope's state through its fence (localize-pg.ts). */
  async localizeWrite(server: string, deadAfterMs: number, scope: string, expected: number, time: number, causes: string, memory?: Buffer): ReturnType<typeof fencedScopeWrite> {
    return this.run('writing localization state', (c) => fencedScopeWrite(c, server, deadAfterMs, scope, expected, time, causes, memory));
  }

  /** Runs `fn` in one transaction (the shared tasks, what the servers saw of agents and the retention: tasks-pg.ts). */
  async transaction<T>(what: string, fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    return this.run(what, async (c) => {
      await c.query('BEGIN');
      const out = await fn(c);
      await c.query('COMMIT');
      return out;
    });
  }
}
