import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { Command } from 'commander';
import { registerDataCommands } from '../src/cli/data.ts';
import { loadConfig } from '../src/config/loader.ts';
import type { StoreConfig } from '../src/config/schema.ts';
import { SmokemeshError } from '../src/errors.ts';
import { openStore, VmStore } from '../src/store/index.ts';
import { contractConfig, day, H, round, storeContract } from '../src/store/store-contract.ts';
import type { StoreLogger } from '../src/store/types.ts';
import { generalSection, startServerIn } from './server-kit.ts';
import { startVictoriaCluster, type VictoriaCluster } from './vm-cluster-kit.ts';
import { waitFor } from './wait.ts';

/**
 * The VictoriaMetrics backend against a cluster: writes to vminsert, reads and deletes through
 * vmselect, one tenant in the paths. Debian ships no cluster binaries, so the cluster is a
 * stand-in (test/vm-cluster-proxy.ts) in front of a single node that serves only tenant 7:3's
 * cluster paths and answers 400 to anything else: a path built the single node's way, or for
 * another tenant, fails the test.
 */

const TENANT = '7:3';

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'smokemesh-vmcluster-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A cluster stand-in that must have refused nothing by the end of the test. */
async function cluster(t: TestContext): Promise<VictoriaCluster> {
  const c = await startVictoriaCluster(TENANT);
  t.after(async () => {
    const st = await c.state();
    await c.stop();
    assert.deepEqual(st.refused, [], 'every request went to a cluster path of the tenant');
    assert.equal(st.withoutDeny, 0, 'every vmselect read asks deny_partial_response=1');
  });
  return c;
}

const clusterCfg = (c: VictoriaCluster): Pick<StoreConfig, 'backend' | 'insert_url' | 'select_url' | 'tenant'> =>
  ({ backend: 'victoriametrics', insert_url: c.insertUrl, select_url: `${c.selectUrl}/`, tenant: c.tenant });

async function openCluster(t: TestContext, cfg: StoreConfig, now: () => number, log?: StoreLogger, given?: VictoriaCluster) {
  const c = given ?? await cluster(t);
  const store = new VmStore(tempDir(t), { ...cfg, ...clusterCfg(c) }, { now, timers: false, ...(log ? { log } : {}) });
  t.after(() => store.close());
  return {
    store,
    cluster: c,
    settle: async () => {
      await store.flush();
      assert.equal(store.stats().pending, 0, store.stats().last_error);
      await c.vm.forceFlush();
    },
  };
}

test('the cluster stand-in answers 400 to a single node\'s path, another tenant\'s, and a write to vmselect (so a wrong path fails these tests)', async (t) => {
  const c = await startVictoriaCluster(TENANT);
  t.after(() => c.stop());
  const form = { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'query=1' };
  const wrong = [
    `${c.selectUrl}/api/v1/query`,
    `${c.selectUrl}/select/0/prometheus/api/v1/query`,
    `${c.selectUrl}/select/7/prometheus/api/v1/query`,
    `${c.selectUrl}/insert/7:3/prometheus/api/v1/import`,
    `${c.insertUrl}/api/v1/import`,
    `${c.insertUrl}/select/7:3/prometheus/api/v1/query`,
  ];
  for (const url of wrong) assert.equal((await fetch(url, form)).status, 400, url);
  assert.equal((await fetch(`${c.selectUrl}/select/7:3/prometheus/api/v1/query`, form)).status, 200);
  assert.equal((await c.state()).refused.length, wrong.length);
});

storeContract({ name: 'victoriametrics cluster (vminsert/vmselect stand-in, tenant 7:3)', open: (t, cfg, now, log) => openCluster(t, cfg, now, log) });

