import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AlertEvent } from '../src/alerts/notifiers/notifier.ts';
import { cdnWorld, type Fault } from '../src/localize/testkit.ts';
import { startSim } from './localize-sim.ts';
import { waitFor } from './wait.ts';

/**
 * Label routing of causes: a scope's `routes:` send a cause to the route's channel as well when
 * the cause's affected targets carry the route's labels. Real webhook deliveries to a local
 * receiver (one path per notifier): the scope's own channel gets every cause, the `pay` route's
 * channel only the cause of the pay VIP (raised and cleared), the `news` route's nothing.
 */
const world = cdnWorld({ provinces: 3, agentsPerCell: 1, idcs: 2, vipsPerIdc: 4 });

test('routes: a cause goes to the channel of each route its affected labels match, and only there', { timeout: 600_000 }, async () => {
  // In two IDCs (one bad VIP of four in an IDC is that VIP; two would be the IDC).
  const pay = world.targets.find((t) => t.labels.business === 'pay' && t.labels.idc === 'idc1')!;
  const search = world.targets.find((t) => t.labels.business === 'search' && t.labels.idc === 'idc2')!;
  const sim = await startSim({
    world, localize: true, notifiers: ['paydesk', 'newsroom'],
    scope: '      routes:\n        - { labels: { business: pay }, to: paydesk }\n        - { labels: { business: [news, video] }, to: newsroom }\n',
  }, 40);
  const { server, rx } = sim;
  try {
    const M = world.step * 1000;
    const down = (t: typeof pay): Fault => ({ name: t.path, from: sim.start + 5 * M + 17_000, to: sim.start + 13 * M + 17_000, match: (_a, x) => x.path === t.path, loss: 100 });
    for (let i = 0; i < 24; i++) await sim.step(i, [down(pay), down(search)]);
    // Every delivery made (none pending, none held for a verdict).
    await waitFor('deliveries to settle', async () => {
      const q = async (status: string) => ((await (await fetch(`${server.url}/api/v1/alerts/deliveries?status=${status}&limit=1000`)).json()) as unknown[]).length;
      return (await q('pending')) === 0 && (await q('held')) === 0 && rx.requests.some((r) => r.url === '/hook');
    }, 300_000, 200);
    const got = (path: string) => {
      const byId = new Map<string, AlertEvent>();
      for (const r of rx.requests) if (r.url === path) byId.set((JSON.parse(r.body) as AlertEvent).id, JSON.parse(r.body) as AlertEvent);
      return [...byId.values()].map((e) => `${e.state} ${e.cause?.id ?? e.target.path}`).sort();
    };
    const payCause = `cdn/item/${pay.labels.vip}`;
    const searchCause = `cdn/item/${search.labels.vip}`;
    assert.deepEqual(got('/hook'), [`cleared ${payCause}`, `cleared ${searchCause}`, `raised ${payCause}`, `raised ${searchCause}`].sort());
    assert.deepEqual(got('/paydesk'), [`cleared ${payCause}`, `raised ${payCause}`]);
    assert.deepEqual(got('/newsroom'), []);
    // The routed notification is the same cause with its evidence, affected labels included.
    const routed = rx.requests.filter((r) => r.url === '/paydesk').map((r) => JSON.parse(r.body) as AlertEvent).find((e) => e.state === 'raised')!;
    assert.deepEqual(Object.keys(routed.cause!.affected.business ?? {}), ['pay']);
    assert.ok(routed.cause!.series.bad >= world.agents.length - 1, JSON.stringify(routed.cause!.series));
  } finally {
    await sim.close();
  }
});
