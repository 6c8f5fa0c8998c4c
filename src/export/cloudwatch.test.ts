import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { isolateAwsEnv } from '../aws/sigv4.testkit.ts';
import { startFakeCloudWatch, TEST_KEYS } from '../aws/fake-aws.testkit.ts';
import { silentLog } from '../alerts/testkit.ts';
import { parseConfig } from '../config/loader.ts';
import { makeRound, type Round } from '../probes/round.ts';
import { waitFor } from '../../test/wait.ts';
import { CloudWatchSink, cloudWatchClientConfig, PUT_METRIC_DATA_LIMITS } from './cloudwatch.ts';
import { parseExport, type CloudWatchTarget } from './config.ts';

isolateAwsEnv();
process.env.AWS_ACCESS_KEY_ID = TEST_KEYS.accessKeyId;
process.env.AWS_SECRET_ACCESS_KEY = TEST_KEYS.secretAccessKey;

/** A CloudWatch target as the config reader fills it (defaults applied). */
function target(over: Record<string, unknown>): CloudWatchTarget {
  const { section, issues } = parseExport(parseConfig(`export:\n  cloudwatch:\n    - ${JSON.stringify(over)}\n`, 'cw.yaml'));
  assert.deepEqual(issues, []);
  return section.cloudwatch[0]!;
}

const T0 = Date.UTC(2026, 11, 2, 10, 0, 0);
/** Series i: 10 pings, i % 11 lost, RTTs around 20 + i/100 ms. */
function rounds(n: number, agent = 'bj-1'): Round[] {
  return Array.from({ length: n }, (_, i) => makeRound({ target: `/DX/site-${i}`, agent, probe: 'icmp', time: T0, step: 60 }, {
    sent: 10, rtts: Array.from({ length: 10 - (i % 11 === 10 ? 10 : i % 11) }, (_, k) => 20 + i / 100 + k),
  }));
}
const look = { regionOf: (a: string) => (a === 'bj-1' ? 'cn-north' : undefined), labelsOf: (t: string) => ({ isp: 'dx', idc: t.endsWith('-7') ? 'BJ7' : '' }) };

test('cloudwatch: 1,000 series batched within PutMetricData limits, signed for cn-north-1, every value with its dimensions', async (t) => {
  const cw = await startFakeCloudWatch('cn-north-1');
  t.after(() => cw.close());
  const sink = new CloudWatchSink(target({ region: 'cn-north-1', endpoint: cw.base, namespace: 'Smokemesh/Links', labels: ['isp', 'idc'], dimensions: { Env: 'prod' }, flush_seconds: 300 }), look, silentLog);
  t.after(() => sink.close());
  const rs = rounds(1000);
  sink.write(rs);
  await sink.flush();
  await sink.settled();
  assert.deepEqual(cw.problems, []);
  const expected = rs.reduce((n, r) => n + (r.median === null ? 1 : 4), 0);
  const all = cw.calls.flatMap((c) => c.MetricData);
  assert.equal(all.length, expected, 'every data point arrived once');
  assert.ok(cw.calls.length >= Math.ceil(expected / 1000), `${cw.calls.length} requests`);
  for (const c of cw.calls) {
    assert.equal(c.Namespace, 'Smokemesh/Links');
    assert.ok(c.MetricData.length <= PUT_METRIC_DATA_LIMITS.datums, `${c.MetricData.length} data points in one request`);
    assert.ok(c.bytes <= PUT_METRIC_DATA_LIMITS.bytes, `${c.bytes} bytes in one request`);
    for (const d of c.MetricData) assert.ok(d.Dimensions!.length <= 30);
  }
  assert.deepEqual(sink.stats, { sent: expected, dropped: 0, failed_requests: 0, pending: 0, requests: cw.calls.length });

  const of = (path: string, name: string) => all.filter((d) => d.MetricName === name && d.Dimensions!.find((x) => x.Name === 'Target')!.Value === path);
  const r7 = rs[7]!;
  const [median] = of('/DX/site-7', 'RttMedian');
  assert.deepEqual(median, {
    MetricName: 'RttMedian', Value: r7.median!, Unit: 'Milliseconds', Timestamp: T0 / 1000, StorageResolution: 60,
    Dimensions: [{ Name: 'Target', Value: '/DX/site-7' }, { Name: 'Agent', Value: 'bj-1' }, { Name: 'Region', Value: 'cn-north' }, { Name: 'isp', Value: 'dx' }, { Name: 'idc', Value: 'BJ7' }, { Name: 'Env', Value: 'prod' }],
  });
  assert.equal(of('/DX/site-7', 'Loss')[0]!.Value, 70);
  assert.equal(of('/DX/site-7', 'Loss')[0]!.Unit, 'Percent');
  assert.equal(of('/DX/site-7', 'RttMean')[0]!.Value, r7.mean);
  assert.equal(of('/DX/site-7', 'RttStdDev')[0]!.Value, r7.stddev);
  assert.deepEqual(of('/DX/site-8', 'RttMedian')[0]!.Dimensions!.map((d) => d.Name), ['Target', 'Agent', 'Region', 'isp', 'Env'], 'an empty label is no dimension');
  assert.deepEqual(of('/DX/site-10', 'Loss').map((d) => d.Value), [100]);
  assert.deepEqual(of('/DX/site-10', 'RttMedian'), [], 'no RTT values for a round without replies');
});