test('victoriametrics cluster: writes go to vminsert and reads to vmselect under the tenant; the store names the cluster', async (t) => {
  const now = Date.now();
  const o = await openCluster(t, contractConfig, () => now);
  assert.equal(o.store.label, `vminsert ${o.cluster.insertUrl} + vmselect ${o.cluster.selectUrl}, tenant 7:3`);
  o.store.write([round('/G/h', 'x', now - 60_000, [10, 11])]);
  await o.settle();
  assert.equal(o.store.series({ target: '/G/h', agent: 'x', from: now - H, to: now }).points.length, 1);
  const st = await o.cluster.state();
  assert.equal(st.seen['/api/v1/import'], 1);
  assert.equal(st.seen['/api/v1/export'], 1);
  // The samples are in the single node behind the stand-in.
  const q = new URLSearchParams({ query: 'count_over_time(smokemesh_round_sent[1d])', time: String(now / 1000) });
  const r = (await (await fetch(`${o.cluster.vm.url}/api/v1/query?${q}`)).json()) as { data: { result: { value: [number, string] }[] } };
  assert.equal(Number(r.data.result[0]?.value[1]), 1);
  // A failed import names vminsert's import URL.
  await o.cluster.vm.kill();
  o.store.write([round('/G/h', 'x', now - 30_000, [10])]);
  await o.store.flush();
  assert.ok(o.store.stats().last_error?.includes(`${o.cluster.insertUrl}/insert/7:3/prometheus/api/v1/import: `), o.store.stats().last_error);
  await o.cluster.vm.start();
});

test('victoriametrics cluster: a partial answer of vmselect ("isPartial": true) is refused with SMOKEMESH_E_STORE naming the URL; nothing of it is shown or rebuilt', async (t) => {
  const now = Date.UTC(2025, 0, 10);
  const o = await openCluster(t, contractConfig, () => now);
  for (const target of ['/P/a', '/P/b', '/P/c', '/P/d']) o.store.write(day(target, 'x', now - 24 * H, 20, 1));
  await o.settle();
  // A day at 100 points: buckets (query_range); a window's top (query); every series of the targets.
  const graph = { target: '/P/a', agent: 'x', from: now - 24 * H, to: now, points: 100 };
  const window = { from: now - 6 * H, to: now };
  const sums = { targets: ['/P/a', '/P/b', '/P/c', '/P/d'], from: now - 24 * H, to: now, points: 100, levels: [0.5] };
  const whole = { graph: o.store.series(graph), top: o.store.top('median', 10, window), sums: o.store.summaries(sums) };
  assert.equal(whole.graph.tier, '1h');
  assert.equal(whole.top.length, 4);
  assert.equal(whole.sums.length, 4);

  await o.cluster.setPartial(true);
  const refused = (path: string) => (e: unknown) => e instanceof SmokemeshError && e.code === 'SMOKEMESH_E_STORE'
    && e.message.includes(`${o.cluster.selectUrl}/select/7:3/prometheus/api/v1/${path}: `) && /isPartial/.test(e.message);
  assert.throws(() => o.store.series(graph), refused('query_range'));
  assert.throws(() => o.store.top('median', 10, window), refused('query'));
  assert.throws(() => o.store.summaries(sums), refused('query_range'));
  // A store on an empty data dir does not rebuild its index from a partial answer.
  const fresh = new VmStore(tempDir(t), { ...contractConfig, ...clusterCfg(o.cluster) }, { now: () => now, timers: false });
  t.after(() => fresh.close());
  await assert.rejects(fresh.rebuildIndex(), refused('series'));
  assert.deepEqual(fresh.list(), []);
  // The stand-in did answer, with half of the series: the store used none of it.
  const st = await o.cluster.state();
  assert.ok(st.seen['/api/v1/query_range']! >= 3 && st.seen['/api/v1/series']! >= 1);

  // Whole answers again: the same reads as before.
  await o.cluster.setPartial(false);
  assert.deepEqual(o.store.series(graph), whole.graph);
  assert.deepEqual(o.store.top('median', 10, window), whole.top);
  assert.deepEqual(o.store.summaries(sums), whole.sums);
  assert.equal(await fresh.rebuildIndex(), 4);
  assert.deepEqual(fresh.list(), o.store.list());
});

