import { test } from 'node:test';
import assert from 'node:assert/strict';
import { waitFor } from '../../test/wait.ts';
import { createAlerts } from './index.ts';
import { formatMessage } from './notifiers/format.ts';
import type { AlertEvent } from './notifiers/notifier.ts';
import { configIn, round, silentLog, storeIn, tempDir, writeHook } from './testkit.ts';

const T = '/Net/link';
const t0 = Math.floor(Date.now() / 5000) * 5000 - 600_000;

test('an alert with trace: true holds its notification until the hook has attached the trace; history keeps it', async () => {
  const dir = tempDir();
  const hook = writeHook(dir);
  const config = configIn(dir, `
general: { pings: 5, step: 5, data_dir: ./data, public_url: "http://smokemesh.example" }
alerts:
  to: "|${hook.path}"
  lossy: { type: loss, pattern: ">50%", edgetrigger: yes, comment: link down, trace: true }
targets:
  children:
    Net:
      alerts: [lossy]
      children:
        link: { host: 127.0.0.1, interval: 500 } # a 5 s step fits 5 pings only closer than 1 s
`);
  const store = storeIn(dir, config);
  let open!: () => void;
  const gate = new Promise<void>((r) => (open = r));
  const seen: { rule: string; trace: boolean }[] = [];
  const alerts = createAlerts({
    config, store, log: silentLog, builtinAgent: 'srv',
    onEvent: (event, rule) => {
      seen.push({ rule: rule.name, trace: rule.trace });
      return gate.then(() => {
        event.trace = { task: 't-1', summary: 'loss starts at hop 2, 198.51.100.6 (40% at 198.51.100.10, hop 3)', changes: [], url: 'http://smokemesh.example/#/tasks?id=t-1' };
      });
    },
  });
  try {
    const rounds = [round(T, 'srv', t0, 5, 0), round(T, 'srv', t0 + 5000, 5, 5)];
    store.write(rounds);
    alerts.sink.write(rounds);
    await alerts.dispatcher.idle();
    assert.deepEqual(seen, [{ rule: 'lossy', trace: true }]);
    assert.equal(hook.calls().length, 0, 'the notification waits for the trace');
    assert.equal(alerts.db.events({ limit: 5 })[0]!.event.trace, undefined, 'the event is recorded at once, without it');
    open();
    await waitFor('the notification', () => hook.calls().length === 1);
    const sent = hook.calls()[0]!.event as unknown as AlertEvent;
    assert.equal(sent.trace?.summary, 'loss starts at hop 2, 198.51.100.6 (40% at 198.51.100.10, hop 3)');
    assert.equal(alerts.db.events({ limit: 5 })[0]!.event.trace?.task, 't-1');
    const text = formatMessage(sent, 'text');
    assert.match(text, /\nTrace: loss starts at hop 2, 198\.51\.100\.6 \(40% at 198\.51\.100\.10, hop 3\)\n/);
    assert.match(text, /\nTrace link: http:\/\/smokemesh\.example\/#\/tasks\?id=t-1/);
    assert.match(formatMessage({ ...sent, trace: { summary: 'path clean: 3 hops to x, no loss', changes: ['loss from hop 2, a is gone (x: 40% → 0%)'] } }, 'markdown'),
      /\*\*Trace:\*\* path clean: 3 hops to x, no loss\n\n\*\*Changed:\*\* loss from hop 2, a is gone/);
  } finally {
    await alerts.close();
    store.close();
  }
});

test('a clear waits behind its raise while the raise\'s trace runs; a quorum alert is handed to the hook with its matching agents', async () => {
  const dir = tempDir();
  const hook = writeHook(dir);
  const config = configIn(dir, `
general: { pings: 5, step: 5, data_dir: ./data }
probes: { icmp: { type: icmp, interval: 500 } } # a 5 s step fits 5 pings only closer than 1 s
alerts:
  to: "|${hook.path}"
  lossy: { type: loss, pattern: ">50%", edgetrigger: yes, trace: true }
  many: { type: loss, pattern: ">50%", quorum: { agents: 2 }, trace: true }
targets:
  children:
    Net:
      children:
        one: { host: 127.0.0.1, alerts: [lossy] }
        two: { host: 127.0.0.2, alerts: [many] }
`);
  const store = storeIn(dir, config);
  let open!: () => void;
  const gate = new Promise<void>((r) => (open = r));
  const seen: { target: string; state: string; agents: string[] }[] = [];
  const alerts = createAlerts({
    config, store, log: silentLog, builtinAgent: 'srv',
    onEvent: (event) => {
      seen.push({ target: event.target.path, state: event.state, agents: event.quorum?.matching ?? [event.agent] });
      // Only the first raise has a slow trace; the clear has none to wait for.
      if (seen.length > 1) return undefined;
      return gate.then(() => {
        event.trace = { summary: 'path clean', changes: [] };
      });
    },
  });
  try {
    const feed = async (rounds: ReturnType<typeof round>[]) => {
      store.write(rounds);
      alerts.sink.write(rounds);
      await alerts.dispatcher.idle();
    };
    await feed([round('/Net/one', 'srv', t0, 5, 5)]);
    await feed([round('/Net/one', 'srv', t0 + 5000, 5, 0)]);
    assert.deepEqual(seen.map((s) => `${s.target} ${s.state}`), ['/Net/one raised', '/Net/one cleared']);
    assert.equal(hook.calls().length, 0, 'the clear does not overtake its raise');
    open();
    await waitFor('both notifications', () => hook.calls().length === 2);
    assert.deepEqual(hook.calls().map((c) => (c.event as unknown as AlertEvent).state), ['raised', 'cleared']);

    await feed([round('/Net/two', 'a1', t0 + 10_000, 5, 5), round('/Net/two', 'a2', t0 + 10_000, 5, 5), round('/Net/two', 'a3', t0 + 10_000, 5, 0)]);
    const q = seen.find((s) => s.target === '/Net/two')!;
    assert.deepEqual([q.state, q.agents.sort()], ['raised', ['a1', 'a2']]);
  } finally {
    await alerts.close();
    store.close();
  }
});
