import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createAlerts, checkAlertsConfig } from './index.ts';
import { configIn, round, silentLog, storeIn, tempDir, writeHook } from './testkit.ts';
import type { Round } from '../probes/round.ts';
import type { Store } from '../store/types.ts';
import { ConfigError } from '../errors.ts';

const T = '/Net/link';
// Recent rounds: the store refuses rounds older than its raw retention.
const t0 = Math.floor(Date.now() / 5000) * 5000 - 600_000;

function yaml(hook: string, extra = ''): string {
  return `
general: { pings: 5, step: 5, data_dir: ./data }
alerts:
  to: "|${hook}"
  lossy:
    type: loss
    pattern: ">50%"
    edgetrigger: yes
    comment: link down
  slow:
    type: rtt
    pattern: ">100,>100"
    comment: slow
${extra}
targets:
  interval: 500
  children:
    Net:
      alerts: [lossy, slow]
      children:
        link: { host: 127.0.0.1 }
`;
}

function feed(store: Store, sink: { write(r: readonly Round[]): void }, rounds: Round[]): void {
  store.write(rounds);
  sink.write(rounds);
}

test('engine: edge-triggered raise and clear run the program with SmokePing arguments; state survives a restart', async () => {
  const dir = tempDir();
  const hook = writeHook(dir);
  const config = configIn(dir, yaml(hook.path));
  assert.deepEqual(checkAlertsConfig(config), []);
  const store = storeIn(dir, config);
  let alerts = createAlerts({ config, store, log: silentLog, builtinAgent: 'srv' });
  feed(store, alerts.sink, [round(T, 'srv', t0, 5, 0, 12)]);
  feed(store, alerts.sink, [round(T, 'srv', t0 + 5000, 5, 5)]);
  await alerts.dispatcher.idle();
  let calls = hook.calls();
  assert.equal(calls.length, 1);
  // The target keeps as much history as its longest alert needs (2 rounds), as SmokePing does.
  assert.deepEqual(calls[0]!.args, ['lossy', 'Net.link', 'loss: 0%, 100%', 'rtt: 12ms, U', '127.0.0.1', '1']);
  assert.equal((calls[0]!.event as { state: string }).state, 'raised');

  // Restart while raised: still lossy → no second raise; then recovered → cleared.
  await alerts.close();
  alerts = createAlerts({ config, store, log: silentLog, builtinAgent: 'srv' });
  assert.equal(await alerts.warmed, 1);
  assert.deepEqual(alerts.engine.history(T, 'srv'), { loss: [0, 100], rtt: [12.002, null] }, 'read back at start');
  // An agent resending a round already counted does not shift the history.
  alerts.sink.write([round(T, 'srv', t0 + 5000, 5, 5)]);
  assert.deepEqual(alerts.engine.history(T, 'srv'), { loss: [0, 100], rtt: [12.002, null] });
  feed(store, alerts.sink, [round(T, 'srv', t0 + 10000, 5, 4)]);
  await alerts.dispatcher.idle();
  // History was seeded from the store: the lossy round before the restart is still there.
  assert.deepEqual(alerts.engine.history(T, 'srv'), { loss: [100, 80], rtt: [null, 10] });
  assert.equal(hook.calls().length, 1, 'no second raised after the restart');
  feed(store, alerts.sink, [round(T, 'srv', t0 + 15000, 5, 0, 11)]);
  await alerts.dispatcher.idle();
  calls = hook.calls();
  assert.equal(calls.length, 2);
  assert.deepEqual(calls[1]!.args, ['lossy', 'Net.link', 'loss: 80%, 0%', 'rtt: 10ms, 11ms', '127.0.0.1', '0']);

  const history = alerts.db.events({ limit: 10 });
  assert.deepEqual(history.map((e) => e.state), ['cleared', 'raised']);
  const deliveries = alerts.db.deliveries({ limit: 10 });
  assert.deepEqual(deliveries.map((d) => d.status), ['sent', 'sent']);
  assert.equal(deliveries[0]!.attempt_log[0]!.outcome, 'sent');
  await alerts.close();
  store.close();
});

