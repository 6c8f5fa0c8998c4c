import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import Type from 'typebox';
import { startDevServer, type DevServer } from '../../../test/e2e/dev-server.ts';
import { syntheticRounds } from '../../../test/e2e/synthetic.ts';
import type { Round } from '../../probes/round.ts';
import { miniPoints } from '../../../web/src/chart/mini-data.ts';
import type { OverviewSeries } from './schemas.ts';

// A real SQLite store with synthetic rounds behind the real route module.
const CONFIG = `
general: { step: 60, pings: 20, title: "Test mesh" }
targets:
  menu: Top
  children:
    Local:
      menu: 本地
      title: Loopback paths
      remark: "Remark with \\"quotes\\""
      labels: { region: cn-east }
      children:
        lo4: { host: 127.0.0.1, title: "IPv4 <script>alert(1)</script>" }
        lossy: { host: 127.0.0.2, pings: 10, labels: { isp: telecom } }
        北京: { host: 127.0.0.3 }
        secret: { host: 127.0.0.4, hide: true }
`;

const NOW = Date.now();
const HOUR = 3_600_000;
let srv: DevServer;

function rounds(): Round[] {
  const common = { from: NOW - 2 * HOUR, to: NOW, step: 60 };
  return [
    ...syntheticRounds({ ...common, target: '/Local/lo4', agent: 'local', pings: 20, base: 0.05, seed: 1 }),
    ...syntheticRounds({ ...common, target: '/Local/lo4', agent: 'tokyo', pings: 20, base: 30, seed: 2 }),
    ...syntheticRounds({ ...common, target: '/Local/lossy', agent: 'local', pings: 10, base: 1, lossRate: 0.3, seed: 3 }),
    ...syntheticRounds({ ...common, target: '/Local/北京', agent: 'local', pings: 20, base: 20, seed: 4 }),
  ];
}

before(async () => {
  srv = await startDevServer({
    configYaml: CONFIG,
    rounds: rounds(),
    agents: [
      { name: 'local', region: 'default', labels: {}, addresses: ['127.0.0.1'], alive: true, builtin: true, version: '0.1.0', last_seen: NOW },
      { name: 'tokyo', region: 'jp', labels: {}, addresses: ['127.0.0.9'], alive: false, builtin: false, color: '#ff8800' },
    ],
    otherRoutes: (app) => {
      app.get('/api/v1/alerts', { schema: { summary: 'registered by another concern', response: { 200: Type.Object({ alerts: Type.Array(Type.Unknown()) }) } } }, async () => ({ alerts: [] }));
    },
  });
});
after(async () => { await srv.close(); });

async function get(url: string): Promise<{ status: number; body: any }> {
  const res = await srv.app.inject({ method: 'GET', url });
  return { status: res.statusCode, body: res.json() };
}

test('tree: menu, title, remark, labels, hidden flag, probing agents, names as given', async () => {
  const { status, body } = await get('/api/v1/tree');
  assert.equal(status, 200);
  assert.equal(body.title, 'Test mesh');
  const local = body.root.children[0];
  assert.equal(local.menu, '本地');
  assert.equal(local.remark, 'Remark with "quotes"');
  const names = local.children.map((c: { name: string }) => c.name);
  assert.deepEqual(names, ['lo4', 'lossy', '北京', 'secret']);
  const lo4 = local.children[0];
  assert.equal(lo4.title, 'IPv4 <script>alert(1)</script>');
  assert.equal(lo4.probe, 'icmp');
  assert.equal(lo4.host, '127.0.0.1');
  assert.deepEqual(lo4.labels, { region: 'cn-east' });
  // local probes it (built-in, server_probes), tokyo is selected by agents: all and has data.
  assert.deepEqual(lo4.agents, ['local', 'tokyo']);
  assert.equal(local.children[3].hidden, true);
  assert.equal(lo4.hidden, false);
});

test('targets: one node with settings and breadcrumbs; unknown path is a 404 naming it', async () => {
  const { status, body } = await get('/api/v1/targets?path=' + encodeURIComponent('/Local/lossy'));
  assert.equal(status, 200);
  assert.equal(body.settings.pings, 10);
  assert.equal(body.settings.step, 60);
  assert.deepEqual(body.labels, { region: 'cn-east', isp: 'telecom' });
  assert.deepEqual(body.breadcrumbs.map((b: { menu: string }) => b.menu), ['Top', '本地', 'lossy']);
  const group = await get('/api/v1/targets?path=/Local');
  assert.equal(group.body.group, true);
  assert.equal(group.body.children.length, 4);
  assert.equal(group.body.settings, undefined);
  const missing = await get('/api/v1/targets?path=/Local/nope');
  assert.equal(missing.status, 404);
  assert.match(missing.body.error, /\/Local\/nope/);
});

