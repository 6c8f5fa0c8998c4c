import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hashPassword, parseUsers, readUsers, setUser, verifyPassword } from './users.ts';

test('passwords: scrypt with a salt per hash; the right password passes, others and unknown users do not', async () => {
  const a = await hashPassword('correct horse');
  const b = await hashPassword('correct horse');
  assert.match(a, /^scrypt\$32768\$8\$1\$[\w-]{22}\$[\w-]{43}$/);
  assert.notEqual(a, b, 'a fresh salt each time');
  assert.equal(await verifyPassword('correct horse', a), true);
  assert.equal(await verifyPassword('correct horsE', a), false);
  assert.equal(await verifyPassword('', a), false);
  assert.equal(await verifyPassword('correct horse', undefined), false, 'no such user');
  assert.equal(await verifyPassword('x', 'scrypt$3$8$1$AAAA$AAAA'), false, 'a cost that is not a power of two');
  assert.equal(await verifyPassword('x', 'plain'), false);
});

test('users file: parsed with line numbers; written with mode 600 whatever the umask; a user is replaced, not doubled', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'smokemesh-users-'));
  try {
    assert.throws(() => parseUsers('# c\n\nalice:scrypt$x\nbad line\n', '/etc/u'), /^SmokemeshError: \/etc\/u:4: expected "name:scrypt\$…"/);
    const file = join(dir, 'users');
    const old = process.umask(0o000);
    try {
      assert.deepEqual(await setUser(file, 'alice', 'first password'), { added: true });
    } finally {
      process.umask(old);
    }
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.deepEqual(await setUser(file, 'bob', 'bob password'), { added: true });
    assert.deepEqual(await setUser(file, 'alice', 'second password'), { added: false });
    const users = readUsers(file);
    assert.deepEqual([...users.keys()], ['alice', 'bob']);
    assert.equal(await verifyPassword('second password', users.get('alice')), true);
    assert.equal(await verifyPassword('first password', users.get('alice')), false);
    await assert.rejects(setUser(file, 'x y', 'long enough'), /user name "x y"/);
    await assert.rejects(setUser(file, 'carol', 'short'), /at least 8 characters/);
    chmodSync(file, 0o644);
    assert.throws(() => readUsers(file), /readable by group or others \(mode 644\); run chmod 600/);
    assert.equal(readFileSync(file, 'utf8').split('\n').filter((l) => l.startsWith('alice:')).length, 1);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
