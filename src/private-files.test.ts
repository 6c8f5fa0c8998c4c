import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Spool } from './agent/spool.ts';
import { openAlertDb } from './alerts/db.ts';
import { openTaskDb } from './tasks/db.ts';
import { makeRound } from './probes/round.ts';
import { DB_FILE, openStore } from './store/index.ts';

const mode = (p: string) => (statSync(p).mode & 0o777).toString(8);
const round = makeRound({ target: '/t', agent: 'a', probe: 'tcp', time: Date.now() - 60_000, step: 60 }, { sent: 1, rtts: [1] });

for (const umask of [0o022, 0o000]) {
  test(`umask ${umask.toString(8).padStart(3, '0')}: data dir 700; store, alert database, task database, spool and their WAL/SHM 600`, (t) => {
    const old = process.umask(umask);
    t.after(() => process.umask(old));
    const base = mkdtempSync(join(tmpdir(), 'sm-modes-'));
    const data = join(base, 'data');
    const store = openStore(data, { raw_days: 14, tiers: [{ bucket: 300, keep_days: 90 }], synchronous: 'full' }, undefined, { timers: false });
    store.write([round]);
    const alerts = openAlertDb(join(data, 'alerts.sqlite'));
    const tasks = openTaskDb(join(data, 'tasks.sqlite'));
    tasks.prune(0); // a write: the WAL and SHM come into being
    const spool = new Spool(join(data, 'outbox'));
    spool.append([round]);
    const files = [DB_FILE, 'alerts.sqlite', 'tasks.sqlite', 'outbox/outbox.sqlite'].flatMap((f) => [f, `${f}-wal`, `${f}-shm`]);
    // The WAL and SHM exist while the connections are open.
    for (const f of files) {
      assert.ok(existsSync(join(data, f)), f);
      assert.equal(mode(join(data, f)), '600', f);
    }
    assert.equal(mode(data), '700');
    assert.equal(mode(join(data, 'outbox')), '700');
    store.close();
    alerts.close();
    tasks.close();
    spool.close();
  });
}

test('an existing install is tightened at start, and the log says so', (t) => {
  const old = process.umask(0o022);
  t.after(() => process.umask(old));
  const data = mkdtempSync(join(tmpdir(), 'sm-modes-old-'));
  openStore(data, { raw_days: 14, tiers: [], synchronous: 'full' }, undefined, { timers: false }).close();
  chmodSync(data, 0o755);
  chmodSync(join(data, DB_FILE), 0o644);
  writeFileSync(join(data, `${DB_FILE}-wal`), '');
  chmodSync(join(data, `${DB_FILE}-wal`), 0o666);
  mkdirSync(join(data, 'outbox'), { mode: 0o755 });
  chmodSync(join(data, 'outbox'), 0o755);
  // A task database (and its WAL) left readable, e.g. by a copy with cp.
  openTaskDb(join(data, 'tasks.sqlite')).close();
  chmodSync(join(data, 'tasks.sqlite'), 0o644);
  writeFileSync(join(data, 'tasks.sqlite-wal'), '');
  chmodSync(join(data, 'tasks.sqlite-wal'), 0o644);
  const warnings: string[] = [];
  const store = openStore(data, { raw_days: 14, tiers: [], synchronous: 'full' }, { info() {}, warn: (m) => warnings.push(m), error() {} }, { timers: false });
  const spool = new Spool(join(data, 'outbox'), undefined, (m) => warnings.push(m));
  const tasks = openTaskDb(join(data, 'tasks.sqlite'), (m) => warnings.push(m));
  assert.equal(mode(data), '700');
  assert.equal(mode(join(data, 'tasks.sqlite')), '600');
  assert.equal(mode(join(data, 'tasks.sqlite-wal')), '600');
  assert.ok(warnings.some((w) => w.includes(`${join(data, 'tasks.sqlite')}-wal from 644 to 600`)), warnings.join('\n'));
  assert.equal(mode(join(data, DB_FILE)), '600');
  assert.equal(mode(join(data, `${DB_FILE}-wal`)), '600');
  assert.equal(mode(join(data, 'outbox')), '700');
  assert.ok(warnings.some((w) => w.includes(`tightened the mode of ${data} from 755 to 700`)), warnings.join('\n'));
  assert.ok(warnings.some((w) => w.includes(`${join(data, DB_FILE)} from 644 to 600`)), warnings.join('\n'));
  assert.ok(warnings.some((w) => w.includes(`${join(data, DB_FILE)}-wal from 666 to 600`)), warnings.join('\n'));
  assert.ok(warnings.some((w) => w.includes(`${join(data, 'outbox')} from 755 to 700`)), warnings.join('\n'));
  store.close();
  spool.close();
  tasks.close();
});
