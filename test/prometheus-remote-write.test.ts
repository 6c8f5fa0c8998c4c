import assert from 'node:assert/strict';
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
 * Remote write into a real Prometheus (Debian's, with its remote-write receiver on): the
 * rounds of loopback targets arrive as smokemesh_series_* samples PromQL can query; an
 * endpoint answering 400 gets its batches dropped and counted, not retried forever.
 */

const dir = mkdtempSync(join(tmpdir(), 'smokemesh-rw-'));
let prom: Prometheus | undefined;
let refusing: HttpSink | undefined;
let refused = 0;
let server: RunningServer;
let promUrl = '';

before(async () => {
  prom = await startPrometheus(dir, 'global: { scrape_interval: 15s }\n', { remoteWriteReceiver: true });
  promUrl = prom.url;
  refusing = await httpSink((req, res) => { refused++; req.resume(); res.writeHead(400); res.end('no thanks'); });
  server = await startServerIn(dir, `${generalSection(dir)}targets:
  children:
    Local:
      children:
        a: { host: 127.0.0.1, interval: 20, timeout: 500 }
export:
  remote_write:
    - url: ${promUrl}/api/v1/write
      labels: { job: smokemesh-rw }
      flush_seconds: 0.5
    - url: ${refusing.base}/write
      flush_seconds: 0.5
`);
});

after(async () => {
  await server?.close();
  await refusing?.close();
  await prom?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('rounds arrive in Prometheus by remote write; a refusing endpoint has its batches dropped and counted', async () => {
  const q = async (expr: string) => {
    const body = await (await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(expr)}`)).json() as { status: string; data: { result: { metric: Record<string, string>; value: [number, string] }[] } };
    assert.equal(body.status, 'success');
    return body.data.result;
  };
  const loss = await waitFor('remote-written loss samples', async () => {
    const r = await q('smokemesh_series_loss_ratio{job="smokemesh-rw",target="/Local/a",agent="builtin",probe="icmp"}');
    return r.length ? r : undefined;
  }, 30000, 300);
  assert.equal(Number(loss[0]!.value[1]), 0);
  const median = await q('smokemesh_series_rtt_median_seconds{job="smokemesh-rw",target="/Local/a"}');
  assert.ok(Number(median[0]!.value[1]) > 0 && Number(median[0]!.value[1]) < 0.1);
  const samples = await waitFor('several rounds as samples', async () => {
    const r = await q('count_over_time(smokemesh_series_loss_ratio{job="smokemesh-rw"}[5m])');
    return r.length && Number(r[0]!.value[1]) >= 2 ? r : undefined;
  }, 30000, 300);
  assert.ok(Number(samples[0]!.value[1]) >= 2);

  const metrics = await waitFor('the refused batches counted', async () => {
    const t = await (await fetch(`${server.url}/metrics`)).text();
    return /smokemesh_remote_write_dropped_rounds_total\{url="http:\/\/127\.0\.0\.1:\d+\/write"\} [1-9]/.test(t) ? t : undefined;
  }, 30000, 300);
  assert.ok(refused >= 1);
  assert.match(metrics, /smokemesh_remote_write_pending_rounds\{url="http:\/\/127\.0\.0\.1:\d+\/write"\} 0/, 'dropped, not queued for ever');
  assert.match(metrics, new RegExp(`smokemesh_remote_write_rounds_total\\{url="${promUrl.replace(/\./g, '\\.')}/api/v1/write"\\} [1-9]`));
});

test('a bad export section is refused with its place', async () => {
  const { parseConfig } = await import('../src/config/loader.ts');
  const { parseExport } = await import('../src/export/config.ts');
  const { issues } = parseExport(parseConfig('export:\n  remote_write:\n    - url: ftp://x\n      batch: 3\n', 'e.yaml'));
  const text = issues.map((i) => `${i.file}:${i.line}: ${i.path}: ${i.message}`).join('\n');
  assert.match(text, /e\.yaml:3: export\.remote_write\.0\.url: must match/);
  assert.match(text, /e\.yaml:4: export\.remote_write\.0\.batch: unknown field/);
});