test('series: every agent with data when agent is omitted, one when given, numbers from the store', async () => {
  const from = NOW - HOUR;
  const all = await get(`/api/v1/series?target=/Local/lo4&from=${from}&to=${NOW}`);
  assert.equal(all.status, 200);
  assert.deepEqual(all.body.series.map((s: { agent: string }) => s.agent), ['local', 'tokyo']);
  assert.equal(all.body.pings, 20);
  assert.equal(all.body.step, 60);
  const tokyo = all.body.series[1];
  assert.equal(tokyo.tier, 'raw');
  assert.ok(tokyo.points.length >= 59 && tokyo.points.length <= 61, `${tokyo.points.length} points`);
  const direct = srv.store.series({ target: '/Local/lo4', agent: 'tokyo', from, to: NOW, points: 1000 });
  assert.deepEqual(tokyo.points.map((p: { median: number }) => p.median), direct.points.map((p) => p.median));
  assert.equal(tokyo.points[0].smoke.length, 20);

  const one = await get(`/api/v1/series?target=/Local/lo4&agent=tokyo&from=${from}&to=${NOW}`);
  assert.deepEqual(one.body.series.map((s: { agent: string }) => s.agent), ['tokyo']);
  const two = await get(`/api/v1/series?target=/Local/lo4&agent=tokyo&agent=local&from=${from}&to=${NOW}`);
  assert.deepEqual(two.body.series.map((s: { agent: string }) => s.agent), ['tokyo', 'local']);
  const utf = await get(`/api/v1/series?target=${encodeURIComponent('/Local/北京')}&from=${from}&to=${NOW}`);
  assert.equal(utf.status, 200);
  assert.equal(utf.body.series.length, 1);
});

test('series: bad parameters are 400s naming the parameter; unknown targets 404', async () => {
  const backwards = await get(`/api/v1/series?target=/Local/lo4&from=${NOW}&to=${NOW - 1000}`);
  assert.equal(backwards.status, 400);
  assert.match(backwards.body.error, /from/);
  const points = await get('/api/v1/series?target=/Local/lo4&points=3');
  assert.equal(points.status, 400);
  assert.match(points.body.error, /points/);
  const nan = await get('/api/v1/series?target=/Local/lo4&from=yesterday');
  assert.equal(nan.status, 400);
  assert.match(nan.body.error, /from/);
  const noTarget = await get('/api/v1/series');
  assert.equal(noTarget.status, 400);
  assert.match(noTarget.body.error, /target/);
  const unknown = await get('/api/v1/series?target=/Nope');
  assert.equal(unknown.status, 404);
  assert.match(unknown.body.error, /\/Nope/);
});

test('latest and top: the lossy target ranks first by loss; a bad metric is a 400 naming it', async () => {
  const latest = await get('/api/v1/latest?prefix=/Local');
  assert.equal(latest.status, 200);
  assert.equal(latest.body.rounds.length, 4);
  const lossy = latest.body.rounds.find((r: { target: string }) => r.target === '/Local/lossy');
  assert.equal(lossy.loss_pct, (100 * lossy.loss) / lossy.sent);

  const top = await get('/api/v1/top?metric=loss&window=1h&n=2');
  assert.equal(top.status, 200);
  assert.equal(top.body.rows.length, 2);
  assert.equal(top.body.rows[0].target, '/Local/lossy');
  assert.ok(top.body.rows[0].value > 10, `loss ${top.body.rows[0].value}`);
  const med = await get('/api/v1/top?metric=median');
  assert.equal(med.body.rows[0].agent, 'tokyo');

  const bad = await get('/api/v1/top?metric=jitter');
  assert.equal(bad.status, 400);
  assert.match(bad.body.error, /metric/);
});

test('agents and search (name, host, label, Chinese)', async () => {
  const agents = await get('/api/v1/agents');
  assert.deepEqual(agents.body.agents.map((a: { name: string }) => a.name), ['local', 'tokyo']);
  assert.equal(agents.body.agents[1].color, '#ff8800');
  const paths = async (q: string) => (await get('/api/v1/search?q=' + encodeURIComponent(q))).body.results.map((r: { path: string }) => r.path);
  assert.deepEqual(await paths('lossy'), ['/Local/lossy']);
  assert.deepEqual(await paths('127.0.0.3'), ['/Local/北京']);
  assert.deepEqual(await paths('telecom'), ['/Local/lossy']);
  assert.deepEqual(await paths('isp=telecom'), ['/Local/lossy']);
  assert.deepEqual(await paths('北京'), ['/Local/北京']);
  assert.equal((await get('/api/v1/search?q=')).status, 400);
});

test('openapi.json describes every /api route, other concerns\' too, with parameters', async () => {
  const { status, body } = await get('/api/openapi.json');
  assert.equal(status, 200);
  assert.match(body.openapi, /^3\./);
  for (const p of ['/api/v1/tree', '/api/v1/targets', '/api/v1/series', '/api/v1/latest', '/api/v1/top', '/api/v1/agents', '/api/v1/search', '/api/v1/alerts']) {
    assert.ok(body.paths[p]?.get, `missing ${p}`);
  }
  const params = body.paths['/api/v1/series'].get.parameters.map((x: { name: string }) => x.name);
  assert.deepEqual(params.sort(), ['agent', 'from', 'points', 'target', 'to']);
  const metric = body.paths['/api/v1/top'].get.parameters.find((x: { name: string }) => x.name === 'metric');
  assert.deepEqual(metric.schema.enum, ['loss', 'median', 'max', 'stddev']);
});

