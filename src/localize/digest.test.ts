import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeDigest, encodeDigest, mergeAgents, mergeLatest } from './digest.ts';
import { decodeCauses, encodeCauses } from './shared.ts';
import { emptyState, step } from './step.ts';
import { cdnWorld, roundsAt, scopeOf, seriesOf, type Fault } from './testkit.ts';
import type { LocalizeAgent } from './service.ts';
import type { SeriesInput } from './types.ts';

const rec = (target: string, agent: string, time: number, median: number | null = 12.5): SeriesInput => ({
  target, agent, targetLabels: {}, agentLabels: {}, agentRegion: '', time, step: 60, sent: 10, lost: 3, median,
});

test('a digest decodes to the records and agents it was made of', () => {
  const records = [rec('/a/x', 'tel-1', 1000), rec('/a/y', 'tel-1', 2000, null), rec('/a/x', 'uni-1', 3000)];
  const agents: LocalizeAgent[] = [{ name: 'tel-1', region: 'r1', labels: { isp: 'tel' } }, { name: 'other', region: 'r2', labels: {} }];
  const d = decodeDigest(encodeDigest(records, agents));
  assert.deepEqual(d.records.map((r) => [r.target, r.agent, r.time, r.step, r.sent, r.lost, r.median, r.key]), [
    ['/a/x', 'tel-1', 1000, 60, 10, 3, 12.5, '/a/x\u0000tel-1'],
    ['/a/y', 'tel-1', 2000, 60, 10, 3, null, '/a/y\u0000tel-1'],
    ['/a/x', 'uni-1', 3000, 60, 10, 3, 12.5, '/a/x\u0000uni-1'],
  ]);
  // Only the agents it names; one this server does not know travels by name alone.
  assert.deepEqual(d.agents, [{ name: 'tel-1', region: 'r1', labels: { isp: 'tel' } }]);
  const cut = encodeDigest(records, agents).subarray(0, 50);
  assert.throws(() => decodeDigest(cut), /digest/);
  assert.throws(() => decodeDigest(Buffer.from('hello world, not a digest')), /not a localization digest/);
});

test('merging keeps the newest round of each series, and the agents as their digests describe them', () => {
  const own = [rec('/t', 'a', 5000), rec('/t', 'b', 1000)];
  const other = { records: [rec('/t', 'a', 4000), rec('/t', 'b', 2000), rec('/t', 'c', 3000)], agents: [{ name: 'c', region: 'r9', labels: { isp: 'x' } }] };
  const merged = mergeLatest(own, [other]);
  assert.deepEqual(merged.map((r) => `${r.agent}@${r.time}`).sort(), ['a@5000', 'b@2000', 'c@3000']);
  assert.equal(merged.find((r) => r.agent === 'a'), own[0], 'own records are kept as they are');
  const agents = mergeAgents([{ name: 'a', region: 'r1', labels: {} }, { name: 'c', region: 'old', labels: {} }], [other]);
  assert.equal(agents.get('c')!.region, 'r9');
  assert.equal(agents.get('a')!.region, 'r1');
});

test('one ISP in one province down, its two agents pushing to two servers: each half alone blames its own agent, the merged digests one cell', () => {
  // 4 provinces × 3 ISPs × 2 agents, 2 IDCs × 3 VIPs: agents "-1" push to one server, "-2" to the other.
  const world = cdnWorld({ provinces: 4, idcs: 2, vipsPerIdc: 3 });
  const scope = scopeOf();
  const T = Date.UTC(2026, 0, 5);
  const M = world.step * 1000;
  const fault: Fault = { name: 'cell', from: T, to: T + 100 * M, match: (a) => a.labels.isp === 'mobile' && a.labels.province === 'beijing', loss: 100 };
  const half = (s: SeriesInput) => (s.agent.endsWith('-1') ? 0 : 1);
  let alone = emptyState();
  let merged = emptyState();
  const raisedAlone: string[] = [];
  const raisedMerged: string[] = [];
  for (let i = 0; i < 6; i++) {
    const series = seriesOf(world, roundsAt(world, T + i * M, [fault]));
    const a = step(scope, series.filter((s) => half(s) === 0), alone, T + (i + 1) * M);
    alone = a.state;
    raisedAlone.push(...a.events.map((e) => e.cause.id));
    // What the owner steps over: its own half, and the other half through an encoded digest (labels filled from the world).
    const d = decodeDigest(encodeDigest(series.filter((s) => half(s) === 1), world.agents));
    const labels = new Map(series.map((s) => [s.key!, s]));
    for (const r of d.records) Object.assign(r, { targetLabels: labels.get(r.key!)!.targetLabels, agentLabels: labels.get(r.key!)!.agentLabels });
    const m = step(scope, mergeLatest(series.filter((s) => half(s) === 0), [d]), merged, T + (i + 1) * M);
    merged = m.state;
    raisedMerged.push(...m.events.map((e) => e.cause.id));
  }
  assert.deepEqual(raisedAlone, ['cdn/vantage/mobile-beijing-1']);
  assert.deepEqual(raisedMerged, ['cdn/cell/mobile/beijing']);
});

test('shared causes decode to the memos and traces they were made of', () => {
  const world = cdnWorld({ provinces: 4, idcs: 2, vipsPerIdc: 3 });
  const T = Date.UTC(2026, 0, 5);
  const fault: Fault = { name: 'idc', from: T, to: T + 1e9, match: (_a, t) => t.labels.idc === 'idc1', loss: 100 };
  let state = emptyState();
  for (let i = 0; i < 4; i++) state = step(scopeOf(), seriesOf(world, roundsAt(world, T + i * 60_000, [fault])), state, T + (i + 1) * 60_000).state;
  assert.equal(state.causes.size, 1);
  const trace = { summary: 'loss starts at hop 3', changes: [], target: '/IDC/idc1/vip1', agents: ['telecom-beijing-1'] };
  const text = encodeCauses(state.causes.values(), (id) => (id === 'cdn/destination/idc1' ? trace : undefined));
  const back = decodeCauses(text);
  assert.deepEqual([...back.causes], [...state.causes]);
  assert.deepEqual(back.traces.get('cdn/destination/idc1'), trace);
  assert.throws(() => decodeCauses('{}'), /not a list/);
});
