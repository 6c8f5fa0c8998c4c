import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startReceiver } from '../src/alerts/notifiers/receiver.testkit.ts';
import type { AlertEvent } from '../src/alerts/notifiers/notifier.ts';
import { agentOwner, seriesKey, seriesOwner } from '../src/cluster/hrw.ts';
import { freePort, gapsAndDuplicates, getJson, startAgent, startServer, writeSecret, type Proc } from './agents-kit.ts';
import { startPostgres } from './postgres.ts';
import { startVictoria } from './victoria.ts';
import { waitFor } from './wait.ts';

const STEP_MS = 2000;
const IDS = ['s1', 's2', 's3'];
const AGENTS = ['a1', 'a2', 'a3'];
const TARGETS = ['/t1', '/t2', '/flaky'];
// Waits that include process starts: a cold start takes 10–30 s on the loaded machine.
const START_MS = 120_000;

interface ClusterStatus { server_id: string; live: string[]; rounds: { evaluated: number; relayed: number; taken: number }; held_keys?: { target: string; agent: string }[] }

/** Round times of one series in VictoriaMetrics (every sample of smokemesh_round_sent). */
async function vmTimes(vm: string, target: string, agent: string): Promise<number[]> {
  const q = new URLSearchParams({ 'match[]': `smokemesh_round_sent{target="${target}",agent="${agent}"}`, start: '0' });
  const text = await (await fetch(`${vm}/api/v1/export?${q}`)).text();
  return text.split('\n').filter(Boolean).flatMap((l) => (JSON.parse(l) as { timestamps: number[] }).timestamps);
}

/**
 * Issue 18's test: three servers (one config each, differing only in listen, data dir and
 * server_id) on one VictoriaMetrics and one PostgreSQL, three agents each given the three URLs
 * (in a different order, so each server has one). An alert is raised on /flaky (a1) before the
 * kill; the server that evaluates it is killed with SIGKILL while the agents push; then /flaky
 * heals. Checked: the dead server's agent moves to another server; the live set of the
 * survivors drops it and each series has exactly one evaluator among them; the alert clears
 * exactly once and is never raised again (webhook receiver on 127.0.0.1; held by the per-series fence); once the killed
 * server is back (its outbox sent), every round measured is in VictoriaMetrics: none of the
 * acknowledged rounds was lost.
 */