test('overview: every visible probed target under a group, a page at a time; the small integers decode to the store\'s points', async () => {
  const { status, body } = await get(`/api/v1/overview?path=/Local&from=${NOW - 2 * HOUR}&to=${NOW}&points=100`);
  assert.equal(status, 200);
  assert.deepEqual(body.targets.map((t: { target: string }) => t.target), ['/Local/lo4', '/Local/lossy', '/Local/北京']);
  assert.equal(body.total, 3);
  assert.deepEqual(body.levels, [0.05, 0.25, 0.75, 0.95]);
  const lo4 = body.targets[0];
  assert.deepEqual(lo4.series.map((s: { agent: string }) => s.agent), ['local', 'tokyo']);
  let lossy = 0;
  for (const t of body.targets as Array<{ target: string; series: OverviewSeries[] }>) {
    for (const s of t.series) {
      const direct = srv.store.series({ target: t.target, agent: s.agent, from: NOW - 2 * HOUR, to: NOW, points: 100 });
      assert.equal(s.tier, '5m');
      assert.equal(s.tier, direct.tier);
      const pts = miniPoints(s);
      assert.deepEqual(pts.map((p) => p.time), direct.points.map((p) => p.time));
      // Every figure within half a unit (1/200 of the series' scale) of the store's.
      const near = (a: number | null, b: number | null, what: string) => assert.ok(a === b || (a !== null && b !== null && Math.abs(a - b) <= s.unit / 2 + 1e-9), `${t.target} ${s.agent} ${what}: ${a} vs ${b} (unit ${s.unit})`);
      pts.forEach((p, i) => {
        const d = direct.points[i]!;
        near(p.loss_pct, d.loss_pct === null ? null : Math.round(d.loss_pct * 10) / 10, 'loss');
        if (d.loss_pct) lossy++;
        near(p.median, d.median, 'median');
        assert.equal(p.smoke.length, 4);
        [1, 3, 7, 9].forEach((k, j) => near(p.smoke[j]!, d.smoke[k]!, `level ${k}`));
      });
    }
  }
  assert.ok(lossy > 0, 'some points with loss');
  assert.equal((await get('/api/v1/overview?path=/Nope')).status, 404);
  // The next page of a large group: the same order, the first ones skipped, the total unchanged.
  const page = await get(`/api/v1/overview?path=/Local&from=${NOW - HOUR}&to=${NOW}&offset=1&limit=1`);
  assert.deepEqual(page.body.targets.map((t: { target: string }) => t.target), ['/Local/lossy']);
  assert.deepEqual([page.body.total, page.body.offset, page.body.limit], [3, 1, 1]);
  assert.equal(body.offset, 0);
  assert.equal((await get('/api/v1/overview?path=/Local&limit=201')).status, 400);
});

test('tree carries the presentation section: the default detail ranges in ms, the time zones', async () => {
  const { body } = await get('/api/v1/tree');
  assert.deepEqual(body.presentation.detail_ranges, [
    { span: '3h', ms: 3 * HOUR }, { span: '30h', ms: 30 * HOUR }, { span: '10d', ms: 240 * HOUR }, { span: '360d', ms: 360 * 24 * HOUR },
  ]);
  assert.equal(body.presentation.time_zone, 'browser');
  assert.equal(body.presentation.overview_range, 10 * HOUR);
  assert.equal(body.presentation.server_time_zone, Intl.DateTimeFormat().resolvedOptions().timeZone);
});

test('charts: each sorter ranks as the store does; change compares the median with the period before', async () => {
  const loss = await get('/api/v1/charts?sorter=loss&range=1h&n=3');
  assert.equal(loss.status, 200);
  assert.equal(loss.body.rows[0].target, '/Local/lossy');
  assert.equal(loss.body.rows[0].pings, 10);
  assert.ok(loss.body.rows[0].series.dt.length > 30, 'a small graph of the hour');
  assert.equal(loss.body.to - loss.body.from, HOUR);
  const median = await get('/api/v1/charts?sorter=median&range=1h&n=2');
  const top = (await get(`/api/v1/top?metric=median&window=1h&n=2`)).body.rows;
  assert.deepEqual(median.body.rows.map((r: { target: string; agent: string }) => `${r.target}~${r.agent}`), top.map((r: { target: string; agent: string }) => `${r.target}~${r.agent}`));
  const change = await get('/api/v1/charts?sorter=change&range=30m&n=10');
  assert.equal(change.body.to - change.body.from, HOUR, 'graphs show both periods');
  for (const r of change.body.rows) assert.ok(Math.abs(r.value - (r.median - r.previous)) < 1e-6, 'value = median now − median before');
  assert.equal(change.body.rows.length, 4);
  const bad = await get('/api/v1/charts?sorter=loss&range=500d');
  assert.equal(bad.status, 400);
  assert.match(bad.body.error, /querystring\/range/);
});
