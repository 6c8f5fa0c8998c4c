import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { validateConfig } from '../../server/config-sections.ts';
import { importSmokeping } from './run.ts';
import { makeSmokepingRrd, smokepingConfig } from './testkit.ts';

function rrdtoolMissing(): string | false {
  try {
    execFileSync('rrdtool', ['--version'], { stdio: 'ignore' });
    return false;
  } catch {
    return 'rrdtool does not run (apt-get install rrdtool)';
  }
}

/** Series with any row in raw or a tier, open or packed (an aborted transaction leaves none). */
function seriesIn(file: string): number {
  const db = new Database(file, { readonly: true });
  try {
    const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND (name = 'raw' OR name LIKE 'rollup_%' OR name LIKE 'pack_%')").all() as Array<{ name: string }>).map((r) => r.name);
    return (db.prepare(`SELECT count(*) AS n FROM series WHERE ${tables.map((t) => `EXISTS (SELECT 1 FROM ${t} WHERE ${t}.series = series.id)`).join(' OR ')}`).get() as { n: number }).n;
  } finally {
    db.close();
  }
}

test('the store failing to commit (a held lock) stops the import with SMOKEMESH_E_UNAVAILABLE and nothing stored; run again, it imports everything', { skip: rrdtoolMissing(), timeout: 120_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'smokemesh-import-run-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const sp = join(dir, 'sp');
  mkdirSync(join(sp, 'data', 'g'), { recursive: true });
  const end = Math.floor(Date.now() / 1000);
  for (const name of ['a', 'b']) await makeSmokepingRrd(join(sp, 'data', 'g', `${name}.rrd`), { end, days: 1, pings: 5, round: () => [10, 11, 12, 13, 14] });
  writeFileSync(join(sp, 'config'), smokepingConfig({
    dir: sp, pings: 5,
    targets: 'menu = Top\ntitle = t\n\n+ g\nmenu = g\ntitle = g\n++ a\nhost = 127.0.0.1\n++ b\nhost = 127.0.0.2\n',
  }));
  const out = join(dir, 'mesh', 'smokemesh.yaml');
  const file = join(dir, 'mesh', 'data', 'smokemesh.db');
  // Once the first series is in, another connection takes the write lock and keeps it.
  let locker: Database.Database | undefined;
  const progress = (done: number) => {
    if (done !== 1) return;
    locker = new Database(file);
    locker.exec('BEGIN IMMEDIATE');
  };
  const opts = { config: join(sp, 'config'), out, agentName: 'master', check: validateConfig, concurrency: 1 };
  try {
    await assert.rejects(importSmokeping({ ...opts, progress }),
      (e: Error & { code?: string }) => e.code === 'SMOKEMESH_E_UNAVAILABLE' && /another process holds a lock/.test(e.message) && /nothing of it was stored/.test(e.message));
  } finally {
    locker?.exec('ROLLBACK');
    locker?.close();
  }
  assert.ok(locker, 'the lock was taken after the first series');
  assert.equal(seriesIn(file), 1, 'the second series was not stored at all');

  const summary = await importSmokeping(opts);
  assert.deepEqual(summary.files, { read: 2, missing: 0, failed: 0 });
  assert.equal(summary.unchanged, 1, 'the first series had all its history already');
  assert.equal(seriesIn(file), 2);
});
