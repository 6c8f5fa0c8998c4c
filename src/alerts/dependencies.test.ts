import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeRound, type Round } from '../probes/round.ts';
import { createAlerts } from './index.ts';
import { startReceiver } from './notifiers/receiver.testkit.ts';
import type { AlertEvent } from './notifiers/notifier.ts';
import { configIn, round, silentLog, storeIn, tempDir } from './testkit.ts';

const STEP = 60_000;
const t0 = Math.floor(Date.now() / STEP) * STEP - 100 * STEP;

/** An alert service on a config, a clock that follows the rounds fed, and the webhook deliveries. */
async function setup(yaml: string, opts: { regions?: Record<string, string> } = {}) {
  const rx = await startReceiver();
  const dir = tempDir();
  const config = configIn(dir, yaml.replace('HOOK', `${rx.base}/`));
  const store = storeIn(dir, config);
  let clock = t0;
  const regions = opts.regions ?? {};
  const alerts = createAlerts({ config, store, log: silentLog, builtinAgent: 'srv', now: () => clock, regionOf: (a) => regions[a] });
  return {
    alerts,
    feed(rounds: Round[]) {
      clock = Math.max(clock, ...rounds.map((r) => r.time + STEP));
      store.write(rounds);
      alerts.sink.write(rounds);
    },
    async sent(until?: number): Promise<AlertEvent[]> {
      if (until !== undefined) alerts.engine.release(until);
      await alerts.dispatcher.idle();
      return rx.requests.map((r) => JSON.parse(r.body) as AlertEvent);
    },
    async close() {
      await alerts.close();
      store.close();
      await rx.close();
    },
  };
}

const HEAD = `general: { pings: 10, step: 60, data_dir: ./data }
notifiers:
  hook: { type: webhook, url: "HOOK", retries: 0 }
`;

test('quorum: one notification for the target once 2 of 3 agents match, none for one agent alone', async () => {
  const s = await setup(`${HEAD}alerts:
  to: hook
  down: { type: loss, pattern: ">50%,>50%", edgetrigger: yes, quorum: { agents: 2 } }
  regional: { type: loss, pattern: ">50%,>50%", edgetrigger: yes, quorum: { agents: 1, regions: 2 } }
targets:
  children:
    web: { host: 127.0.0.1, alerts: [down, regional] }
`, { regions: { a: 'eu', b: 'eu', c: 'us' } });
  const at = (i: number, lost: Record<string, number>) => s.feed(['a', 'b', 'c'].map((ag) => round('/web', ag, t0 + i * STEP, 10, lost[ag] ?? 0, 10, 60)));
  for (let i = 0; i < 3; i++) at(i, {});
  for (let i = 3; i < 6; i++) at(i, { a: 10 }); // one agent's view: no page
  assert.deepEqual(await s.sent(), []);
  for (let i = 6; i < 9; i++) at(i, { a: 10, b: 10 }); // two agents in eu: `down` raises, `regional` needs a second region
  let sent = await s.sent();
  assert.deepEqual(sent.map((e) => `${e.alert.name} ${e.state} ${e.agent}`), ['down raised *']);
  assert.deepEqual(sent[0]!.quorum, { matching: ['a', 'b'], total: 3, regions: ['eu'], need: '2 of 3 agents' });
  assert.equal(sent[0]!.target.dotted, 'web', 'no [from agent]: it is the target\'s');
  for (let i = 9; i < 11; i++) at(i, { a: 10, b: 10, c: 10 }); // us joins: two regions
  for (let i = 11; i < 14; i++) at(i, {});
  sent = await s.sent();
  assert.deepEqual(sent.map((e) => `${e.alert.name} ${e.state}`), ['down raised', 'regional raised', 'down cleared', 'regional cleared']);
  // Active while raised, per target (agent "*"); nothing afterwards.
  assert.deepEqual(s.alerts.engine.active().filter((a) => a.agent === '*'), []);
  await s.close();
});

