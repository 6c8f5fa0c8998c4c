// The local CloudWatch endpoint of bench/cloudwatch-export.ts, in its own process so that its
// work (SigV4 check, gunzip, JSON) is not counted as the exporter's. Prints its URL, then
// answers "stats" on stdin with the requests and data points it accepted.
import { startFakeCloudWatch } from '../src/aws/fake-aws.testkit.ts';

const cw = await startFakeCloudWatch(process.argv[2] ?? 'cn-north-1');
console.log(cw.base);
process.stdin.setEncoding('utf8');
process.stdin.on('data', () => {
  console.log(JSON.stringify({ requests: cw.calls.length, datapoints: cw.calls.reduce((n, c) => n + c.MetricData.length, 0), problems: cw.problems.slice(0, 3), maxBytes: Math.max(0, ...cw.calls.map((c) => c.bytes)), maxDatums: Math.max(0, ...cw.calls.map((c) => c.MetricData.length)) }));
});
process.stdin.on('end', () => void cw.close().then(() => process.exit(0)));
