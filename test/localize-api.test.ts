import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cdnWorld, type Fault } from '../src/localize/testkit.ts';
import { startSim } from './localize-sim.ts';
import { waitFor } from './wait.ts';

/**
 * check-config as a child process, awaited (not spawnSync: that would stop this process's event
 * loop, and the server under test runs in it; its idle keep-alive sockets then close under the
 * next request).
 */
const checkConfig = (file: string) => new Promise<{ status: number; stderr: string }>((resolve) => {
  execFile(process.execPath, ['bin/smokemesh.js', 'check-config', file], { encoding: 'utf8' }, (err, _stdout, stderr) => {
    resolve({ status: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stderr });
  });
});

const world = cdnWorld({ provinces: 3, agentsPerCell: 1, idcs: 3, vipsPerIdc: 4 });

test('localization in the server: API (scopes, matrix, causes with evidence, suppressed alerts, cell series, history), /metrics, OpenAPI, reload and check-config', { timeout: 600_000 }, async () => {
  const sim = await startSim({ world, localize: true }, 40);
  const { server } = sim;
  const api = async <T>(path: string): Promise<T> => {
    const r = await fetch(server.url + path);
    assert.equal(r.status, 200, `${path}: ${r.status} ${await r.clone().text()}`);
    return (await r.json()) as T;
  };
  try {
    const down: Fault[] = [{ name: 'idc', from: sim.start + 5 * 60_000 + 17_000, to: Infinity, match: (_a, t) => t.labels.idc === 'idc2', loss: 100 }];
    for (let i = 0; i < 12; i++) await sim.step(i, down);

    type Scope = { name: string; counts: { series: number; bad: number }; causes: { id: string; kind: string; raised: number | null; series: { bad: number; total: number }; networks: { seeing: string[] }; bad_cells: unknown[]; suppressed: { count: number; recent: { target: string }[] } }[]; matrix: { rows: string[]; columns: string[]; cells: { row: string; column: string; bad: number; series: number; cause?: string; loss_pct: number }[] } };
    const { scopes } = await api<{ scopes: Scope[] }>('/api/v1/localize');
    assert.equal(scopes.length, 1);
    const s = scopes[0]!;
    assert.equal(s.counts.series, 9 * 12);
    assert.deepEqual(s.matrix.columns, ['idc1', 'idc2', 'idc3']);
    assert.equal(s.matrix.rows.length, 9);
    const cause = s.causes.find((c) => c.id === 'cdn/destination/idc2')!;
    assert.ok(cause && cause.raised !== null, JSON.stringify(s.causes));
    assert.deepEqual(cause.series, { bad: 36, total: 36 });
    assert.deepEqual(cause.networks.seeing, ['telecom', 'unicom', 'mobile']);
    assert.equal(cause.bad_cells.length, 9);
    // Every agent's per-target alert on idc2 was held, then suppressed under the cause.
    assert.equal(cause.suppressed.count, 36);
    assert.ok(cause.suppressed.recent.every((e) => e.target.startsWith('/IDC/idc2/')));
    const cells = s.matrix.cells.filter((c) => c.column === 'idc2');
    assert.ok(cells.every((c) => c.bad === c.series && c.cause === cause.id && c.loss_pct === 100));

    const cell = await api<{ series: { target: string; agent: string; bad: boolean; explained_by: string | null }[] }>(`/api/v1/localize/cell?scope=cdn&row=${encodeURIComponent(s.matrix.rows[0]!)}&column=idc2`);
    assert.equal(cell.series.length, 4);
    assert.ok(cell.series.every((x) => x.bad && x.explained_by === cause.id));

    const hist = await api<{ events: { state: string; cause: { id: string } }[] }>('/api/v1/localize/history?scope=cdn');
    assert.deepEqual(hist.events.map((e) => `${e.state} ${e.cause.id}`), ['raised cdn/destination/idc2']);
    const sup = await api<{ events: unknown[] }>(`/api/v1/localize/suppressed?cause=${encodeURIComponent(cause.id)}`);
    assert.equal(sup.events.length, 36);

    // The webhook got the cause once, with its evidence, and no target alert.
    await waitFor('the cause notification', () => sim.rx.requests.length > 0, 120_000);
    const got = sim.rx.requests.map((r) => JSON.parse(r.body) as { agent: string; state: string; alert: { name: string; type: string }; target: { labels: Record<string, string> }; cause?: { id: string } });
    assert.deepEqual(got.map((e) => `${e.alert.name} ${e.state} ${e.agent}`), ['cdn.destination raised *']);
    assert.equal(got[0]!.alert.type, 'localize');
    assert.equal(got[0]!.target.labels.idc, 'idc2');
    assert.equal(got[0]!.cause!.id, cause.id);

    const metrics = await (await fetch(server.url + '/metrics')).text();
    assert.match(metrics, /smokemesh_localize_cause_active\{scope="cdn",cause="cdn\/destination\/idc2",kind="destination",confidence="confirmed",title="destination idc=idc2"\} 1/);
    assert.match(metrics, /smokemesh_localize_causes\{scope="cdn",kind="destination",confidence="confirmed",state="raised"\} 1/);
    assert.match(metrics, /smokemesh_localize_series\{scope="cdn",state="bad"\} 36/);
    assert.match(metrics, /smokemesh_localize_step_seconds\{scope="cdn"\} [0-9.e-]+/);
    const openapi = await api<{ paths: Record<string, unknown> }>('/api/openapi.json');
    for (const p of ['/api/v1/localize', '/api/v1/localize/history', '/api/v1/localize/cell', '/api/v1/localize/suppressed']) assert.ok(openapi.paths[p], p);

    // A broken localize section: check-config and reload name the place; the running scope stays.
    const file = join(sim.dir, 'smokemesh.yaml');
    const good = readFileSync(file, 'utf8');
    writeFileSync(file, good.replace('roles: { vantage: [isp, province], destination: [idc], item: vip }', 'roles: { vantage: [isp, province], destination: [idc], item: vip }\n      thresholds: { network: { suspected: "2/3", confirmed: 0.5 } }\n      raise_after: 0'));
    const cli = await checkConfig(file);
    assert.equal(cli.status, 1);
    assert.match(cli.stderr, /smokemesh\.yaml:\d+:\d+: localize\.scopes\.0\.raise_after: must be >= 1/);
    const reload = await fetch(server.url + '/api/v1/reload', { method: 'POST', headers: { authorization: `Bearer ${server.adminToken}` } });
    const body = await reload.text();
    assert.notEqual(reload.status, 200, body);
    assert.match(body, /localize\.scopes\.0\.raise_after/);
    writeFileSync(file, good.replace('roles: { vantage: [isp, province], destination: [idc], item: vip }', 'roles: { vantage: [isp, province], destination: [idc], item: vip }\n      thresholds: { network: { suspected: "2/3", confirmed: 0.5 } }'));
    const cli2 = await checkConfig(file);
    assert.match(cli2.stderr, /localize\.scopes\.0\.thresholds\.network\.suspected: suspected \(2\/3\) must not be above confirmed \(0\.5\)/);
    assert.equal((await api<{ scopes: Scope[] }>('/api/v1/localize')).scopes[0]!.causes[0]!.id, cause.id, 'the running scope stays');
  } finally {
    await sim.close();
  }
});
