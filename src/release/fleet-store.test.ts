import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createPrivateKey } from 'node:crypto';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FleetStore } from './fleet-store.ts';
import type { ReleaseInfo } from './manifest.ts';
import { planRollout } from './rollout.ts';
import { generateReleaseKeys, sha256, signRelease } from './signing.ts';

const info: ReleaseInfo = { name: 'smokemesh', version: '1.1.0', os: 'linux', arch: 'x64', node_abi: '115', node_major: 20, built_at: '2026-12-02T00:00:00.000Z' };
const FILE = 'smokemesh-1.1.0-linux-x64.tar.gz';
const key = createPrivateKey(generateReleaseKeys().privatePem);
const sigOf = (bytes: Buffer, file = FILE, i = info) => JSON.stringify(signRelease(i, file, { sha256: sha256(bytes), size: bytes.length }, key));

test('releases: kept 600 in a 700 directory, indexed with their signature; refusals name the reason', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sm-fleet-store-'));
  const store = new FleetStore(dir);
  const bytes = Buffer.from('not really a tarball, but the store only checks name, size and digest');
  const row = store.addRelease(FILE, bytes, sigOf(bytes), 1000);
  assert.deepEqual({ version: row.version, arch: row.arch, size: row.size }, { version: '1.1.0', arch: 'x64', size: bytes.length });
  assert.equal(statSync(store.dir).mode & 0o777, 0o700);
  assert.equal(statSync(store.path(FILE)).mode & 0o777, 0o600);
  assert.equal(statSync(join(dir, 'fleet.sqlite')).mode & 0o777, 0o600);
  assert.deepEqual(readFileSync(store.path(FILE)), bytes);
  assert.equal(store.release('1.1.0', 'x64')!.signature, sigOf(bytes));

  assert.throws(() => store.addRelease('smokemesh-1.1.0.tgz', bytes, sigOf(bytes)), /not a release file name/);
  assert.throws(() => store.addRelease(FILE, bytes, '{"format":"nope"}'), /release signature/);
  assert.throws(() => store.addRelease('smokemesh-1.2.0-linux-x64.tar.gz', bytes, sigOf(bytes)), /its signature is for smokemesh-1\.1\.0-linux-x64\.tar\.gz/);
  assert.throws(() => store.addRelease(FILE, Buffer.concat([bytes, Buffer.from('!')]), sigOf(bytes)), /the tarball was altered or cut short/);
  const same = Buffer.from(bytes);
  same[0] = same[0]! ^ 1;
  assert.throws(() => store.addRelease(FILE, same, sigOf(bytes)), /SHA-256 .* the tarball was altered/);
  assert.equal(store.releases().length, 1, 'refused uploads leave nothing');

  assert.equal(store.deleteRelease(FILE), true);
  assert.equal(store.deleteRelease(FILE), false);
  store.close();
});

test('rollouts survive a reopen (a restarted server carries on)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sm-fleet-store-'));
  let store = new FleetStore(dir);
  const r = planRollout(store.nextRolloutId(), { version: '1.1.0', canary: '1', canary_per_region: false, batch: '1', wait_s: 1, timeout_s: 60 },
    [{ name: 'a1', region: 'r', alive: true, version: '1.0.0' }, { name: 'a2', region: 'r', alive: true, version: '1.0.0' }], 5);
  store.saveRollout(r);
  store.close();
  store = new FleetStore(dir);
  assert.deepEqual(store.rollout(1), r);
  assert.equal(store.nextRolloutId(), 2);
  assert.deepEqual(store.rollouts().map((x) => x.id), [1]);
  store.close();
});
