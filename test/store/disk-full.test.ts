import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { makeRound, type Round } from '../../src/probes/round.ts';
import { DB_FILE, openStore } from '../../src/store/index.ts';

function mount(dir: string, size: string, remount = false): boolean {
  try {
    execFileSync('mount', remount ? ['-o', `remount,size=${size}`, dir] : ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'pipe' });
    return true;
  } catch {
    return false;
  }
}

/** A real full disk: a 1 MiB tmpfs this test mounts, fills, then grows. */
test('disk full: rounds wait in memory, stored data stays intact, pending drains when space returns', { timeout: 120_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'smokemesh-full-'));
  if (!mount(dir, '1m')) {
    rmSync(dir, { recursive: true, force: true });
    t.skip('cannot mount a tmpfs here (needs root)');
    return;
  }
  // Hooks run in order; the ones closing the database are added later, so unmount goes last.
  const closers: Array<() => void> = [];
  t.after(() => {
    for (const c of closers.reverse()) c();
    try { execFileSync('umount', [dir]); } catch { /* already gone */ }
    rmSync(dir, { recursive: true, force: true });
  });
  const errors: string[] = [];
  const store = openStore(dir, { raw_days: 14, tiers: [{ bucket: 300, keep_days: 90 }], synchronous: 'full', max_pending: 1_000_000 },
    { info() {}, warn() {}, error: (m) => errors.push(m) });
  closers.push(() => store.close());
  const now = Date.now();
  let written = 0;
  const all: Round[] = [];
  const batch = (): Round[] => {
    const rs: Round[] = [];
    for (let i = 0; i < 100; i++, written++) {
      rs.push(makeRound({ target: `/F/t${written % 50}`, agent: 'a', probe: 'icmp', time: now - 3_600_000 + Math.floor(written / 50) * 1000, step: 60 },
        { sent: 20, rtts: Array.from({ length: 20 }, (_, k) => 1 + k * 0.37 + (written % 13) * 0.011) }));
    }
    all.push(...rs);
    return rs;
  };
  let acknowledged = 0;
  while (store.stats().pending === 0) {
    assert.ok(written < 200_000, 'the 1 MiB filesystem never filled');
    store.write(batch());
    if (store.stats().pending === 0) acknowledged = written;
  }
  assert.match(store.stats().last_error ?? '', /SMOKEMESH_E_STORE: .*smokemesh\.db: .*(full|SQLITE_FULL)/i);
  assert.notEqual(errors.length, 0);
  // More rounds while full: they queue.
  const before = store.stats().pending;
  store.write(batch());
  store.write(batch());
  assert.equal(store.stats().pending, before + 200);

  // What was acknowledged before the disk filled is intact and readable by another connection.
  const check = new Database(join(dir, DB_FILE), { readonly: true });
  assert.equal(check.pragma('quick_check', { simple: true }), 'ok');
  assert.equal((check.prepare('SELECT count(*) AS n FROM raw').get() as { n: number }).n, acknowledged);
  check.close();

  assert.ok(mount(dir, '64m', true), 'remount with more space');
  await until(() => store.stats().pending === 0, 60_000);
  assert.equal(store.stats().last_error, undefined);
  assert.equal(store.stats().dropped, 0);
  const db = new Database(join(dir, DB_FILE), { readonly: true });
  closers.push(() => db.close());
  assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
  assert.equal((db.prepare('SELECT count(*) AS n FROM raw').get() as { n: number }).n, all.length);
  assert.equal((db.prepare('SELECT sum(rounds) AS n FROM rollup_300').get() as { n: number }).n, all.length);
});

async function until(cond: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}