test('engine: non-edge alerts notify every matching round; remote agents are named in the target', async () => {
  const dir = tempDir();
  const hook = writeHook(dir);
  const config = configIn(dir, yaml(hook.path));
  const store = storeIn(dir, config);
  const alerts = createAlerts({ config, store, log: silentLog, builtinAgent: 'srv' });
  for (let i = 0; i < 4; i++) feed(store, alerts.sink, [round(T, 'agent-b', t0 + i * 5000, 5, 0, 150)]);
  await alerts.dispatcher.idle();
  const calls = hook.calls();
  // rtt >100,>100 needs two rounds: matches at rounds 2, 3 and 4.
  assert.equal(calls.length, 3);
  assert.deepEqual(calls.map((c) => c.args.length), [5, 5, 5], 'no sixth argument without edgetrigger');
  assert.equal(calls[0]!.args[1], 'Net.link [from agent-b]');
  await alerts.close();
  store.close();
});

test('engine: priority suppresses the other prioritized alerts of the target; silences record without sending', async () => {
  const dir = tempDir();
  const hook = writeHook(dir);
  const config = configIn(dir, `
general: { pings: 5, step: 5, data_dir: ./data }
alerts:
  to: "|${hook.path}"
  major: { type: loss, pattern: ">=50%", edgetrigger: yes, priority: 1, comment: major }
  minor: { type: loss, pattern: ">=10%", edgetrigger: yes, priority: 2, comment: minor }
  any: { type: loss, pattern: ">0%", edgetrigger: yes, comment: unprioritized }
targets:
  interval: 500
  children:
    A: { host: 127.0.0.1, alerts: [minor, major, any], labels: { site: a } }
    B: { host: 127.0.0.2, alerts: [minor, major, any], labels: { site: b } }
`);
  const store = storeIn(dir, config);
  const alerts = createAlerts({ config, store, log: silentLog, builtinAgent: 'srv' });
  alerts.db.saveSilence({ id: 'quiet-b', created: Date.now(), starts: Date.now() - 1000, ends: Date.now() + 3600_000, labels: { site: 'b' }, comment: 'maintenance' });
  alerts.engine.refreshSilences();
  feed(store, alerts.sink, [round('/A', 'srv', t0, 10, 6), round('/B', 'srv', t0, 10, 6)]);
  await alerts.dispatcher.idle();
  const sent = hook.calls().map((c) => `${c.args[1]}:${c.args[0]}`).sort();
  assert.deepEqual(sent, ['A:any', 'A:major']);
  const events = alerts.db.events({ limit: 20 });
  const muted = Object.fromEntries(events.map((e) => [`${e.target}:${e.alert}`, e.muted_by]));
  assert.equal(muted['/A:minor'], 'priority');
  assert.equal(muted['/B:major'], 'quiet-b');
  assert.equal(muted['/B:any'], 'quiet-b');
  const silenced = alerts.db.deliveries({ status: 'silenced', limit: 20 });
  assert.equal(silenced.length, 2);
  assert.ok(silenced.every((d) => d.attempts === 0));
  await alerts.close();
  store.close();
});

