// CPU and requests per minute of the CloudWatch export for N series (default 10,000): each
// step every series sends one round (20 pings: median, loss, mean, stddev = 4 data points),
// through CloudWatchSink (data points, PutMetricData batches within 1,000 points / 1 MB,
// the SDK's JSON, gzip and SigV4) to a local endpoint in a child process
// (bench/cloudwatch-endpoint.ts) that checks every signature.
// Usage: npx tsx bench/cloudwatch-export.ts [series=10000] [steps=5] [step-seconds=60]
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import pino from 'pino';
import { CloudWatchSink } from '../src/export/cloudwatch.ts';
import { ExportSectionSchema } from '../src/export/config.ts';
import { validate } from '../src/config/validate.ts';
import { TEST_KEYS } from '../src/aws/fake-aws.testkit.ts';
import { load, rng, syntheticRound } from './store-common.ts';

const series = Number(process.argv[2] ?? 10_000);
const steps = Number(process.argv[3] ?? 5);
const stepS = Number(process.argv[4] ?? 60);
for (const k of ['AWS_PROFILE', 'AWS_SESSION_TOKEN']) delete process.env[k];
process.env.AWS_EC2_METADATA_DISABLED = 'true';
process.env.AWS_ACCESS_KEY_ID = TEST_KEYS.accessKeyId;
process.env.AWS_SECRET_ACCESS_KEY = TEST_KEYS.secretAccessKey;

const child = spawn(process.execPath, ['--import', 'tsx', 'bench/cloudwatch-endpoint.ts', 'cn-north-1'], { stdio: ['pipe', 'pipe', 'inherit'] });
const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
const base = (await lines.next()).value as string;
const ask = async () => {
  child.stdin!.write('stats\n');
  return JSON.parse((await lines.next()).value as string) as { requests: number; datapoints: number; problems: string[]; maxBytes: number; maxDatums: number };
};

const section = { cloudwatch: [{ region: 'cn-north-1', endpoint: base, labels: ['isp'], flush_seconds: 300, max_pending: 1_000_000 }] };
validate(ExportSectionSchema, section);
const look = { regionOf: () => 'cn-north', labelsOf: (t: string) => ({ isp: t.endsWith('0') ? 'telecom' : 'unicom' }) };
const sink = new CloudWatchSink((section as unknown as { cloudwatch: never[] }).cloudwatch[0]!, look, pino({ level: 'silent' }));
const rand = rng(17);
const bases = Array.from({ length: series }, () => 2 + rand() * 150);

// One warm-up step (SDK and JIT), not counted.
const stepRounds = (k: number) => bases.map((b, i) => syntheticRound(rand, `/bench/region-${i % 10}/t${i}`, Date.UTC(2026, 11, 1) + k * stepS * 1000, stepS, 20, b));
sink.write(stepRounds(-1));
await sink.flush();
await sink.settled();
const warm = await ask();

let cpuMs = 0;
let wallMs = 0;
for (let k = 0; k < steps; k++) {
  const rounds = stepRounds(k); // made outside the measured part: the probes' work, not the exporter's
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  sink.write(rounds);
  await sink.flush();
  await sink.settled();
  wallMs += performance.now() - t0;
  const c = process.cpuUsage(c0);
  cpuMs += (c.user + c.system) / 1000;
}
const s = await ask();
await sink.close();
child.stdin!.end();
const requests = s.requests - warm.requests;
const points = s.datapoints - warm.datapoints;
console.log(`command: npx tsx bench/cloudwatch-export.ts ${series} ${steps} ${stepS}`);
console.log(`config: ${series} series, one round each per ${stepS} s step (20 pings; median, loss, mean, stddev), 4 dimensions (Target, Agent, Region, isp), ${steps} steps measured after one warm-up`);
console.log(`sent: ${points} data points in ${requests} PutMetricData requests (largest ${s.maxDatums} points, ${s.maxBytes} bytes JSON); signature problems: ${s.problems.length}; dropped ${sink.stats.dropped}, failed ${sink.stats.failed_requests}`);
console.log(`per step: ${(requests / steps).toFixed(1)} requests, ${(cpuMs / steps).toFixed(0)} ms CPU, ${(wallMs / steps).toFixed(0)} ms wall`);
console.log(`per minute: ${((requests / steps) * (60 / stepS)).toFixed(1)} requests/min; CPU ${((cpuMs / steps) / (stepS * 1000) * 100).toFixed(2)} % of one core`);
console.log(`loadavg ${load()}`);
