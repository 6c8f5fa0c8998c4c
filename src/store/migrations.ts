import type Database from 'better-sqlite3';
import type { BucketRow } from './bucket.ts';
import { encodePack, packBuckets } from './packs.ts';
import type { StoreLogger } from './types.ts';

/**
 * The on-disk schema, versioned with `PRAGMA user_version`. Migrations only go forward; each
 * runs in one transaction with the version bump, so a crash leaves the old or the new schema.
 * Add a migration by appending to MIGRATIONS; never edit a shipped one.
 */

type Db = Database.Database;

const MIGRATIONS: Array<(db: Db) => void> = [
  // 1: series, raw rounds, tier registry. Tier tables are created per configured bucket size.
  (db) => {
    db.exec(`
      CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
      CREATE TABLE series (
        id INTEGER PRIMARY KEY,
        target TEXT NOT NULL,
        agent TEXT NOT NULL,
        probe TEXT NOT NULL,
        step INTEGER NOT NULL,
        first INTEGER NOT NULL,
        last INTEGER NOT NULL,
        UNIQUE (target, agent)
      );
      -- One row per round; rtts: ascending µs as varint deltas; extra: JSON of phases/status/error/cert_expiry.
      CREATE TABLE raw (
        series INTEGER NOT NULL,
        time INTEGER NOT NULL,
        step INTEGER NOT NULL,
        sent INTEGER NOT NULL,
        rtts BLOB,
        extra TEXT,
        PRIMARY KEY (series, time)
      ) WITHOUT ROWID;
      -- sealed_below: every bucket index below it has its histogram replaced by quantiles.
      CREATE TABLE tiers (bucket INTEGER PRIMARY KEY, sealed_below INTEGER NOT NULL DEFAULT 0);
    `);
  },
  // 2: sealed buckets move from one row each to one pack per series and period (src/store/packs.ts).
  (db) => {
    for (const bucket of db.prepare('SELECT bucket FROM tiers ORDER BY bucket').pluck().all() as number[]) packSealedRows(db, bucket);
  },
];

/** Schema version this code writes. */
export const SCHEMA_VERSION = MIGRATIONS.length;

/** Brings the database to SCHEMA_VERSION; throws if it was written by a newer smokemesh. */
export function migrate(db: Db): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > SCHEMA_VERSION) {
    throw new Error(`schema version ${current} is newer than this smokemesh understands (${SCHEMA_VERSION}); upgrade smokemesh`);
  }
  for (let v = current; v < SCHEMA_VERSION; v++) {
    db.transaction(() => {
      MIGRATIONS[v]!(db);
      db.pragma(`user_version = ${v + 1}`);
    }).immediate();
  }
}

/**
 * Makes the file return free pages (`auto_vacuum = INCREMENTAL`; retention then hands back
 * what deletes free, src/store/retention.ts). A new file gets it before its first table; a
 * file made by an older smokemesh is converted once by a VACUUM (it rewrites the whole file and
 * needs as much free disk space again; logged before and after, as it takes a while for a big
 * file). Not a schema version: an older smokemesh reads the converted file unchanged, so no
 * downgrade is refused for it. A failed VACUUM changes nothing and is tried at the next open.
 */
export function useIncrementalVacuum(db: Db, file: string, log: Pick<StoreLogger, 'info'>): void {
  if ((db.pragma('auto_vacuum', { simple: true }) as number) === 2) return;
  db.pragma('auto_vacuum = INCREMENTAL');
  const tables = (db.prepare("SELECT count(*) AS n FROM sqlite_schema WHERE type = 'table'").get() as { n: number }).n;
  if (tables === 0) return;
  const bytes = (db.pragma('page_count', { simple: true }) as number) * (db.pragma('page_size', { simple: true }) as number);
  log.info(`store: converting ${file} (${(bytes / 1048576).toFixed(1)} MiB) to incremental vacuum, once: VACUUM rewrites every page, which takes a while for a big file, and needs ${(bytes / 1048576).toFixed(1)} MiB of free disk space`);
  const t0 = performance.now();
  try {
    db.exec('VACUUM');
  } catch (e) {
    log.info(`store: conversion of ${file} to incremental vacuum failed (${(e as Error).message}); free pages stay in the file until it succeeds at a later start`);
    return;
  }
  const after = (db.pragma('page_count', { simple: true }) as number) * (db.pragma('page_size', { simple: true }) as number);
  log.info(`store: ${file} converted in ${((performance.now() - t0) / 1000).toFixed(1)} s: ${(bytes / 1048576).toFixed(1)} → ${(after / 1048576).toFixed(1)} MiB`);
}

/** Table name of the rollup tier with `bucket` seconds per bucket. */
export function tierTable(bucket: number): string {
  return `rollup_${bucket}`;
}

/** Table name of the packed (sealed) buckets of the tier with `bucket` seconds per bucket. */
export function packTable(bucket: number): string {
  return `pack_${bucket}`;
}

/** Schema of a tier's packs: one row per series and pack period (index floor(b / packBuckets)). */
function createPackTable(db: Db, bucket: number): void {
  db.exec(`CREATE TABLE IF NOT EXISTS ${packTable(bucket)} (series INTEGER NOT NULL, p INTEGER NOT NULL, data BLOB NOT NULL, PRIMARY KEY (series, p))`);
}

/**
 * Migration 2 for one tier: its sealed rows (no histogram) become packs, series by series and
 * period by period, and leave the tier's table; open rows stay. Reads one series at a time.
 */
function packSealedRows(db: Db, bucket: number): void {
  createPackTable(db, bucket);
  const table = tierTable(bucket);
  const per = packBuckets(bucket);
  const ins = db.prepare(`INSERT INTO ${packTable(bucket)} (series, p, data) VALUES (?, ?, ?)`);
  const rowsOf = db.prepare(`SELECT * FROM ${table} WHERE series = ? AND sketch IS NULL ORDER BY b`);
  for (const series of db.prepare(`SELECT DISTINCT series FROM ${table}`).pluck().all() as number[]) {
    const rows = rowsOf.all(series) as Array<BucketRow & { b: number }>;
    for (let i = 0; i < rows.length;) {
      const p = Math.floor(rows[i]!.b / per);
      let j = i;
      while (j < rows.length && Math.floor(rows[j]!.b / per) === p) j++;
      ins.run(series, p, encodePack(rows.slice(i, j)));
      i = j;
    }
  }
  db.exec(`DELETE FROM ${table} WHERE sketch IS NULL`);
}

/** Creates the tier's tables if needed (RTT statistics in integer µs). */
export function ensureTier(db: Db, bucket: number): void {
  if (!Number.isInteger(bucket) || bucket < 1) throw new Error(`invalid tier bucket ${bucket}`);
  db.transaction(() => {
    db.exec(`
      CREATE TABLE IF NOT EXISTS ${tierTable(bucket)} (
        series INTEGER NOT NULL,
        b INTEGER NOT NULL,
        rounds INTEGER NOT NULL,
        sent INTEGER NOT NULL,
        lost INTEGER NOT NULL,
        n INTEGER NOT NULL,
        min INTEGER, max INTEGER, mean INTEGER, median INTEGER, stddev INTEGER,
        sketch BLOB,
        q BLOB,
        extra TEXT,
        PRIMARY KEY (series, b)
      ) WITHOUT ROWID;
    `);
    createPackTable(db, bucket);
    db.prepare('INSERT OR IGNORE INTO tiers (bucket) VALUES (?)').run(bucket);
  }).immediate();
}
