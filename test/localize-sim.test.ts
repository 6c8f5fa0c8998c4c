import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cdnWorld } from '../src/localize/testkit.ts';
import { issueScenarios, simulate, type ScenarioReport } from './localize-sim.ts';

/**
 * The scenarios of issue 11 through a real server on a simulated clock, before (per-series
 * alerts only) and after (the same alerts plus a localization scope). A reduced topology keeps
 * the suite quick — 6 provinces × 3 ISPs × 2 agents, 4 IDCs × 6 VIPs; bench/localize-scenarios.ts
 * runs the same code on 31 × 3 × 2 agents and 5 × 20 VIPs (figures in BENCHMARKS.md).
 */
const world = cdnWorld({ provinces: 6, agentsPerCell: 2, idcs: 4, vipsPerIdc: 6 });
const scenarios = issueScenarios(world);
const K = 3; // the scope's raise_after (default)

const expected: Record<string, string[]> = {
  'one VIP down': ['item'],
  'one IDC down': ['destination'],
  'one ISP in one province degraded': ['cell'],
  'one ISP degraded nationwide': ['network'],
  'one agent broken': ['vantage'],
  'two unrelated faults at once': ['destination', 'vantage'],
  'a 1-minute glitch of a whole IDC': [],
  'a flapping VIP (4 bad, 2 good, ×5)': ['item'],
  'a clean hour': [],
};

const show = (r: ScenarioReport) => JSON.stringify(r);

test('localization scenarios: every fault localized at its level within k+1 steps, one notification per cause, nothing for a glitch or a clean hour; today\'s per-series alerts for comparison', { timeout: 1_800_000 }, async () => {
  const before = await simulate({ world, scenarios, warmup: 15, localize: false });
  const after = await simulate({ world, scenarios, warmup: 15, localize: true });
  for (const r of before.reports) console.log(`today: ${r.name}: ${r.sent.total} notifications (${r.sent.targetRaised} raised, ${r.sent.targetCleared} cleared)`);
  for (const r of after.reports) console.log(`localize: ${r.name}: ${r.causes.map((c) => `${c.id} (${c.confidence}) +${c.afterSteps}`).join(', ') || 'no cause'}; ${r.sent.total} notifications; ${r.suppressed} target alerts suppressed`);

  const b = new Map(before.reports.map((r) => [r.name, r]));
  for (const r of after.reports) {
    const want = expected[r.name]!;
    assert.deepEqual(r.causes.map((c) => c.kind).sort(), want, `${r.name}: ${show(r)}`);
    for (const c of r.causes) assert.ok(c.afterSteps <= K + 1 && c.afterSteps >= K - 1, `${r.name}: ${c.id} raised ${c.afterSteps} steps after the fault began`);
    assert.equal(r.sent.causeRaised, want.length, `${r.name}: one notification per cause: ${show(r)}`);
    assert.equal(r.sent.causeCleared, want.length, `${r.name}: one clear per cause: ${show(r)}`);
    assert.equal(r.sent.targetRaised + r.sent.targetCleared + r.sent.targetFiring, 0, `${r.name}: no target alert sent: ${show(r)}`);
    // Today the same faults page once per affected series (raised and cleared each).
    if (want.length) assert.ok(b.get(r.name)!.sent.targetRaised > want.length * 5, `${r.name} today: ${show(b.get(r.name)!)}`);
  }
  assert.equal(b.get('a clean hour')!.sent.total, 0);
  assert.equal(b.get('a 1-minute glitch of a whole IDC')!.sent.total, 0);
  // The IDC outage today: one raise per series toward it (every agent × every VIP of the IDC).
  assert.equal(b.get('one IDC down')!.sent.targetRaised, world.agents.length * 6);
});
