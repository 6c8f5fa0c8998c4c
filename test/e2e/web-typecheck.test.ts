import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

// web/ has its own tsconfig (DOM, bundler resolution) that the root `tsc -p .` does not cover.
test('the web app typechecks (tsc -p web)', () => {
  const root = join(import.meta.dirname, '../..');
  const r = spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'web')], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stdout + r.stderr);
});
