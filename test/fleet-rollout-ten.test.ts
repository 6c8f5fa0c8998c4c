import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Fleet } from './fleet-kit.ts';
import { waitFor } from './wait.ts';

// Ten real agents (each from its installed release, under its supervisor). 2.0.0 runs everywhere
// except on a02, where its agent crashes at start: a02 is the second canary (the canary takes
// live agents by name), so the rollout must pause after the canary with a01 upgraded, a02 back
// on 1.0.0, and the eight others never asked. Resume retries a02 only; pause stops a running
// rollout between waves; abort ends it.
const NAMES = Array.from({ length: 10 }, (_, i) => `a${String(i + 1).padStart(2, '0')}`);
const fleet = new Fleet({
  names: NAMES,
  versions: ['1.0.0', '2.0.0', '2.1.0'],
  patches: { '2.0.0': "if (process.argv.includes('agent') && process.argv.includes('a02')) { process.stderr.write('2.0.0: crash at start on a02\\n'); process.exit(3); }\n" },
});

before(() => fleet.start(), { timeout: 900_000 });
after(() => fleet.stop());

test('a rollout over 10 agents with a canary of 2 pauses when one canary fails; resume retries only it', { timeout: 900_000 }, async () => {
  const v2 = fleet.files['2.0.0']!;
  assert.equal((await fleet.upload(v2, await fleet.sign(v2))).status, 201);
  const started = await fleet.startRollout('2.0.0', { canary: '2', batch: '4' });
  assert.deepEqual(started.agents.filter((a) => a.wave === 0).map((a) => a.name).sort(), ['a01', 'a02'], 'the canary is a01 and a02');
  assert.equal(started.waves, 3, 'a canary and two batches of 4');

  const r = await fleet.until(started.id, 'paused', 240_000);
  const by = new Map(r.agents.map((a) => [a.name, a]));
  assert.equal(by.get('a02')!.state, 'failed');
  assert.match(by.get('a02')!.error ?? '', /2\.0\.0 exited with status 3 on trial/);
  // a01 may still be proving itself healthy when a02's failure pauses the wave; it finishes either way.
  await waitFor('a01 on 2.0.0', async () => (await fleet.versions()).a01 === '2.0.0', 120_000, 500);
  for (const n of NAMES.slice(2)) assert.equal(by.get(n)!.state, 'pending', `${n} was not asked`);
  const v = await fleet.versions();
  for (const n of NAMES.slice(1)) assert.equal(v[n], '1.0.0', `${n} runs 1.0.0`);
  assert.equal(fleet.current('a02'), '1.0.0', 'a02 rolled itself back');

  // Resume: a02 gets a second attempt (and fails again); nobody else is asked.
  await fleet.admin('POST', `/api/v1/rollouts/${started.id}/resume`);
  const again = await waitFor('a02 to fail its second attempt', async () => {
    const x = await fleet.rollout(started.id);
    const a02 = x.agents.find((a) => a.name === 'a02')!;
    return x.state === 'paused' && a02.attempt === 2 && a02.state === 'failed' ? x : undefined;
  }, 240_000, 500);
  for (const a of again.agents.filter((x) => x.wave > 0)) assert.equal(a.state, 'pending', `${a.name} was not asked`);
  assert.match(fleet.agents.a02!.out, /2\.0\.0: crash at start on a02/);
  await fleet.admin('POST', `/api/v1/rollouts/${started.id}/abort`);
  assert.equal((await fleet.rollout(started.id)).state, 'aborted');
});

test('pause holds a running rollout between waves; resume carries it to every agent', { timeout: 600_000 }, async () => {
  const v21 = fleet.files['2.1.0']!;
  assert.equal((await fleet.upload(v21, await fleet.sign(v21))).status, 201);
  // wait_s keeps the canary's wave open long enough to pause before the first batch starts.
  const started = await fleet.startRollout('2.1.0', { canary: '2', batch: '4', wait_s: 20, timeout_s: 300 });
  await fleet.admin('POST', `/api/v1/rollouts/${started.id}/pause`);
  // Paused during the canary: the canary may finish, but no batch agent is asked.
  await waitFor('the canary to finish while paused', async () => {
    const x = await fleet.rollout(started.id);
    return x.state === 'paused' && x.agents.filter((a) => a.wave === 0).every((a) => a.state === 'done' || a.state === 'failed') ? x : undefined;
  }, 240_000, 500);
  const held = await fleet.rollout(started.id);
  assert.equal(held.wave, 0, 'still the canary\'s wave');
  for (const a of held.agents.filter((x) => x.wave > 0)) assert.equal(a.state, 'pending', `${a.name} was not asked while paused`);

  await fleet.admin('POST', `/api/v1/rollouts/${started.id}/resume`);
  const done = await fleet.until(started.id, 'done', 480_000);
  assert.deepEqual(done.agents.map((a) => a.state), NAMES.map(() => 'done'));
  const v = await fleet.versions();
  for (const n of NAMES) assert.equal(v[n], '2.1.0', `${n} runs 2.1.0`);
  // Waves in order: each batch agent was asked only after every agent of the wave before was done.
  const log = fleet.server.out;
  for (const wave of [1, 2]) {
    const prevDone = Math.max(...done.agents.filter((a) => a.wave === wave - 1).map((a) => log.indexOf(`rollout ${done.id} of 2.1.0: agent ${a.name}: done`)));
    const firstAsked = Math.min(...done.agents.filter((a) => a.wave === wave).map((a) => log.indexOf(`rollout ${done.id} of 2.1.0: agent ${a.name}: upgrading`)));
    assert.ok(prevDone > 0 && firstAsked > prevDone, `wave ${wave} started after wave ${wave - 1} was done`);
  }
});
