import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';

// tsx runs the sources without checking types; this keeps the strict build honest in CI.
test('the server, CLI, tests and benchmarks typecheck (tsc -p .)', () => {
  const root = join(import.meta.dirname, '..');
  const r = spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', root], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stdout + r.stderr);
});
