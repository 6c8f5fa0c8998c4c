import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VmStore } from '../../src/store/index.ts';
import { startVictoria } from '../victoria.ts';
import { writeUntilKilled } from './killer.ts';

/**
 * The VictoriaMetrics backend's acknowledgement: kill -9 a child writing (and sending) at
 * random moments; after the last kill a new store on the same data dir sends what its outbox
 * held, and every round the child saw acknowledged is in VictoriaMetrics exactly once.
 */
test('victoriametrics: acknowledged rounds survive kill -9 of the server at any moment, once each', { timeout: 240_000 }, async (t) => {
  const vm = await startVictoria();
  t.after(() => vm.stop());
  const dir = mkdtempSync(join(tmpdir(), 'smokemesh-kill-vm-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  let start = Date.now() - 13 * 3_600_000;
  const acked = new Map<number, number>();
  for (let run = 0; run < 4; run++) {
    await writeUntilKilled([dir, String(start), vm.url], 20 + Math.floor(Math.random() * 300), acked);
    start += 2 * 3_600_000;
  }
  const s = new VmStore(dir, { raw_days: 14, tiers: [{ bucket: 300, keep_days: 90 }], synchronous: 'full', max_pending: 1_000_000, backend: 'victoriametrics', url: vm.url }, { timers: false });
  t.after(() => s.close());
  await s.flush();
  assert.equal(s.stats().pending, 0, s.stats().last_error);
  await vm.forceFlush();
  const res = await fetch(`${vm.url}/api/v1/export?${new URLSearchParams({ 'match[]': 'smokemesh_round_sent', start: '0' })}`);
  const times = new Map<string, number>();
  for (const line of (await res.text()).split('\n')) {
    if (!line) continue;
    const l = JSON.parse(line) as { metric: { target: string }; timestamps: number[] };
    for (const ts of l.timestamps) times.set(`${l.metric.target} ${ts}`, (times.get(`${l.metric.target} ${ts}`) ?? 0) + 1);
  }
  for (const [first] of acked) {
    // A batch is 10 s of 5 targets, 5 rounds each (1 s apart).
    for (let k = 0; k < 10; k++) {
      for (let i = 0; i < 5; i++) assert.equal(times.get(`/D/t${i} ${first + k * 1000}`), 1, `round of /D/t${i} at ${first + k * 1000}`);
    }
  }
  assert.ok(acked.size >= 80, `acknowledged batches: ${acked.size}`);
});
