import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { cdnWorld, type Fault } from '../src/localize/testkit.ts';
import type { AlertEvent } from '../src/alerts/notifiers/notifier.ts';
import type { TaskRecord } from '../src/tasks/record.ts';
import { startAgent, type Proc } from './agents-kit.ts';
import { startSim } from './localize-sim.ts';
import { waitFor } from './wait.ts';

/**
 * A raised cause carries an evidence trace: mtr from up to two of its affected agents toward
 * one affected target, run as a task by real agent processes (their plans are empty: the
 * rounds are the simulator's), attached to the cause's notification and served with the cause.
 * The targets' hosts are loopback addresses so that the traces stay on this machine.
 */
const world = cdnWorld({ provinces: 2, agentsPerCell: 1, idcs: 2, vipsPerIdc: 2 });
for (const t of world.targets) t.host = t.host.replace(/^10\./, '127.');

test('a raised cause gets an evidence trace from two of its agents (tasks, policy respected), in its notification and in the API', { timeout: 600_000 }, async () => {
  const sim = await startSim({
    world, localize: true,
    extra: 'tasks:\n  auto_trace: { count: 2, interval: 0.5, grace: 1, max_wait_s: 120 }\n',
  }, 30);
  const agents: Proc[] = [];
  const { server } = sim;
  try {
    for (const a of world.agents) {
      agents.push(startAgent({ server: server.url, name: a.name, secretFile: join(sim.dir, 'shared.secret'), spool: join(sim.dir, `spool-${a.name}`) }));
    }
    // Generous: six node processes start on a machine that may be loaded.
    await waitFor('the agents to connect', () => {
      for (const a of agents) if (a.child.exitCode !== null) throw new Error(`agent ${a.label} exited: ${a.out.slice(-2000)}`);
      return server.ctx.agents().filter((a) => a.alive).length === world.agents.length + 1;
    }, 300_000, 250);

    const down: Fault[] = [{ name: 'idc', from: sim.start + 5 * 60_000 + 17_000, to: Infinity, match: (_a, t) => t.labels.idc === 'idc2', loss: 100 }];
    for (let i = 0; i < 12; i++) await sim.step(i, down);

    const hook = () => sim.rx.requests.filter((r) => r.url === '/hook').map((r) => JSON.parse(r.body) as AlertEvent);
    await waitFor('the cause notification', () => hook().some((e) => e.cause?.id === 'cdn/destination/idc2'), 180_000);
    const sent = hook().filter((e) => e.cause);
    assert.deepEqual(sent.map((e) => `${e.cause!.id} ${e.state}`), ['cdn/destination/idc2 raised']);
    const trace = sent[0]!.trace!;
    assert.ok(trace, 'the notification carries the trace');
    assert.ok(trace.task, trace.summary);
    assert.match(trace.target!, /^\/IDC\/idc2\//);
    assert.equal(trace.agents!.length, 2);
    const isps = trace.agents!.map((name) => world.agents.find((a) => a.name === name)!.labels.isp);
    assert.ok(isps.every((x) => x !== undefined));
    assert.deepEqual(sent[0]!.cause!.trace, trace, 'the evidence in the event carries it too');

    // The trace is a task: mtr from those agents to the VIP's address, created by the cause, both done.
    const rec = (await (await fetch(`${server.url}/api/v1/tasks/${trace.task}`)).json()) as TaskRecord;
    assert.equal(rec.kind, 'mtr');
    assert.equal(rec.origin, 'alert');
    assert.match(rec.created_by, /^cause destination idc=idc2 raised in scope cdn$/);
    assert.equal((rec.params as { host: string }).host, world.targets.find((t) => t.path === trace.target)!.host);
    assert.deepEqual(rec.results.map((r) => [r.agent, r.status]).sort(), trace.agents!.map((a) => [a, 'done']).sort(), JSON.stringify(rec.results));
    // Each agent's line of the summary (mtr to a loopback address: a clean path).
    for (const a of trace.agents!) assert.match(trace.summary, new RegExp(`${a}: `));

    // The API serves it with the cause (the localization page reads it there).
    const { scopes } = (await (await fetch(`${server.url}/api/v1/localize?scope=cdn&matrix=0`)).json()) as { scopes: { causes: { id: string; trace?: { task?: string } }[] }[] };
    assert.equal(scopes[0]!.causes.find((c) => c.id === 'cdn/destination/idc2')!.trace?.task, trace.task);

    // Policy respected: a host outside the policy gets no task; the reason is in the note.
    const tasks = server.modules.find((m) => m.name === 'tasks') as unknown as { trace: (r: { key: string; target: string; host: string; agents: string[]; reason: string }) => Promise<{ task?: string; summary: string }> };
    const refused = await tasks.trace({ key: 'x', target: trace.target!, host: '127.250.0.1', agents: trace.agents!, reason: 'test' });
    assert.equal(refused.task, undefined);
    assert.match(refused.summary, /^no trace: /);
  } finally {
    await Promise.all(agents.map((a) => a.stop()));
    await sim.close();
  }
});
