import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TaskRecord, TaskSummary } from '../src/tasks/record.ts';
import { freePort, getJson, startAgent, startServer, writeSecret } from './agents-kit.ts';
import { clusterBackends, clusterServerHead } from './cluster-kit.ts';
import { waitFor } from './wait.ts';

const IDS = ['s1', 's2'];
// Waits that include process starts: a cold start takes 10–30 s on the loaded machine.
const START_MS = 120_000;

/**
 * Shared tasks, end to end: two servers of a cluster (one VictoriaMetrics, one PostgreSQL), a
 * remote agent connected to s2 only. A ping task to 127.0.0.1 made on s1 for that agent and for
 * s2's built-in agent (neither is connected to s1; the built-in one is not even in s1's config)
 * runs on both, and its results are read on s1 (long-poll on the version) and listed on s2.
 */
test('cluster: a task made on s1 runs on agents connected to s2 and its result is read on s1', { timeout: 600_000 }, async (t) => {
  const { dir, vm, pg, procs } = await clusterBackends(t, 'sm-cluster-tasks-');
  const secret = writeSecret(dir, 'a1');
  const servers = await Promise.all(IDS.map(async (id) => {
    const port = await freePort();
    const dataDir = join(dir, `data-${id}`);
    mkdirSync(dataDir);
    const file = join(dir, `${id}.yaml`);
    writeFileSync(file, `${clusterServerHead({ id, port, dataDir, step: 5, pings: 1, vmUrl: vm.url, pgUrl: pg.url, deadAfterS: 30 })}agents:
  - { name: a1, secret_file: ${secret}, heartbeat: 1 }
targets:
  server_probes: false
  children:
    lo: { host: 127.0.0.1 }
`);
    return { id, url: `http://127.0.0.1:${port}`, dataDir, file };
  }));
  const [s1, s2] = servers as [typeof servers[0], typeof servers[0]];
  for (const s of servers) procs.push(await startServer(s.file, { timeoutMs: START_MS }));
  procs.push(startAgent({ server: s2.url, name: 'a1', secretFile: secret, spool: join(dir, 'spool-a1') }));
  await waitFor('both servers live', async () => (await Promise.all(servers.map((s) => getJson<{ live: string[] }>(`${s.url}/api/v1/cluster`))))
    .every((x) => x.live.join() === IDS.join()), START_MS);
  await waitFor('a1 connected to s2', async () => (await getJson<{ agents: { name: string; alive: boolean }[] }>(`${s2.url}/api/v1/agents`)).agents.some((a) => a.name === 'a1' && a.alive), START_MS);

  const token = readFileSync(join(s1.dataDir, 'admin.token'), 'utf8').trim();
  const body = { kind: 'ping', params: { host: '127.0.0.1', count: 2, interval_ms: 100 }, agents: { names: ['a1', 'srv-s2'] } };
  // s1 learns of s2's agents within a heartbeat of s2: until then the request is refused (400: srv-s2 is not known) or a1's part
  // answered at once (agent_down), and it is made again.
  const rec = await waitFor('s1 to queue the task for a1 and srv-s2', async () => {
    const res = await fetch(`${s1.url}/api/v1/tasks`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const r = await res.json() as TaskRecord & { error?: string };
    if (res.status === 400) assert.match(r.error!, /agents\.names: "srv-s2" is not known to any server of the cluster/);
    else assert.equal(res.status, 201, JSON.stringify(r));
    return res.status === 201 && r.results.every((x) => x.status === 'queued') ? r : undefined;
  }, 60_000, 1000);

  let now = rec;
  await waitFor('the task to finish, followed on s1', async () => {
    now = await getJson<TaskRecord>(`${s1.url}/api/v1/tasks/${rec.id}?version=${now.version}&wait=10`);
    return now.state === 'finished';
  }, 120_000, 0);
  for (const r of now.results) {
    assert.equal(r.status, 'done', `${r.agent}: ${r.error ?? ''}`);
    assert.equal((r.output as { received: number }).received, 2, `${r.agent} pinged 127.0.0.1`);
  }
  const listed = await getJson<{ tasks: TaskSummary[] }>(`${s2.url}/api/v1/tasks?agent=a1`);
  assert.deepEqual(listed.tasks.filter((x) => x.id === rec.id).map((x) => x.counts), [{ done: 2 }], 's2 lists the task made on s1');
});