test('cloudwatch: long dimensions split requests by size (under 1 MB each); HTTP phases exported', async (t) => {
  const cw = await startFakeCloudWatch('us-east-1');
  t.after(() => cw.close());
  const sink = new CloudWatchSink(target({ region: 'us-east-1', endpoint: cw.base, labels: ['a', 'b', 'c'], metrics: ['median', 'phases'], flush_seconds: 300 }), {
    regionOf: () => 'r', labelsOf: () => ({ a: 'x'.repeat(1024), b: 'y'.repeat(1024), c: 'z'.repeat(1024) }),
  }, silentLog);
  t.after(() => sink.close());
  const http = makeRound({ target: '/Web/site', agent: 'a1', probe: 'http', time: T0, step: 60 }, { sent: 1, rtts: [120], phases: { resolve: 1, connect: 10, tls: 30, processing: 50, transfer: 29 }, status: 200 });
  sink.write([...rounds(1000), http]);
  await sink.flush();
  await sink.settled();
  assert.deepEqual(cw.problems, []);
  const all = cw.calls.flatMap((c) => c.MetricData);
  assert.equal(all.length, rounds(1000).filter((r) => r.median !== null).length + 6);
  assert.ok(cw.calls.length > 1 && cw.calls.every((c) => c.bytes <= PUT_METRIC_DATA_LIMITS.bytes && c.MetricData.length < 1000), cw.calls.map((c) => `${c.MetricData.length}/${c.bytes}`).join(' '));
  const phases = all.filter((d) => d.Dimensions![0]!.Value === '/Web/site').map((d) => [d.MetricName, d.Value]);
  assert.deepEqual(phases, [['RttMedian', 120], ['PhaseResolve', 1], ['PhaseConnect', 10], ['PhaseTls', 30], ['PhaseProcessing', 50], ['PhaseTransfer', 29]]);
});

test('cloudwatch: throttling is answered with backoff (doubling) and nothing is lost or sent twice', async (t) => {
  const cw = await startFakeCloudWatch('cn-northwest-1');
  t.after(() => cw.close());
  const attempts: number[] = [];
  let throttles = 3;
  cw.decide = () => {
    attempts.push(Date.now());
    return throttles-- > 0 ? 'throttle' : 'ok';
  };
  const sink = new CloudWatchSink(target({ region: 'cn-northwest-1', endpoint: cw.base, flush_seconds: 300 }), look, silentLog, { backoffMs: 100 });
  t.after(() => sink.close());
  const rs = rounds(600);
  const expected = rs.reduce((n, r) => n + (r.median === null ? 1 : 4), 0);
  sink.write(rs);
  await sink.flush();
  await waitFor('every data point accepted', () => sink.stats.pending === 0, 30_000, 50);
  assert.deepEqual(cw.problems, []);
  assert.equal(sink.stats.failed_requests, 3);
  assert.match(sink.stats.last_error ?? '', /^PutMetricData: HTTP 400 Throttling: Rate exceeded \(request [0-9a-f-]{36}\)$/);
  // The first four attempts are the same request: throttled three times, waiting 100, 200, 400 ms.
  for (let i = 1; i <= 3; i++) assert.ok(attempts[i]! - attempts[i - 1]! >= 100 * 2 ** (i - 1) - 5, `wait ${i}: ${attempts[i]! - attempts[i - 1]!} ms`);
  const all = cw.calls.flatMap((c) => c.MetricData);
  assert.equal(all.length, expected, 'no loss');
  const keys = new Set(all.map((d) => `${d.MetricName} ${d.Dimensions![0]!.Value}`));
  assert.equal(keys.size, expected, 'no duplicates');
  assert.equal(sink.stats.sent, expected);
});

