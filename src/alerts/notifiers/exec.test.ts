import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execArgs, execKind } from './exec.ts';
import type { AlertEvent } from './notifier.ts';
import { tempDir, writeHook } from '../testkit.ts';

const base: AlertEvent = {
  version: 1, id: 'x', state: 'raised',
  alert: { name: 'lossy', type: 'loss', pattern: '>50%', comment: '', edgetrigger: true },
  target: { path: '/Net/link', dotted: 'Net.link [from agent-b]', host: '192.0.2.1', title: 'Link', labels: {} },
  agent: 'agent-b', time: 0, loss: ['S', '100%'], rtt: ['S', 'U'], recipients: [],
};

test('exec: SmokePing argument order; the sixth only with edgetrigger', () => {
  assert.deepEqual(execArgs(base), ['lossy', 'Net.link [from agent-b]', 'loss: S, 100%', 'rtt: S, U', '192.0.2.1', '1']);
  assert.deepEqual(execArgs({ ...base, state: 'cleared' }).slice(5), ['0']);
  assert.deepEqual(execArgs({ ...base, state: 'firing', alert: { ...base.alert, edgetrigger: false } }).length, 5);
});

test('exec: runs without a shell, passes the event in SMOKEMESH_EVENT, reports a failing exit', async () => {
  const dir = tempDir();
  const hook = writeHook(dir);
  const marker = join(dir, 'pwned');
  const evil = { ...base, alert: { ...base.alert, name: `$(touch ${marker}); \`touch ${marker}\`` } };
  await execKind.create('h', { command: hook.path }).send(evil, AbortSignal.timeout(5000));
  const [call] = hook.calls();
  assert.equal(call!.args[0], evil.alert.name, 'the argument arrives verbatim');
  assert.equal(existsSync(marker), false, 'nothing was interpreted by a shell');
  assert.equal((call!.event as unknown as AlertEvent).id, 'x');
  await assert.rejects(execKind.create('f', { command: '/bin/false' }).send(base, AbortSignal.timeout(5000)), /exit code 1/);
  await assert.rejects(execKind.create('m', { command: join(dir, 'missing') }).send(base, AbortSignal.timeout(5000)), /ENOENT/);
  const slow = join(dir, 'slow.sh');
  writeFileSync(slow, '#!/bin/sh\nexec sleep 30\n');
  chmodSync(slow, 0o755);
  await assert.rejects(execKind.create('s', { command: slow }).send(base, AbortSignal.timeout(200)), /abort|killed/i);
});
