import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { makeRound, type Round } from '../../src/probes/round.ts';
import { DB_FILE, openStore } from '../../src/store/index.ts';
import { isUnavailable } from '../../src/errors.ts';

function mount(dir: string, size: string, remount = false): boolean {
  try {
    execFileSync('mount', remount ? ['-o', `remount,size=${size}`, dir] : ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'pipe' });
    return true;
  } catch {
    return false;
  }
}

/** A real full disk: a 1 MiB tmpfs this test mounts, fills, then grows. */
test('disk full: write throws SMOKEMESH_E_UNAVAILABLE and commits nothing; what returned is on disk; retried batches land once', { timeout: 120_000 }, async (t) => {
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
  const store = openStore(dir, { raw_days: 14, tiers: [{ bucket: 300, keep_days: 90 }], synchronous: 'full' },
    { info() {}, warn() {}, error: (m) => errors.push(m) });
  closers.push(() => store.close());
  const now = Date.now();
  let written = 0;
  const batch = (): Round[] => {
    const rs: Round[] = [];
    for (let i = 0; i < 100; i++, written++) {
      rs.push(makeRound({ target: `/F/t${written % 50}`, agent: 'a', probe: 'icmp', time: now - 3_600_000 + Math.floor(written / 50) * 1000, step: 60 },
        { sent: 20, rtts: Array.from({ length: 20 }, (_, k) => 1 + k * 0.37 + (written % 13) * 0.011) }));
    }
    return rs;
  };
  const acknowledged: Round[] = [];
  const kept: Round[][] = []; // what a writer (an agent) keeps after a refusal, to send again
  const tryWrite = (rs: Round[]): boolean => {
    try {
      store.write(rs);
      acknowledged.push(...rs);
      return true;
    } catch (e) {
      assert.ok(isUnavailable(e), `unexpected error ${String(e)}`);
      kept.push(rs);
      return false;
    }
  };
  while (kept.length === 0) {
    assert.ok(written < 200_000, 'the 1 MiB filesystem never filled');
    tryWrite(batch());
  }
  assert.match(store.stats().last_error ?? '', /SMOKEMESH_E_UNAVAILABLE: .*smokemesh\.db: cannot commit: .*(full|SQLITE_FULL)/i);
  assert.equal(store.stats().unavailable, true);
  assert.equal(errors.length, 1);
  // More rounds while full: refused as a whole, nothing held by the store.
  tryWrite(batch());
  tryWrite(batch());
  assert.equal(kept.length, 3);

  // What was acknowledged is intact and readable by another connection; nothing of the refused batches is there.
  const check = new Database(join(dir, DB_FILE), { readonly: true });
  assert.equal(check.pragma('quick_check', { simple: true }), 'ok');
  assert.equal((check.prepare('SELECT count(*) AS n FROM raw').get() as { n: number }).n, acknowledged.length);
  check.close();

  assert.ok(mount(dir, '64m', true), 'remount with more space');
  // The writer retries what it kept, with backoff, until the store takes it.
  await until(() => {
    while (kept.length) {
      try {
        store.write(kept[0]!);
      } catch (e) {
        assert.ok(isUnavailable(e), `unexpected error ${String(e)}`);
        return false;
      }
      acknowledged.push(...kept.shift()!);
    }
    return true;
  }, 60_000);
  assert.equal(store.stats().last_error, undefined);
  const db = new Database(join(dir, DB_FILE), { readonly: true });
  closers.push(() => db.close());
  assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
  assert.equal((db.prepare('SELECT count(*) AS n FROM raw').get() as { n: number }).n, written);
  assert.equal(acknowledged.length, written);
  assert.equal((db.prepare('SELECT sum(rounds) AS n FROM rollup_300').get() as { n: number }).n, written);
});

async function until(cond: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}