test('config: bad patterns, unknown alerts and recipients are reported with file:line:column', () => {
  const dir = tempDir();
  const config = configIn(dir, `
general: { pings: 5 }
alerts:
  to: "nobody"
  bad:
    type: loss
    pattern: ">10%,*0*,>10%"
    comment: x
  badmatcher: { type: matcher, pattern: "CheckLoss(l=>10)" }
  mailonly: { type: rtt, pattern: ">5", to: ops@example.org }
targets:
  children:
    A: { host: 127.0.0.1, alerts: [bad, nosuch] }
`);
  const issues = checkAlertsConfig(config);
  const byPath = Object.fromEntries(issues.map((i) => [i.path, i]));
  assert.match(byPath['alerts.to']!.message, /unknown recipient "nobody"/);
  assert.match(byPath['alerts.bad.pattern']!.message, /element 2 "\*0\*"/);
  assert.equal(byPath['alerts.bad.pattern']!.line, 7);
  assert.equal(byPath['alerts.bad.pattern']!.file, join(dir, 'smokemesh.yaml'));
  assert.match(byPath['alerts.badmatcher.pattern']!.message, /missing parameter "x"/);
  assert.match(byPath['alerts.mailonly.to']!.message, /no notifier of type email/);
  assert.match(byPath['targets.children.A.alerts.1']!.message, /unknown alert "nosuch"/);
  assert.equal(byPath['targets.children.A.alerts.1']!.line, 13);
  assert.ok(!byPath['targets.children.A.alerts.0'], 'an alert with a broken pattern is still a defined name');
});

test('reload: a broken alert section is refused and the running rules stay; removed alerts leave the active list', async () => {
  const dir = tempDir();
  const hook = writeHook(dir);
  const config = configIn(dir, yaml(hook.path));
  const store = storeIn(dir, config);
  const alerts = createAlerts({ config, store, log: silentLog, builtinAgent: 'srv' });
  feed(store, alerts.sink, [round(T, 'srv', t0, 5, 5)]);
  await alerts.dispatcher.idle();
  assert.deepEqual(alerts.engine.active().map((a) => a.alert), ['lossy']);

  const broken = configIn(dir, yaml(hook.path).replace('">50%"', '">50"'));
  assert.throws(() => alerts.reload(broken), (e: unknown) => e instanceof ConfigError && /alerts\.lossy\.pattern: pattern element 1 ">50"/.test(e.message));
  assert.deepEqual(alerts.engine.rules().map((r) => r.pattern), ['>50%', '>100,>100'], 'old rules still run');

  alerts.reload(configIn(dir, yaml(hook.path).replace('alerts: [lossy, slow]', 'alerts: [slow]')));
  assert.deepEqual(alerts.engine.active(), []);
  feed(store, alerts.sink, [round(T, 'srv', t0 + 5000, 5, 0)]);
  await alerts.dispatcher.idle();
  assert.equal(hook.calls().length, 1, 'only the raise: the alert was removed, not cleared');
  await alerts.close();
  store.close();
});

test('engine handover (cluster): a second engine that adopts the counters its fence was given continues a raised alert: no second raise, one clear', async () => {
  const dir = tempDir();
  const hook = writeHook(dir);
  const config = configIn(dir, yaml(hook.path));
  const store = storeIn(dir, config);
  const copied: import('./db.ts').ActiveRow[] = [];
  const first = createAlerts({ config, store, log: silentLog, builtinAgent: 'srv', dbFile: join(dir, 'first.sqlite'), fence: (c, fired, accept) => { copied.push(...c); accept([...fired]); } });
  feed(store, first.sink, [round(T, 'a1', t0, 5, 0, 12)]);
  feed(store, first.sink, [round(T, 'a1', t0 + 5000, 5, 5)]);
  await first.dispatcher.idle();
  assert.deepEqual(hook.calls().map((c) => (c.event as { state: string }).state), ['raised']);
  assert.deepEqual(copied.map((c) => [c.alert, c.prevmatch > 0]), [['lossy', true]], 'the raise was handed to the fence');
  assert.deepEqual(first.engine.heldKeys(), [`${T}\u0000a1`]);
  assert.equal(first.engine.ownershipKey('/nope', 'a1'), undefined, 'a target without alerts is not owned by anyone');
  first.engine.forget(first.engine.heldKeys());
  assert.deepEqual(first.engine.heldKeys(), [], 'forgotten');
  await first.close();

  // Another server (its own alert database, which never saw the raise) takes the series over.
  const second = createAlerts({ config, store, log: silentLog, builtinAgent: 'srv', dbFile: join(dir, 'second.sqlite'), warm: false });
  second.engine.adopt(copied.filter((c) => c.prevmatch !== 0));
  feed(store, second.sink, [round(T, 'a1', t0 + 10000, 5, 5)]);
  await second.dispatcher.idle();
  assert.equal(hook.calls().length, 1, 'still lossy: no second raised');
  feed(store, second.sink, [round(T, 'a1', t0 + 15000, 5, 0, 11)]);
  await second.dispatcher.idle();
  assert.deepEqual(hook.calls().map((c) => (c.event as { state: string }).state), ['raised', 'cleared']);
  await second.close();
  store.close();
});

