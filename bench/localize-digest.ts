// Localization in a cluster: what one server's digest of a scope costs (docs/localize.md,
// "Several servers"). ~100,000 series (31 provinces × 3 ISPs × 4 agents, 10 IDCs × 27 VIPs, the
// localize-scale world) split over three servers by agent: each non-owner encodes and gzips the
// latest round of its third of the series (what it sends once per step); the owner gunzips and
// decodes the two others' digests and merges them with its own third (newest round per series),
// then steps over the whole scope. Prints bytes per series, the times, and the load average.
// Run: node --import tsx bench/localize-digest.ts [agentsPerCell=4] [idcs=10] [vipsPerIdc=27]
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { gunzip, gzip } from 'node:zlib';
import { decodeDigest, encodeDigest, mergeLatest } from '../src/localize/digest.ts';
import { step } from '../src/localize/step.ts';
import { cdnWorld, roundsAt, scopeOf, seriesOf } from '../src/localize/testkit.ts';

const world = cdnWorld({ agentsPerCell: Number(process.argv[2] ?? 4), idcs: Number(process.argv[3] ?? 10), vipsPerIdc: Number(process.argv[4] ?? 27) });
const scope = scopeOf();
const T = Date.UTC(2026, 0, 5);
const series = seriesOf(world, roundsAt(world, T, []));
const servers = 3;
const labels = new Map(series.map((s) => [s.key!, s]));
const byAgent = new Map(world.agents.map((a, i) => [a.name, i]));
const thirds = [0, 1, 2].map((i) => series.filter((s) => byAgent.get(s.agent)! % servers === i));

const runs = [];
for (let r = 0; r < 3; r++) {
  // A non-owner: encode + gzip its third.
  let t0 = performance.now();
  const raw = encodeDigest(thirds[1]!, world.agents);
  const encode = performance.now() - t0;
  t0 = performance.now();
  const zipped = await promisify(gzip)(raw);
  const zip = performance.now() - t0;
  const other = await promisify(gzip)(encodeDigest(thirds[2]!, world.agents));
  // The owner: gunzip + decode both, merge with its own third, label (as the service does), step.
  t0 = performance.now();
  const digests = [];
  for (const z of [zipped, other]) digests.push(decodeDigest(await promisify(gunzip)(z)));
  const decode = performance.now() - t0;
  t0 = performance.now();
  const merged = mergeLatest(thirds[0]!, digests);
  for (const x of merged) {
    const l = labels.get(x.key!)!;
    x.targetLabels = l.targetLabels;
    x.agentLabels = l.agentLabels;
    x.agentRegion = l.agentRegion;
  }
  const merge = performance.now() - t0;
  t0 = performance.now();
  const res = step(scope, merged, undefined, T + world.step * 1000);
  const stepMs = performance.now() - t0;
  if (res.counts.series !== series.length) throw new Error(`stepped ${res.counts.series} of ${series.length} series`);
  runs.push({ encode, zip, decode, merge, stepMs, raw: raw.length, zipped: zipped.length, n: thirds[1]!.length });
}
const last = runs[runs.length - 1]!;
console.log(`series: ${series.length} over ${servers} servers (${last.n} in one digest); load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
console.log(`digest of one server: ${(last.raw / 1048576).toFixed(2)} MiB raw (${(last.raw / last.n).toFixed(1)} B/series), ${(last.zipped / 1048576).toFixed(2)} MiB gzipped (${(last.zipped / last.n).toFixed(1)} B/series)`);
for (const [i, x] of runs.entries()) {
  console.log(`run ${i + 1}: sender encode ${x.encode.toFixed(0)} ms + gzip ${x.zip.toFixed(0)} ms (thread pool); owner gunzip+decode of 2 digests ${x.decode.toFixed(0)} ms, merge+label ${x.merge.toFixed(0)} ms, step over all ${x.stepMs.toFixed(0)} ms`);
}
