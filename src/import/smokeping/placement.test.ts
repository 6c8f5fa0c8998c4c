import { test } from 'node:test';
import assert from 'node:assert/strict';
import { placeSettings, type PlacedTarget, type PlaceNode } from './placement.ts';

function target(over: Partial<PlacedTarget> = {}): PlacedTarget {
  return { type: 'icmp', preset: 'FPing', params: {}, resolved: () => undefined, alerts: [], alertee: [], server_probes: true, ...over };
}

/**
 * What each target resolves to under the smokemesh loader's rules (override for probe,
 * alerts, server_probes and parameters; alertee adds up), from the placed settings.
 */
function resolve(root: PlaceNode, placed: Map<PlaceNode, Record<string, unknown>>): Map<PlacedTarget, Record<string, unknown>> {
  const out = new Map<PlacedTarget, Record<string, unknown>>();
  const walk = (n: PlaceNode, inh: Record<string, unknown>) => {
    const mine = { ...inh };
    for (const [k, v] of Object.entries(placed.get(n) ?? {})) {
      mine[k] = k === 'alertee' ? [...(inh.alertee as string[]), ...(v as string[])] : v;
    }
    if (n.target) out.set(n.target, mine);
    for (const c of n.children) walk(c, mine);
  };
  walk(root, { probe: 'icmp', alerts: [], alertee: [], server_probes: true });
  return out;
}

test('every target resolves to its own settings; groups carry what SmokePing had on them', () => {
  const a = target({ alerts: ['bigloss'], alertee: ['ops@x'], params: { pings: 10 } });
  const b = target({ alerts: ['bigloss'], alertee: ['ops@x', 'b@x'], params: { pings: 10 } });
  const c = target({ preset: 'Curl', type: 'http', alerts: [], alertee: ['ops@x'], params: { timeout: 5000 } });
  const d = target({ server_probes: false, params: { pings: 20 }, resolved: (k) => (k === 'pings' ? 20 : undefined) });
  const group: PlaceNode = { group: { preset: 'FPing', alerts: ['bigloss'], server_probes: true }, children: [{ target: a, children: [] }, { target: b, children: [] }] };
  // A target that is also a group: its parameter reaches its child, which says its own value again.
  const both: PlaceNode = { target: target({ params: { pings: 5 } }), children: [{ target: d, children: [] }] };
  const root: PlaceNode = { group: { preset: 'FPing', alerts: [], server_probes: true }, children: [group, { target: c, children: [] }, both] };
  const placed = placeSettings(root);
  assert.deepEqual(placed.get(root), { probe: 'FPing' });
  assert.deepEqual(placed.get(group), { alerts: ['bigloss'], alertee: ['ops@x'], pings: 10 });
  for (const [t, got] of resolve(root, placed)) {
    assert.equal(got.probe, t.preset);
    assert.deepEqual(got.alerts, t.alerts);
    assert.deepEqual([...(got.alertee as string[])].sort(), [...t.alertee].sort());
    assert.equal(got.server_probes, t.server_probes);
    for (const [k, v] of Object.entries(t.params)) assert.deepEqual(got[k], v, k);
  }
});
