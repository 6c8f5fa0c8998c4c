import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { RunningServer } from '../src/server/app.ts';
import { httpSink, type HttpSink } from './http-sink-kit.ts';
import { startPrometheus, type Prometheus } from './prometheus-kit.ts';
import { generalSection, startServerIn } from './server-kit.ts';
import { waitFor } from './wait.ts';

/**
 * A real Prometheus (Debian's binary) scrapes a real smokemesh server that probes loopback
 * targets; PromQL through Prometheus' HTTP API must return the region and series families.
 */

const dir = mkdtempSync(join(tmpdir(), 'smokemesh-prom-'));
let web: HttpSink | undefined;
let server: RunningServer;
let prom: Prometheus | undefined;
let promUrl = '';

before(async () => {
  web = await httpSink((req, res) => { res.writeHead(req.url === '/ok' ? 200 : 503); res.end('x'); });
  server = await startServerIn(dir, `${generalSection(dir, { more: '  region: here' })}targets:
  labels: { region: lo }
  children:
    Local:
      children:
        a: { host: 127.0.0.1, interval: 20, timeout: 500 }
        b: { host: 127.0.0.2, interval: 20, timeout: 500 }
mesh:
  - type: http
    region: web
    targets: [ "${web.base}/ok", "${web.base}/bad" ]
    pings: 2
    step: 2
    http: { interval: 10 }
`, { level: 'warn' });
  const scrape = new URL(server.url);
  prom = await startPrometheus(dir, `global: { scrape_interval: 1s, evaluation_interval: 1s }
scrape_configs:
  - job_name: smokemesh
    static_configs: [ { targets: ["${scrape.host}"] } ]
`);
  promUrl = prom.url;
});

after(async () => {
  await prom?.stop();
  await server?.close();
  await web?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function query(q: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]> {
  const res = await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(q)}`);
  const body = await res.json() as { status: string; data: { result: { metric: Record<string, string>; value: [number, string] }[] } };
  assert.equal(body.status, 'success', JSON.stringify(body));
  return body.data.result;
}

test('/metrics is valid exposition (promtool) with the ProberMesh families', async () => {
  const text = await waitFor('region aggregates in /metrics', async () => {
    const t = await (await fetch(`${server.url}/metrics`)).text();
    return /prober_icmp_packet_loss_rate\{source_region="here",target_region="lo"\}/.test(t) && /prober_http_status_code\{/.test(t) ? t : undefined;
  }, 30000, 300);
  const check = spawnSync('/usr/bin/promtool', ['check', 'metrics'], { input: text, encoding: 'utf8', shell: false });
  // promtool's lint may only warn about counters' names (ProberMesh's own names); it must not reject the format.
  assert.doesNotMatch(check.stderr + check.stdout, /error while linting|text format parsing error/i, check.stderr);
  assert.match(text, /prober_agent_is_alive\{region="here",ip="[^"]*",version="[^"]+",agent="builtin"\} 1/);
  assert.match(text, /^# TYPE smokemesh_notifier_failures_total counter$/m, 'the alert engine reports its delivery failures');
  assert.match(text, /^smokemesh_rounds_ingested_total\{agent="builtin"\} [1-9]/m);
  assert.match(text, /^smokemesh_agent_overruns_total\{agent="builtin"\} \d+$/m);
  assert.match(text, /smokemesh_series_rtt_seconds_bucket\{target="\/Local\/a",agent="builtin",probe="icmp",le="\+Inf"\} \d+/);
});

test('a real Prometheus scrapes /metrics and PromQL returns the region and series families', async () => {
  const loss = await waitFor('prober_icmp_packet_loss_rate in Prometheus', async () => {
    const r = await query('prober_icmp_packet_loss_rate{source_region="here",target_region="lo"}');
    return r.length ? r : undefined;
  }, 60000, 500);
  assert.equal(loss.length, 1);
  assert.equal(Number(loss[0]!.value[1]), 0, 'loopback loses nothing');
  assert.equal(loss[0]!.metric.job, 'smokemesh');

  const rtt = await query('prober_icmp_duration_seconds{source_region="here",target_region="lo"}');
  assert.deepEqual(rtt.map((r) => r.metric.phase).sort(), ['max', 'min', 'rtt']);
  for (const r of rtt) assert.ok(Number(r.value[1]) > 0 && Number(r.value[1]) < 0.1, `loopback RTT ${r.value[1]} s`);

  const counts = await waitFor('per-series histograms', async () => {
    const r = await query('sum by (target) (smokemesh_series_rtt_seconds_count{probe="icmp"})');
    return r.length === 2 ? r : undefined;
  }, 30000, 500);
  assert.deepEqual(counts.map((r) => r.metric.target).sort(), ['/Local/a', '/Local/b']);

  const status = await waitFor('http status codes', async () => {
    const r = await query('prober_http_status_code{source_region="here",target_region="web"}');
    return r.length === 2 ? r : undefined;
  }, 30000, 500);
  const byAddr = Object.fromEntries(status.map((r) => [new URL(r.metric.target_addr!).pathname, Number(r.value[1])]));
  assert.deepEqual(byAddr, { '/ok': 200, '/bad': 503 });
  const failed = await query('prober_http_failed{target_region="web"}');
  assert.ok(failed.length >= 1 && failed.every((r) => r.metric.target_addr!.endsWith('/bad') && r.metric.failed_reason), JSON.stringify(failed));

  const alive = await query('prober_agent_is_alive{agent="builtin",region="here"}');
  assert.equal(alive.length, 1);
  assert.equal(alive[0]!.value[1], '1');
  const points = await query('prober_server_receive_points{prober_type="icmp"}');
  assert.ok(Number(points[0]!.value[1]) >= 2);
});

test('every Grafana dashboard query is valid PromQL on the real Prometheus; the mesh panels have data', async () => {
  const { readFileSync } = await import('node:fs');
  const subst = (e: string) => e.replace(/\$__rate_interval/g, '1m').replace(/\$[a-z_]+/g, '.*');
  for (const file of ['smokemesh-icmp-mesh.json', 'smokemesh-http.json']) {
    const d = JSON.parse(readFileSync(new URL(`../deploy/grafana/${file}`, import.meta.url), 'utf8')) as {
      templating: { list: { name: string; type: string; query: unknown }[] };
      panels: { title: string; datasource: { uid: string }; targets: { expr: string }[] }[];
    };
    assert.ok(d.templating.list.some((v) => v.name === 'datasource' && v.type === 'datasource' && v.query === 'prometheus'), `${file}: datasource variable`);
    for (const p of d.panels) {
      assert.equal(p.datasource.uid, '${datasource}', `${file}: ${p.title} uses the datasource variable`);
      for (const t of p.targets) {
        const r = await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(subst(t.expr))}`);
        const body = await r.json() as { status: string; error?: string; data?: { result: unknown[] } };
        assert.equal(body.status, 'success', `${file}: ${p.title}: ${t.expr}: ${body.error}`);
        if (file.includes('icmp') && !/histogram_quantile/.test(t.expr)) {
          assert.ok(body.data!.result.length > 0, `${file}: ${p.title}: ${t.expr} returns data`);
        }
      }
    }
  }
});
