import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { RunningServer } from '../src/server/app.ts';
import { isolateAwsEnv } from '../src/aws/sigv4.testkit.ts';
import { startFakeCloudWatch, TEST_KEYS, type FakeCloudWatch } from '../src/aws/fake-aws.testkit.ts';
import { generalSection, startServerIn } from './server-kit.ts';
import { waitFor } from './wait.ts';

/**
 * The server's CloudWatch export, wired: rounds of a loopback target reach a local
 * PutMetricData endpoint (SigV4 checked for cn-north-1) with the Target, Agent, Region and
 * label dimensions; the counters show on /metrics and GET /api/v1/export, and a throttling
 * endpoint shows as failed requests and the last error.
 */

isolateAwsEnv();
process.env.AWS_ACCESS_KEY_ID = TEST_KEYS.accessKeyId;
process.env.AWS_SECRET_ACCESS_KEY = TEST_KEYS.secretAccessKey;
const dir = mkdtempSync(join(tmpdir(), 'smokemesh-cw-'));
let server: RunningServer;
let cw: FakeCloudWatch;

before(async () => {
  cw = await startFakeCloudWatch('cn-north-1');
  server = await startServerIn(dir, `${generalSection(dir)}targets:
  children:
    Local:
      labels: { isp: loopback }
      children:
        a: { host: 127.0.0.1, interval: 20, timeout: 500 }
export:
  cloudwatch:
    - region: cn-north-1
      endpoint: ${cw.base}
      labels: [isp]
      flush_seconds: 0.5
`);
});

after(async () => {
  await server?.close();
  await cw?.close();
  rmSync(dir, { recursive: true, force: true });
});

test('cloudwatch export from the server: dimensions, counters on /metrics and /api/v1/export, throttling visible', async () => {
  const point = await waitFor('a RttMedian data point of /Local/a', () => cw.calls.flatMap((c) => c.MetricData)
    .find((d) => d.MetricName === 'RttMedian' && d.Dimensions?.[0]?.Value === '/Local/a'), 30_000, 100);
  assert.deepEqual(cw.problems, []);
  const dims = Object.fromEntries(point.Dimensions!.map((d) => [d.Name, d.Value]));
  assert.equal(dims.Agent, 'builtin');
  assert.equal(dims.isp, 'loopback');
  assert.deepEqual(Object.keys(dims).filter((k) => k !== 'Region'), ['Target', 'Agent', 'isp']);
  assert.equal(point.Unit, 'Milliseconds');
  assert.ok(cw.calls.every((c) => c.Namespace === 'Smokemesh'));

  const metrics = await (await fetch(`${server.url}/metrics`)).text();
  assert.match(metrics, /smokemesh_cloudwatch_datapoints_total\{region="cn-north-1",namespace="Smokemesh"\} [1-9]/);
  assert.match(metrics, /smokemesh_cloudwatch_failed_requests_total\{region="cn-north-1",namespace="Smokemesh"\} 0/);

  cw.decide = () => 'throttle';
  const status = await waitFor('a throttled request counted', async () => {
    const s = (await (await fetch(`${server.url}/api/v1/export`)).json()) as { cloudwatch: { failed_requests: number; last_error?: string; sent: number; pending: number }[] };
    return s.cloudwatch[0]!.failed_requests > 0 ? s : undefined;
  }, 30_000, 200);
  assert.match(status.cloudwatch[0]!.last_error!, /^PutMetricData: HTTP 400 Throttling: Rate exceeded/);
  assert.ok(status.cloudwatch[0]!.sent > 0);
  const after = await (await fetch(`${server.url}/metrics`)).text();
  assert.match(after, /smokemesh_cloudwatch_failed_requests_total\{region="cn-north-1",namespace="Smokemesh"\} [1-9]/);
  cw.decide = () => 'ok';
});