test('victoriametrics cluster: data copy sends the SQLite history to the cluster of the config (insert_url, select_url, tenant); data info and prune act on it', async (t) => {
  const c = await cluster(t);
  const dir = tempDir(t);
  const file = join(dir, 'smokemesh.yaml');
  const data = join(dir, 'data');
  const clusterYaml = `  insert_url: ${c.insertUrl}\n  select_url: ${c.selectUrl}\n  tenant: "${TENANT}"\n`;
  // The config still runs SQLite; the cluster is named beside it for the copy.
  writeFileSync(file, `general:\n  data_dir: ${JSON.stringify(data)}\nstore:\n${clusterYaml}`);
  const config = loadConfig(file);
  const sqlite = openStore(data, config.store, undefined, { timers: false });
  const now = Date.now();
  const start = now - 2 * 86_400_000;
  for (const target of ['/A/one', '/B/two']) sqlite.write(day(target, 'x', start, 10 + target.length, 2));
  const before = sqlite.series({ target: '/A/one', agent: 'x', from: start, to: now, points: 100 });
  sqlite.close();
  const run = async (...args: string[]) => {
    const lines: string[] = [];
    const program = new Command('smokemesh').exitOverride();
    registerDataCommands(program, { out: (l) => lines.push(l), progressOut: { write: () => true, isTTY: false } as unknown as NodeJS.WriteStream });
    await program.parseAsync(['data', ...args, '--config', file], { from: 'user' });
    return lines;
  };
  const label = `vminsert ${c.insertUrl} + vmselect ${c.selectUrl}, tenant 7:3`;
  assert.deepEqual(await run('copy', '--to', 'victoriametrics'), [`copied 2880 rounds of 2 series to ${label}`]);
  await c.vm.forceFlush();
  writeFileSync(file, `general:\n  data_dir: ${JSON.stringify(data)}\nstore:\n  backend: victoriametrics\n${clusterYaml}`);
  const vm = new VmStore(data, loadConfig(file).store, { timers: false });
  const after = vm.series({ target: '/A/one', agent: 'x', from: start, to: now, points: 100 });
  vm.close();
  assert.equal(after.tier, before.tier);
  assert.deepEqual(after.points.map((p) => [p.time, p.rounds, p.lost]), before.points.map((p) => [p.time, p.rounds, p.lost]));
  const info = await run('info');
  assert.equal(info[0], `backend: victoriametrics at ${label}`);
  assert.ok(info.includes('series: 2'), info.join('\n'));
  assert.deepEqual(await run('prune', '/B'), ['deleted 1 series']);
  await c.vm.forceFlush();
  const gone = await (await fetch(`${c.vm.url}/api/v1/series?match[]=smokemesh_round_sent&start=${Math.floor(start / 1000) - 60}`)).json() as { data: Array<{ target: string }> };
  assert.deepEqual(gone.data.map((x) => x.target), ['/A/one']);
  assert.equal((await c.state()).seen['/api/v1/admin/tsdb/delete_series'], 1);
  // Without a URL and without a VictoriaMetrics in the config: a usage error saying both ways.
  writeFileSync(file, `general:\n  data_dir: ${JSON.stringify(data)}\n`);
  const usage = (re: RegExp) => (e: unknown) => e instanceof SmokemeshError && e.code === 'SMOKEMESH_E_USAGE' && re.test(e.message);
  await assert.rejects(run('copy', '--to', 'victoriametrics'), usage(/no VictoriaMetrics to copy to: give its URL .*or set store\.url or store\.insert_url and store\.select_url in .*smokemesh\.yaml/));
  await assert.rejects(run('copy', '--to', 'victoriametrics', 'ftp://x'), usage(/"ftp:\/\/x" is not an http:\/\/ or https:\/\/ URL/));
});

test('victoriametrics cluster: a server configured with insert_url, select_url and tenant probes, sends its rounds to vminsert and answers graphs from vmselect', async (t) => {
  const c = await cluster(t);
  const dir = tempDir(t);
  const server = await startServerIn(dir, `${generalSection(dir, { pings: 3 })}store:
  backend: victoriametrics
  insert_url: ${c.insertUrl}
  select_url: ${c.selectUrl}
  tenant: "${TENANT}"
targets:
  children:
    lo: { host: 127.0.0.1, interval: 20, timeout: 500 }
`);
  t.after(() => server.close());
  const points = await waitFor('raw points of /lo read through vmselect', async () => {
    await c.vm.forceFlush();
    const r = await server.app.inject({ method: 'GET', url: `/api/v1/series?target=/lo&from=${Date.now() - 600_000}` });
    const p = r.json().series?.[0]?.points as Array<{ median: number }> | undefined;
    return p && p.length >= 3 ? p : undefined;
  }, 60_000, 500);
  assert.ok(points.every((p) => p.median > 0));
  const health = (await server.app.inject({ method: 'GET', url: '/api/v1/health' })).json() as { store?: { last_error?: string } };
  assert.equal(health.store?.last_error, undefined, JSON.stringify(health));
  const st = await c.state();
  assert.ok(st.seen['/api/v1/import']! >= 1 && st.seen['/api/v1/export']! >= 1, JSON.stringify(st.seen));
});
