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

test('data copy --to victoriametrics moves the raw history with progress, again without doubling, and stops clearly when VM is down', async (t) => {
  const { startVictoria } = await import('../../test/victoria.ts');
  const { VmStore } = await import('../store/index.ts');
  const { PassThrough } = await import('node:stream');
  const vm = await startVictoria();
  t.after(() => vm.stop());
  const dir = mkdtempSync(join(tmpdir(), 'smokemesh-cli-copy-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'smokemesh.yaml');
  writeFileSync(file, `general:\n  data_dir: ${JSON.stringify(join(dir, 'data'))}\n`);
  const config = loadConfig(file);
  const store = openStore(join(dir, 'data'), config.store, undefined, { timers: false });
  const now = Date.now();
  const start = now - 3 * 86_400_000;
  for (const target of ['/A/one', '/B/two']) {
    const rounds = Array.from({ length: 3 * 1440 }, (_, i) => makeRound({ target, agent: 'x', probe: 'icmp', time: start + i * 60_000, step: 60 },
      { sent: 10, rtts: Array.from({ length: 10 - (i % 4) }, (_, k) => 5 + k + (i % 13)) }));
    store.write(rounds);
  }
  const before = store.series({ target: '/A/one', agent: 'x', from: start, to: now, points: 100 });
  store.close();

  const progress = new PassThrough();
  let shown = '';
  progress.on('data', (d: Buffer) => { shown += d.toString(); });
  const run = async (...args: string[]) => {
    const lines: string[] = [];
    const program = new Command('smokemesh').exitOverride();
    registerDataCommands(program, { out: (l) => lines.push(l), progressOut: progress as unknown as NodeJS.WriteStream });
    await program.parseAsync(['data', ...args, '--config', file], { from: 'user' });
    return lines;
  };
  assert.deepEqual(await run('copy', '--to', 'victoriametrics', vm.url), [`copied 8640 rounds of 2 series to ${vm.url}`]);
  assert.match(shown, /8640\/8640 rounds/);
  await run('copy', '--to', 'victoriametrics', vm.url);
  await vm.forceFlush();
  const v = new VmStore(join(dir, 'data'), { ...config.store, backend: 'victoriametrics', url: vm.url }, { timers: false });
  assert.deepEqual(v.list().map((s) => s.target), ['/A/one', '/B/two']);
  const after = v.series({ target: '/A/one', agent: 'x', from: start, to: now, points: 100 });
  assert.equal(after.tier, before.tier);
  assert.deepEqual(after.points.map((p) => [p.time, p.rounds, p.lost]), before.points.map((p) => [p.time, p.rounds, p.lost]));
  // With store.backend victoriametrics, the other data commands act on VictoriaMetrics.
  v.close();
  writeFileSync(file, `general:\n  data_dir: ${JSON.stringify(join(dir, 'data'))}\nstore:\n  backend: victoriametrics\n  url: ${vm.url}\n`);
  const info = await run('info', '--series');
  assert.equal(info[0], `backend: victoriametrics at ${vm.url}`);
  assert.ok(info.includes('series: 2') && info.some((l) => l.startsWith('/B/two\tx\ticmp')), info.join('\n'));
  assert.deepEqual(await run('prune', '/B'), ['deleted 1 series']);
  await vm.forceFlush();
  const gone = await (await fetch(`${vm.url}/api/v1/series?match[]=smokemesh_round_sent`)).json() as { data: Array<{ target: string }> };
  assert.deepEqual(gone.data.map((x) => x.target), ['/A/one']);
  await assert.rejects(run('rename', '/A', '/C'), /not supported with store\.backend: victoriametrics/);
  await vm.kill();
  await assert.rejects(run('copy', '--to', 'victoriametrics', vm.url), /SMOKEMESH_E_STORE|copy stopped: .*run the command again/);
  await assert.rejects(run('copy', '--to', 'influxdb', vm.url), /only victoriametrics/);
});
