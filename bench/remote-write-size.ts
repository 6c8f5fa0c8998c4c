// Bytes on the wire of one remote-write batch: protobuf, snappy block (what is sent), and
// gzip of the same protobuf for comparison.
// Usage: npx tsx bench/remote-write-size.ts [targets=400] [rounds-per-target=5]
// Rounds are synthetic (bench/store-common.ts: 20 pings, base RTT per target, jitter, 1 % lossy),
// one minute apart, agent "bench", label job=smokemesh; the default makes one batch of 2,000
// rounds (export.remote_write.batch_rounds' default).
import { gzipSync } from 'node:zlib';
import { roundsToSeries } from '../src/export/remote-write.ts';
import { encodeWriteRequest, snappyBlock } from '../src/export/remote-write-codec.ts';
import { load, rng, syntheticRound } from './store-common.ts';

const targets = Number(process.argv[2] ?? 400);
const perTarget = Number(process.argv[3] ?? 5);
const rand = rng(11);
const bases = Array.from({ length: targets }, () => 2 + rand() * 150);
const rounds = [];
for (let k = 0; k < perTarget; k++) {
  for (let i = 0; i < targets; i++) rounds.push(syntheticRound(rand, `/bench/region-${i % 10}/t${i}`, Date.UTC(2026, 0, 1) + k * 60_000, 60, 20, bases[i]!));
}
const proto = encodeWriteRequest(roundsToSeries(rounds, { job: 'smokemesh' }));
const t0 = process.cpuUsage();
const REPS = 20;
let body = snappyBlock(proto);
for (let i = 1; i < REPS; i++) body = snappyBlock(proto);
const cpu = process.cpuUsage(t0);
const gz = gzipSync(proto);
console.log(`command: npx tsx bench/remote-write-size.ts ${targets} ${perTarget}`);
console.log(`config: ${rounds.length} rounds (${targets} targets × ${perTarget}), 20 pings, 5 values per round, label job=smokemesh`);
console.log(`protobuf ${proto.length} bytes; snappy ${body.length} bytes (ratio ${(proto.length / body.length).toFixed(1)}×, ${((cpu.user + cpu.system) / 1000 / REPS).toFixed(2)} ms CPU per batch); gzip ${gz.length} bytes (${(proto.length / gz.length).toFixed(1)}×)`);
console.log(`loadavg ${load()}`);