test('cloudwatch: a request refused for its content is dropped and counted; the queue bound drops the oldest', async (t) => {
  const cw = await startFakeCloudWatch('eu-west-1');
  t.after(() => cw.close());
  cw.decide = () => ({ status: 400, code: 'InvalidParameterValue', message: 'The value for parameter MetricData.member.1.Value is not a number' });
  const sink = new CloudWatchSink(target({ region: 'eu-west-1', endpoint: cw.base, metrics: ['loss'], max_pending: 50, flush_seconds: 300 }), look, silentLog);
  t.after(() => sink.close());
  sink.write(rounds(80));
  assert.equal(sink.stats.dropped, 30, 'the 30 oldest beyond max_pending');
  await sink.flush();
  await sink.settled();
  assert.deepEqual(cw.problems, []);
  assert.equal(sink.stats.dropped, 80);
  assert.equal(sink.stats.failed_requests, 1);
  assert.match(sink.stats.last_error!, /^PutMetricData: HTTP 400 InvalidParameterValueException: The value for parameter/);
});

test('cloudwatch: the China partition resolves to monitoring.<region>.amazonaws.com.cn; keys from the chain sign for that region', async () => {
  for (const region of ['cn-north-1', 'cn-northwest-1', 'us-west-2']) {
    const client = new CloudWatchClient(cloudWatchClientConfig(target({ region })));
    const ep = client.config.endpointProvider({ Region: await client.config.region(), UseFIPS: false, UseDualStack: false });
    assert.equal(ep.url.href, region.startsWith('cn-') ? `https://monitoring.${region}.amazonaws.com.cn/` : `https://monitoring.${region}.amazonaws.com/`);
    client.destroy();
  }
  // A request signed for the wrong region is refused by the endpoint's check.
  const cw = await startFakeCloudWatch('cn-north-1');
  const sink = new CloudWatchSink(target({ region: 'cn-northwest-1', endpoint: cw.base, flush_seconds: 300 }), look, silentLog);
  sink.write(rounds(1));
  await sink.flush();
  assert.match(cw.problems[0] ?? '', /cn-northwest-1/);
  assert.match(sink.stats.last_error ?? '', /HTTP 403/);
  await sink.close();
  await cw.close();
});

test('cloudwatch: config errors name their place', () => {
  const { issues } = parseExport(parseConfig(`export:
  cloudwatch:
    - region: cn-north-1
      namespace: AWS/EC2
      labels: [${Array.from({ length: 28 }, (_, i) => `l${i}`).join(', ')}]
    - region: mars
      endpoint: "http://["
      storage_resolution: 5
      dimensions: { Agent: x }
`, 'cw.yaml'));
  const text = issues.map((i) => `${i.file}:${i.line}: ${i.path}: ${i.message}`).join('\n');
  assert.match(text, /cw\.yaml:6: export\.cloudwatch\.1\.region: must match/);
  assert.match(text, /cw\.yaml:8: export\.cloudwatch\.1\.storage_resolution/);
  const second = parseExport(parseConfig(`export:
  cloudwatch:
    - region: cn-north-1
      namespace: AWS/EC2
      labels: [${Array.from({ length: 28 }, (_, i) => `l${i}`).join(', ')}]
    - region: us-east-1
      endpoint: "http://["
      dimensions: { Agent: x }
`, 'cw.yaml')).issues.map((i) => `${i.file}:${i.line}: ${i.path}: ${i.message}`).join('\n');
  assert.match(second, /cw\.yaml:4: export\.cloudwatch\.0\.namespace: "AWS\/EC2": namespaces starting with AWS\/ are reserved/);
  assert.match(second, /cw\.yaml:5: export\.cloudwatch\.0\.labels: 31 dimensions per data point .* at most 30/);
  assert.match(second, /cw\.yaml:7: export\.cloudwatch\.1\.endpoint: "http:\/\/\[" is not a URL/);
  assert.match(second, /export\.cloudwatch\.1\.dimensions: "Agent" is a dimension smokemesh sets itself/);
});
