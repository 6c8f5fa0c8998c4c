import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { startServer } from './agents-kit.ts';

test('startServer: a server that ends before it listens fails with its own output, not with a timeout', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sm-kit-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const cfg = join(dir, 'smokemesh.yaml');
  writeFileSync(cfg, `general:\n  step: 0\n  data_dir: ${join(dir, 'data')}\n`);
  await assert.rejects(startServer(cfg, { timeoutMs: 120_000 }), (e: Error) => {
    assert.match(e.message, /^server exited \(\d+\) before it listened: /);
    assert.match(e.message, /general\.step/);
    return true;
  });
});
