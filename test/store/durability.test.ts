import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { DB_FILE } from '../../src/store/index.ts';
import { writeUntilKilled } from './killer.ts';

/**
 * kill -9 at random moments while a child writes: after each kill the database passes
 * integrity_check, every round the child saw acknowledged is there, and the rollups count
 * exactly the raw rounds (they commit in the same transaction).
 */
test('acknowledged rounds survive kill -9 at any moment', { timeout: 180_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'smokemesh-kill-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  // Runs 2 h apart, all within raw retention and not in the future.
  let start = Date.now() - 13 * 3_600_000;
  const acked = new Map<number, number>();
  for (let run = 0; run < 6; run++) {
    await writeUntilKilled([dir, String(start)], 5 + Math.floor(Math.random() * 200), acked);
    // Next run starts after everything this one may have written (acked or not).
    start += 2 * 3_600_000;

    const db = new Database(join(dir, DB_FILE));
    try {
      assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
      const has = db.prepare('SELECT count(*) AS n FROM raw r JOIN series s ON s.id = r.series WHERE r.time >= ? AND r.time < ?');
      for (const [first] of acked) {
        // A batch covers 10 s of 5 targets.
        assert.equal((has.get(first, first + 10_000) as { n: number }).n, 50, `batch at ${first} after run ${run}`);
      }
      const raw = (db.prepare('SELECT count(*) AS n FROM raw').get() as { n: number }).n;
      for (const table of ['rollup_300', 'rollup_3600']) {
        assert.equal((db.prepare(`SELECT sum(rounds) AS n FROM ${table}`).get() as { n: number }).n, raw, table);
      }
    } finally {
      db.close();
    }
  }
  assert.ok(acked.size >= 6, `acknowledged batches: ${acked.size}`);
});
