import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createAlerts } from './index.ts';
import { startReceiver } from './notifiers/receiver.testkit.ts';
import type { AlertEvent } from './notifiers/notifier.ts';
import { configIn, round, silentLog, storeIn, tempDir } from './testkit.ts';

const STEP = 60_000;
const t0 = Math.floor(Date.now() / STEP) * STEP - 200 * STEP;

/**
 * A flapping link: bursts of loss (one lossy round in three, for a while) separated by 14
 * clean rounds, nine times. SmokePing's shipped `someloss` pattern with edgetrigger raises at
 * each burst and clears in each quiet spell: 18 notifications. With `hold_down: 25` (the
 * pattern's span) the quiet spells never clear it: one raise, one clear at the end.
 */
function flapping(): number[] {
  const loss: number[] = new Array(20).fill(0);
  for (let flap = 0; flap < 9; flap++) {
    for (let i = 0; i < 9; i++) loss.push(i % 3 === 0 ? 2 : 0); // 2 of 20 pings: 10 %
    for (let i = 0; i < 14; i++) loss.push(0);
  }
  for (let i = 0; i < 30; i++) loss.push(0);
  return loss;
}

async function run(extra: string, losses: number[], names = 'someloss'): Promise<AlertEvent[]> {
  const rx = await startReceiver();
  const dir = tempDir();
  const config = configIn(dir, `
general: { pings: 20, step: 60, data_dir: ./data }
notifiers:
  hook: { type: webhook, url: "${rx.base}/", retries: 0 }
alerts:
  to: hook
  someloss:
    type: loss
    pattern: ">0%,*12*,>0%,*12*,>0%"
    edgetrigger: yes
    comment: loss 3 times in a row of 25 rounds
${extra}
targets:
  alerts: [${names}]
  children:
    link: { host: 127.0.0.1 }
`);
  const store = storeIn(dir, config);
  // The engine's clock follows the rounds (held notifications wait on it).
  let clock = t0;
  const alerts = createAlerts({ config, store, log: silentLog, builtinAgent: 'srv', now: () => clock });
  losses.forEach((lost, i) => {
    clock = t0 + (i + 1) * STEP;
    const r = [round('/link', 'srv', t0 + i * STEP, 20, lost, 10, 60)];
    store.write(r);
    alerts.sink.write(r);
  });
  alerts.engine.release(t0 + (losses.length + 100) * STEP);
  await alerts.dispatcher.idle();
  await alerts.close();
  store.close();
  await rx.close();
  return rx.requests.map((r) => JSON.parse(r.body) as AlertEvent);
}

test('SmokePing semantics by default: the flapping link raises and clears at every flap (18 notifications)', async () => {
  const sent = await run('', flapping());
  assert.equal(sent.filter((e) => e.state === 'raised').length, 9);
  assert.equal(sent.filter((e) => e.state === 'cleared').length, 9);
});

test('hold_down: the same flapping pages once, and clears once it has been quiet for hold_down rounds', async () => {
  const sent = await run('    hold_down: 25', flapping());
  assert.deepEqual(sent.map((e) => e.state), ['raised', 'cleared']);
  // The clear comes 25 clean rounds after the pattern stopped matching, not at the first.
  assert.ok(sent[1]!.time - sent[0]!.time > 9 * 23 * STEP, 'held through all nine flaps');
});

test('renotify_min: a clear followed by a new raise within the interval sends neither; firing alerts at most once per interval', async () => {
  // Two lossy rounds, one clean, six times: ">50%" edge-triggered flaps six times.
  const losses: number[] = new Array(5).fill(0);
  for (let k = 0; k < 6; k++) losses.push(15, 15, 0);
  losses.push(...new Array(20).fill(0));
  const alerts = `  down: { type: loss, pattern: ">50%", edgetrigger: yes }
  lossy: { type: loss, pattern: ">50%" }`;
  const plain = await run(alerts, losses, 'down, lossy');
  const quiet = await run(alerts.replace('edgetrigger: yes }', 'edgetrigger: yes, renotify_min: 600 }').replace('">50%" }', '">50%", renotify_min: 300 }'), losses, 'down, lossy');
  const states = (l: AlertEvent[], name: string) => l.filter((e) => e.alert.name === name).map((e) => e.state);
  assert.equal(states(plain, 'down').length, 12);
  assert.deepEqual(states(quiet, 'down'), ['raised', 'cleared']);
  // Non-edge: every matching round (12) without it; with 300 s, the rounds at least 5 minutes apart.
  assert.equal(states(plain, 'lossy').length, 12);
  const firing = quiet.filter((e) => e.alert.name === 'lossy').map((e) => (e.time - t0) / STEP);
  assert.deepEqual(firing, [5, 11, 17]);
});