test('three servers, kill -9 of one during ingest: agents move, one evaluator per series, the alert clears once, no round lost', { timeout: 600_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sm-cluster-'));
  const procs: Proc[] = [];
  const vm = await startVictoria();
  const pg = await startPostgres();
  const rx = await startReceiver();
  const ok: Server = createServer((s) => s.destroy());
  await new Promise<void>((r) => ok.listen(0, '127.0.0.1', r));
  let flaky: Server | undefined;
  t.after(async () => {
    for (const p of procs) await p.stop('SIGKILL');
    ok.close();
    flaky?.close();
    await rx.close();
    await pg.stop();
    await vm.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  const flakyPort = await freePort(); // nothing listens there yet: /flaky loses every ping
  const secrets = Object.fromEntries(AGENTS.map((a) => [a, writeSecret(dir, a)]));
  const servers = await Promise.all(IDS.map(async (id) => {
    const port = await freePort();
    const dataDir = join(dir, `data-${id}`);
    mkdirSync(dataDir);
    const file = join(dir, `${id}.yaml`);
    writeFileSync(file, `general:
  step: ${STEP_MS / 1000}
  pings: 2
  listen: 127.0.0.1:${port}
  data_dir: ${dataDir}
  agent_name: srv-${id}
store:
  backend: victoriametrics
  url: ${vm.url}
cluster:
  coordination: ${pg.url}
  server_id: ${id}
  heartbeat_s: 1
notifiers:
  hook: { type: webhook, url: ${rx.base}/hook }
alerts:
  lossy:
    type: loss
    pattern: ">50%,>50%"
    edgetrigger: yes
    to: hook
agents:
${AGENTS.map((a) => `  - { name: ${a}, secret_file: ${secrets[a]}, heartbeat: 1 }`).join('\n')}
probes:
  tcpx: { type: tcp, port: ${(ok.address() as { port: number }).port}, timeout: 500 }
targets:
  server_probes: false
  probe: tcpx
  children:
    t1: { host: 127.0.0.1 }
    t2: { host: 127.0.0.1 }
    flaky: { host: 127.0.0.1, port: ${flakyPort}, agents: [a1], alerts: [lossy] }
`);
    return { id, url: `http://127.0.0.1:${port}`, file, proc: undefined as Proc | undefined };
  }));
  for (const s of servers) {
    s.proc = await startServer(s.file, { timeoutMs: START_MS });
    procs.push(s.proc);
  }
  await waitFor('the three servers to see each other', async () => {
    const st = await Promise.all(servers.map((s) => getJson<ClusterStatus>(`${s.url}/api/v1/cluster`)));
    return st.every((x) => x.live.join() === IDS.join());
  }, START_MS);

  // Agent k starts on server k: each server has one agent.
  const agents = AGENTS.map((name, k) => {
    const list = [...servers.slice(k), ...servers.slice(0, k)].map((s) => s.url).join(',');
    const p = startAgent({ server: list, name, secretFile: secrets[name]!, spool: join(dir, `spool-${name}`) });
    procs.push(p);
    return p;
  });

  const events = () => rx.requests.map((r) => JSON.parse(r.body) as AlertEvent).filter((e) => e.target.path === '/flaky' && e.agent === 'a1');
  await waitFor('the /flaky alert raised', () => events().some((e) => e.state === 'raised'), START_MS);

  // Each agent is told which server evaluates its series, and moves there: its rounds are then
  // evaluated where they arrive, and nothing more is relayed through PostgreSQL.
  for (const [k, a] of agents.entries()) {
    const owner = servers.find((s) => s.id === agentOwner(AGENTS[k]!, IDS))!;
    if (owner === servers[k]) continue;
    await waitFor(`agent ${AGENTS[k]} to move to ${owner.id}, the server that evaluates its series`,
      () => a.lines().some((l) => typeof l.msg === 'string' && l.msg.includes('it evaluates this agent\'s series') && l.to === owner.url), 60_000);
  }
  const relayed = async () => (await Promise.all(servers.map((s) => getJson<ClusterStatus>(`${s.url}/api/v1/cluster`)))).reduce((n, x) => n + x.rounds.relayed, 0);
  const flakyAfter = async (t: number) => (await vmTimes(vm.url, '/flaky', 'a1')).some((x) => x > t);
  const moved = Date.now();
  await waitFor('a round of /flaky measured after the moves', () => flakyAfter(moved + STEP_MS), 60_000);
  const relayedBefore = await relayed();
  const from = Date.now();
  await waitFor('three more steps of /flaky', () => flakyAfter(from + 3 * STEP_MS), 60_000);
  assert.equal(await relayed(), relayedBefore, 'no round relayed once every agent pushes to its evaluator');

  // Kill the server that evaluates /flaky (a1), while every agent pushes.
  const victim = servers.find((s) => s.id === seriesOwner(seriesKey('/flaky', 'a1'), IDS))!;
  const survivors = servers.filter((s) => s !== victim);
  // Alert history is shared: the victim's raise (and its delivery) can be read from the others.
  const history = async (s: { url: string }) => (await getJson<{ state: string }[]>(`${s.url}/api/v1/alerts/history?target=/flaky&agent=a1`)).map((e) => e.state);
  const sentDeliveries = async (s: { url: string }) => (await getJson<{ status: string; event: { state: string } | null }[]>(`${s.url}/api/v1/alerts/deliveries?target=/flaky&status=sent`)).map((d) => d.event?.state);
  await waitFor('the raise and its delivery in the history read from another server', async () => {
    return (await history(survivors[0]!)).join() === 'raised' && (await sentDeliveries(survivors[1]!)).join() === 'raised';
  }, 60_000);
  const victimAgent = agents[servers.indexOf(victim)]!;
  const ingestedBefore = await vmTimes(vm.url, '/t1', 'a2');
  await victim.proc!.stop('SIGKILL');
  const killedAt = Date.now();

  await waitFor(`agent ${victimAgent.label} to move off the killed server`, () => victimAgent.lines().some((l) => typeof l.msg === 'string' && l.msg.startsWith('moved to server ') && l.from === victim.url), 60_000);
  const liveNow = survivors.map((s) => s.id).sort().join();
  await waitFor('the survivors to drop the killed server from the live set', async () => {
    const st = await Promise.all(survivors.map((s) => getJson<ClusterStatus>(`${s.url}/api/v1/cluster`)));
    return st.every((x) => x.live.join() === liveNow);
  }, 60_000);

  // /flaky heals: the new owner continues the raised alert and clears it.
  flaky = createServer((s) => s.destroy());
  await new Promise<void>((r) => flaky!.listen(flakyPort, '127.0.0.1', r));
  await waitFor('the /flaky alert cleared', () => events().some((e) => e.state === 'cleared'), 120_000);
  // A few more steps: no second clear, no new raise.
  const clearedAt = Date.now();
  await waitFor('four more steps of rounds evaluated', async () => (await vmTimes(vm.url, '/flaky', 'a1')).some((x) => x > clearedAt + 4 * STEP_MS), 60_000);
  const states = events().map((e) => e.state);
  // Exactly once each: the per-series fence (src/cluster/fence.ts) lets a notification stand only
  // after its series' state was written in PostgreSQL by the holder of the current version.
  assert.deepEqual(states, ['raised', 'cleared'], 'raised once before the kill, cleared once after it');
  // Each survivor's API lists the dead server's raise and the new owner's clear (newest first).
  await waitFor('the clear in every survivor\'s history', async () => {
    for (const s of survivors) if ((await history(s)).join() !== 'cleared,raised' || (await sentDeliveries(s)).join() !== 'cleared,raised') return false;
    return true;
  }, 60_000).catch(async () => assert.fail(`histories: ${JSON.stringify(await Promise.all(survivors.map(history)))}`));

  // One evaluator per series among the survivors, and it is the owner by the live set.
  const held = await Promise.all(survivors.map((s) => getJson<ClusterStatus>(`${s.url}/api/v1/cluster?keys=1000`)));
  const evaluators = new Map<string, string[]>();
  for (const h of held) {
    for (const k of h.held_keys!) {
      const key = `${k.target}|${k.agent}`;
      evaluators.set(key, [...(evaluators.get(key) ?? []), h.server_id]);
      assert.equal(seriesOwner(seriesKey(k.target, k.agent), liveNow.split(',')), h.server_id, `${key} is held by its owner`);
    }
  }
  for (const [key, by] of evaluators) assert.equal(by.length, 1, `${key} evaluated by ${by.join(', ')}`);
  assert.deepEqual(evaluators.get('/flaky|a1'), [seriesOwner(seriesKey('/flaky', 'a1'), liveNow.split(','))], 'the dead server\'s series has a new evaluator');
  assert.ok((await vmTimes(vm.url, '/t1', 'a2')).length > ingestedBefore.length, 'ingest went on');

  // The killed server comes back on its data dir: its outbox (rounds it acknowledged) goes to VM.
  victim.proc = await startServer(victim.file, { timeoutMs: START_MS });
  procs.push(victim.proc);
  await waitFor('the killed server back in the live set', async () => (await getJson<ClusterStatus>(`${survivors[0]!.url}/api/v1/cluster`)).live.length === 3, 60_000);
  const stopAt = Date.now();
  for (const a of agents) await a.stop('SIGTERM');
  let report = '';
  await waitFor('every round measured in VictoriaMetrics, without a gap', async () => {
    await vm.forceFlush();
    report = '';
    for (const target of TARGETS) {
      for (const agent of AGENTS) {
        if (target === '/flaky' && agent !== 'a1') continue;
        const times = (await vmTimes(vm.url, target, agent)).filter((x) => x < stopAt - 2 * STEP_MS);
        const { gaps } = gapsAndDuplicates(times, STEP_MS);
        if (!times.length || gaps.length) report += `${target} ${agent}: ${times.length} rounds, gaps after ${gaps.map((g) => g - killedAt).join(', ')} ms (from the kill)\n`;
      }
    }
    return report === '';
  }, 60_000).catch(() => assert.fail(`rounds missing:\n${report}`));
});