test('engine: the series new in a batch read their histories in one rawRounds call, the same histories as one series at a time', async () => {
  const dir = tempDir();
  const hook = writeHook(dir);
  const config = configIn(dir, yaml(hook.path));
  const store = storeIn(dir, config);
  const calls = { rawRounds: 0, series: 0 };
  // The store as the engine sees it, counting its reads.
  const counted = new Proxy(store, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver) as unknown;
      if ((prop === 'rawRounds' || prop === 'series') && typeof v === 'function') {
        return (...args: unknown[]) => {
          calls[prop]++;
          return (v as (...a: unknown[]) => unknown).apply(target, args);
        };
      }
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  }) as Store;
  const one = createAlerts({ config, store, log: silentLog, builtinAgent: 'srv', dbFile: join(dir, 'one.sqlite'), warm: false });
  const batch = createAlerts({ config, store: counted, log: silentLog, builtinAgent: 'srv', dbFile: join(dir, 'batch.sqlite'), warm: false });
  const agents = ['a1', 'a2', 'a3'];
  // History the engines never saw (written by another server, or before a restart).
  store.write(agents.flatMap((a, i) => [round(T, a, t0, 5, i, 12 + i), round(T, a, t0 + 5000, 5, 5 - i)]));
  const next = agents.map((a) => round(T, a, t0 + 10000, 5, 0, 10));
  store.write(next);
  for (const r of next) one.sink.write([r]);
  batch.sink.write(next);
  assert.deepEqual(calls, { rawRounds: 1, series: 0 }, 'one read for the three series');
  for (const a of agents) {
    assert.ok(one.engine.history(T, a)!.loss.length >= 2, `${a}: history read back`);
    assert.deepEqual(batch.engine.history(T, a), one.engine.history(T, a), a);
  }
  await one.close();
  await batch.close();
  store.close();
});

test('engine with a fence: a notification the fence refuses is neither recorded nor sent; one it lets stand later is', async () => {
  const dir = tempDir();
  const hook = writeHook(dir);
  const config = configIn(dir, yaml(hook.path));
  const store = storeIn(dir, config);
  const pending: (() => void)[] = [];
  let refuse = true;
  const alerts = createAlerts({
    config, store, log: silentLog, builtinAgent: 'srv',
    fence: (_changes, fired, accept) => void pending.push(() => accept(refuse ? [] : [...fired])),
  });
  feed(store, alerts.sink, [round(T, 'a1', t0, 5, 5)]);
  assert.equal(pending.length, 1, 'the raise waits for the fence');
  pending.shift()!();
  await alerts.dispatcher.idle();
  assert.deepEqual(hook.calls(), [], 'refused: not sent');
  assert.equal(alerts.db.countEvents({ limit: 10 }), 0, 'refused: not recorded');
  refuse = false;
  feed(store, alerts.sink, [round(T, 'a1', t0 + 5000, 5, 0, 12)]);
  pending.shift()!();
  await alerts.dispatcher.idle();
  assert.deepEqual(hook.calls().map((c) => (c.event as { state: string }).state), ['cleared'], 'let stand: recorded and sent');
  await alerts.close();
  store.close();
});
