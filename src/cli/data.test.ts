import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { loadConfig } from '../config/loader.ts';
import { makeRound } from '../probes/round.ts';
import { openStore } from '../store/index.ts';
import { registerDataCommands } from './data.ts';

test('data rename, prune and info act on the store of --config', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'smokemesh-cli-data-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'smokemesh.yaml');
  writeFileSync(file, `general:\n  data_dir: ${JSON.stringify(join(dir, 'data'))}\nstore:\n  raw_days: 7\n`);
  const config = loadConfig(file);
  const store = openStore(join(dir, 'data'), config.store, undefined, { timers: false });
  const now = Date.now();
  for (const target of ['/A/one', '/A/two', '/B/three']) {
    store.write([makeRound({ target, agent: 'x', probe: 'icmp', time: now - 60_000, step: 60 }, { sent: 3, rtts: [1, 2] })]);
  }
  store.close();

  const run = async (...args: string[]) => {
    const lines: string[] = [];
    const program = new Command('smokemesh').exitOverride();
    registerDataCommands(program, { out: (l) => lines.push(l) });
    await program.parseAsync(['data', ...args, '--config', file], { from: 'user' });
    return lines;
  };
  assert.deepEqual(await run('rename', '/A', '/C'), ['moved 2 series from /A to /C']);
  assert.deepEqual(await run('prune', '--dry-run', '/B'), ['would delete /B/three (agent x)', '1 series would be deleted']);
  assert.deepEqual(await run('prune', '/B', '/C/one'), ['deleted 2 series']);
  const info = await run('info', '--series');
  assert.ok(info.includes('series: 1'), info.join('\n'));
  assert.ok(info.some((l) => l.startsWith('/C/two\tx\ticmp')), info.join('\n'));
  await assert.rejects(run('rename', 'C', '/D'), /SMOKEMESH_E_USAGE|must start with/);
});