test('depends_on: a target behind a gateway is suppressed while the gateway\'s alert is active, even when its round comes first', async () => {
  const s = await setup(`${HEAD}alerts:
  to: hook
  down: { type: loss, pattern: ">50%", edgetrigger: yes }
targets:
  alerts: [down]
  children:
    Branch:
      depends_on: /Branch/gw
      children:
        gw: { host: 127.0.0.1 }
        host: { host: 127.0.0.2 }
`);
  s.feed([round('/Branch/host', 'srv', t0, 10, 0, 10, 60), round('/Branch/gw', 'srv', t0, 10, 0, 10, 60)]);
  // The host's round of the outage arrives before the gateway's, in its own batch.
  s.feed([round('/Branch/host', 'srv', t0 + STEP, 10, 10, 10, 60)]);
  s.feed([round('/Branch/gw', 'srv', t0 + STEP + 5000, 10, 10, 10, 60)]);
  s.feed([round('/Branch/host', 'srv', t0 + 2 * STEP, 10, 0, 10, 60), round('/Branch/gw', 'srv', t0 + 2 * STEP, 10, 0, 10, 60)]);
  const sent = await s.sent(t0 + 10 * STEP);
  assert.deepEqual(sent.map((e) => `${e.target.path} ${e.state}`), ['/Branch/gw raised', '/Branch/gw cleared']);
  const muted = s.alerts.db.events({ target: '/Branch/host', limit: 10 });
  assert.deepEqual(muted.map((e) => `${e.state} ${e.muted_by}`).sort(), ['cleared depends_on:/Branch/gw', 'raised depends_on:/Branch/gw']);
  // The gateway alone going down again with the host fine: nothing suppressed, nothing odd.
  await s.close();
});

test('cert expiry: raised once per target when the certificate has fewer days left, cleared when it is renewed', async () => {
  const s = await setup(`${HEAD}alerts:
  to: hook
  cert: { type: cert, pattern: "<14", comment: certificate expires soon }
targets:
  children:
    site: { probe: http, host: "https://127.0.0.1/", alerts: [cert] }
`);
  const r = (agent: string, i: number, days: number | undefined): Round => {
    const time = t0 + i * STEP;
    return makeRound({ target: '/site', agent, probe: 'http', time, step: 60 }, { sent: 1, rtts: [20], ...(days !== undefined ? { cert_expiry: Math.floor(time / 1000 + days * 86400) } : {}) });
  };
  for (let i = 0; i < 3; i++) s.feed([r('a', i, 40), r('b', i, 40)]);
  for (let i = 3; i < 8; i++) s.feed([r('a', i, 10 - i / 1440), r('b', i, 10)]);
  s.feed([r('a', 8, undefined), r('b', 8, undefined)]); // a failed round says nothing about the certificate
  for (let i = 9; i < 12; i++) s.feed([r('a', i, 90), r('b', i, 90)]);
  const sent = await s.sent();
  assert.deepEqual(sent.map((e) => `${e.alert.name} ${e.state} ${e.agent}`), ['cert raised *', 'cert cleared *']);
  assert.deepEqual(sent[0]!.quorum?.matching, ['a', 'b']);
  await s.close();
});

test('gate: a target alert waits for the localization verdict; explained → recorded as suppressed (raise and clear), not explained → sent at the deadline', async () => {
  const s = await setup(`${HEAD}alerts:
  to: hook
  down: { type: loss, pattern: ">50%", edgetrigger: yes }
targets:
  alerts: [down]
  children:
    a: { host: 127.0.0.1 }
    b: { host: 127.0.0.2 }
`);
  const explained = new Set<string>();
  s.alerts.engine.setGate({ holdMs: () => 4 * STEP, explain: (target) => (explained.has(target) ? { id: 'cdn/destination/idc1' } : undefined) });
  s.feed([round('/a', 'x', t0, 10, 10, 10, 60), round('/b', 'x', t0, 10, 10, 10, 60)]);
  assert.deepEqual(await s.sent(), [], 'both held');
  explained.add('/a'); // the cause is raised two steps later
  s.feed([round('/a', 'x', t0 + 2 * STEP, 10, 10, 10, 60), round('/b', 'x', t0 + 2 * STEP, 10, 10, 10, 60)]);
  assert.deepEqual(await s.sent(), [], '/a suppressed at once, /b still waiting');
  let sent = await s.sent(t0 + 4 * STEP + 1);
  assert.deepEqual(sent.map((e) => `${e.target.path} ${e.state}`), ['/b raised']);
  // Recovery: /a's clear shares its raise's fate (suppressed); /b's clear follows its sent raise.
  s.feed([round('/a', 'x', t0 + 5 * STEP, 10, 0, 10, 60), round('/b', 'x', t0 + 5 * STEP, 10, 0, 10, 60)]);
  sent = await s.sent(t0 + 20 * STEP);
  assert.deepEqual(sent.map((e) => `${e.target.path} ${e.state}`), ['/b raised', '/b cleared']);
  assert.deepEqual(s.alerts.db.events({ target: '/a', limit: 10 }).map((e) => `${e.state} ${e.muted_by}`), ['cleared cause:cdn/destination/idc1', 'raised cause:cdn/destination/idc1']);
  const d = s.alerts.db.deliveries({ limit: 10 });
  assert.equal(d.filter((x) => x.status === 'suppressed').length, 2);
  assert.equal(d.filter((x) => x.status === 'sent').length, 2);
  await s.close();
});
