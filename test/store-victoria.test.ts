import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { OUTBOX_FILE } from '../src/store/vm/outbox.ts';
import { generalSection, startServerIn } from './server-kit.ts';
import { startVictoria } from './victoria.ts';
import { waitFor } from './wait.ts';

test('a server with store.backend victoriametrics probes, acknowledges into its outbox and answers graphs, overview, latest and top from VictoriaMetrics', async (t) => {
  const vm = await startVictoria();
  t.after(() => vm.stop());
  const dir = mkdtempSync(join(tmpdir(), 'smokemesh-server-vm-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const server = await startServerIn(dir, `${generalSection(dir, { pings: 5 })}store:
  backend: victoriametrics
  url: ${vm.url}
  tiers: [{ bucket: 10, keep_days: 1 }, { bucket: 3600, keep_days: 30 }]
targets:
  children:
    Local:
      children:
        lo4: { host: 127.0.0.1, interval: 20, timeout: 500 }
        lo4b: { host: 127.0.0.1, interval: 20, timeout: 500 }
`);
  t.after(() => server.close());
  const get = async (url: string) => {
    const res = await server.app.inject({ method: 'GET', url });
    return { status: res.statusCode, body: res.json() };
  };
  // Rounds reach VictoriaMetrics (sent from the outbox) and come back through MetricsQL.
  const raw = await waitFor('raw points of /Local/lo4 from VictoriaMetrics', async () => {
    await vm.forceFlush();
    const r = await get('/api/v1/series?target=/Local/lo4&from=' + (Date.now() - 600_000));
    return r.body.series?.[0]?.points?.length >= 8 ? r.body.series[0] : undefined;
  }, 90_000, 500);
  assert.equal(raw.tier, 'raw');
  assert.equal(raw.points[0].smoke.length, 5);
  assert.ok(raw.points.every((p: { median: number; loss_pct: number }) => p.median > 0 && p.median < 50 && p.loss_pct === 0), JSON.stringify(raw.points[0]));
  assert.equal(statSync(join(dir, 'data', OUTBOX_FILE)).mode & 0o777, 0o600);

  // Ten-second buckets when the budget asks for fewer points: counts add up to the raw rounds.
  const now = Date.now();
  const from = now - 600_000;
  // Raw first: rounds arriving between the two reads can only add to the buckets' count.
  const rawNow = (await get(`/api/v1/series?target=/Local/lo4&from=${from}&to=${now}`)).body.series[0];
  // The window ends now: the rounds in it that are still in the outbox reach VictoriaMetrics soon.
  let bucketRounds = 0;
  const buckets = await waitFor('the 10 s buckets to count the raw rounds of the window', async () => {
    await vm.forceFlush();
    const b = (await get(`/api/v1/series?target=/Local/lo4&from=${from}&to=${now}&points=70`)).body.series[0];
    bucketRounds = b.points.reduce((s: number, p: { rounds?: number }) => s + (p.rounds ?? 1), 0);
    return bucketRounds >= rawNow.points.length - 1 ? b : undefined;
  }, 30_000, 500).catch(() => assert.fail(`the 10 s buckets count ${bucketRounds} rounds, raw holds ${rawNow.points.length}`));
  assert.equal(buckets.tier, '10s');
  assert.equal(buckets.points[0].smoke.length, 11);

  const overview = await get(`/api/v1/overview?path=/Local&from=${from}&to=${now}`);
  assert.equal(overview.status, 200, JSON.stringify(overview.body));
  const latest = await get('/api/v1/latest?prefix=/Local');
  assert.equal(latest.body.rounds.length, 2);
  const top = await get('/api/v1/top?metric=median&window=1h&n=5');
  assert.equal(top.status, 200);
  assert.deepEqual(top.body.rows.map((r: { target: string }) => r.target).sort(), ['/Local/lo4', '/Local/lo4b']);
  const metrics = await (await fetch(`${server.url}/metrics`)).text();
  assert.match(metrics, /smokemesh_store_rounds_written_total [1-9]/);
});
