import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeRound, type Round } from '../probes/round.ts';
import { ExportState } from '../export/state.ts';
import { LatestRounds } from './latest-rounds.ts';

const NOW = 1_700_000_000_000;
function round(agent: string, target: string, ago: number, rtts: number[] = [10, 11], step = 10): Round {
  return makeRound({ target, agent, probe: 'icmp', time: NOW - ago, step }, { sent: 2, rtts });
}
const held = (l: LatestRounds) => [...l.values()].map((r) => [r.target, r.agent, NOW - r.time]).sort();

test('the newer round of a series wins, whichever source brings it first', () => {
  const l = new LatestRounds();
  // This server's round, then an older one of the same series shared by another server: kept.
  assert.equal(l.add([round('a', '/t', 5_000)], NOW), 1);
  assert.equal(l.add([round('a', '/t', 15_000)], NOW), 0);
  assert.deepEqual(held(l), [['/t', 'a', 5_000]]);
  // A newer one from anywhere replaces it; the same round again (a resend, or shared back by the index) is not taken: the object held stays.
  const mine = round('a', '/t', 1_000, [20, 21]);
  assert.equal(l.add([mine], NOW), 1);
  assert.equal(l.add([JSON.parse(JSON.stringify(mine)) as Round], NOW), 0);
  assert.deepEqual(held(l), [['/t', 'a', 1_000]]);
  assert.equal([...l.values()][0], mine);
  assert.equal(mine.median, 21);
  // Series are (target, agent): other agents and targets are held beside it.
  l.add([round('b', '/t', 2_000), round('a', '/u', 3_000)], NOW);
  assert.deepEqual(held(l), [['/t', 'a', 1_000], ['/t', 'b', 2_000], ['/u', 'a', 3_000]]);
  assert.equal(l.size, 3);
});

test('rounds older than ten of their steps are neither taken nor kept', () => {
  const l = new LatestRounds();
  // Ten steps of 10 s: 100 s. A step of 60 s keeps its round six times longer.
  assert.equal(l.add([round('a', '/old', 100_001), round('a', '/edge', 100_000), round('a', '/slow', 300_000, [1], 60)], NOW), 2);
  assert.deepEqual(held(l), [['/edge', 'a', 100_000], ['/slow', 'a', 300_000]]);
  assert.equal(l.prune(NOW + 1), 1);
  assert.deepEqual(held(l), [['/slow', 'a', 300_000]]);
  assert.equal(l.prune(NOW + 300_001), 1);
  assert.equal(l.size, 0);
});

test('a view nobody reads stays bounded: adding sweeps the old series at most once a minute', () => {
  const l = new LatestRounds();
  l.add([round('a', '/gone', 0)], NOW);
  // Two minutes on, the gone series is swept by an add alone.
  l.add([round('b', '/here', -120_000)], NOW + 120_000);
  assert.deepEqual(held(l), [['/here', 'b', -120_000]]);
});

test('on one server it holds what the export state holds (the region view reads the same rounds as before)', () => {
  // Random arrival order, resends and old rounds: the union keeps the same latest round per series.
  let seed = 7;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const rounds = Array.from({ length: 500 }, () => {
    const [agent, target, ago] = [`a${Math.floor(rand() * 5)}`, `/t${Math.floor(rand() * 8)}`, Math.floor(rand() * 150) * 1000];
    // One round per series and time (a resend carries the same figures).
    return round(agent, target, ago, [(agent.charCodeAt(1) * 7 + target.charCodeAt(2) * 3 + ago / 1000) % 50]);
  });
  const state = new ExportState(() => undefined, () => undefined);
  const l = new LatestRounds();
  for (let i = 0; i < rounds.length; i += 37) {
    state.write(rounds.slice(i, i + 37));
    l.add(rounds.slice(i, i + 37), NOW);
  }
  state.prune(NOW);
  l.prune(NOW);
  const key = (r: Round) => `${r.target} ${r.agent} ${r.time} ${r.median}`;
  assert.deepEqual([...l.values()].map(key).sort(), [...state.latest()].map(key).sort());
  assert.ok(l.size > 20, `many series held (${l.size})`);
});
