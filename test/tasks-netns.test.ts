import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { startReceiver, type Receiver } from '../src/alerts/notifiers/receiver.testkit.ts';
import type { AlertEvent } from '../src/alerts/notifiers/notifier.ts';
import { startServer, type RunningServer } from '../src/server/app.ts';
import type { TaskRecord, TaskSummary } from '../src/tasks/record.ts';
import { startAgent, writeSecret, type Proc } from './agents-kit.ts';
import { waitFor } from './wait.ts';

// A path with routers, all in namespaces made here (names carry this process's id):
//
//   test process, server ── veth (198.18/15, random /30) ── a ── r1 ── r2 ── t
//                                                 agent a   .1|.2  .5|.6  .9|.10   (198.51.100.x)
//
// The agent runs in "a" and reaches the server over the /30; the target t (198.51.100.10) is
// three hops away. nftables on r2 drops half of what arrives from r1 (numgen random), before
// routing: probes that expire at r2 and those going on to t lose alike, so loss starts at
// r2's hop (it answers from 198.51.100.6). The routers answer without ICMP rate limits.
const root = process.getuid?.() === 0;
const id = `${process.pid % 10000}${randomInt(100)}`;
const NS = { a: `smt${id}a`, r1: `smt${id}r1`, r2: `smt${id}r2`, t: `smt${id}t` };
const o2 = 18 + randomInt(2);
const o3 = randomInt(256);
const o4 = 4 * randomInt(64);
const HOST = `198.${o2}.${o3}.${o4 + 1}`;
const AGENT_SIDE = `198.${o2}.${o3}.${o4 + 2}`;
const TARGET = '198.51.100.10';
const R2 = '198.51.100.6';
const dir = mkdtempSync(join(tmpdir(), 'sm-tasks-netns-'));
let server: RunningServer | undefined;
let agent: Proc | undefined;
let hook: Receiver | undefined;

const ip = (...args: string[]) => execFileSync('ip', args, { stdio: ['ignore', 'pipe', 'pipe'] });
const inNs = (ns: string, ...argv: string[]) => execFileSync('ip', ['netns', 'exec', ns, ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });

function link(a: string, ia: string, aAddr: string, b: string, ib: string, bAddr: string): void {
  ip('link', 'add', `${id}${ia}`, 'netns', a, 'type', 'veth', 'peer', 'name', `${id}${ib}`, 'netns', b);
  ip('-n', a, 'link', 'set', `${id}${ia}`, 'name', ia);
  ip('-n', b, 'link', 'set', `${id}${ib}`, 'name', ib);
  ip('-n', a, 'addr', 'add', aAddr, 'dev', ia);
  ip('-n', b, 'addr', 'add', bAddr, 'dev', ib);
  ip('-n', a, 'link', 'set', ia, 'up');
  ip('-n', b, 'link', 'set', ib, 'up');
}

function setup(): void {
  for (const ns of Object.values(NS)) {
    ip('netns', 'add', ns);
    ip('-n', ns, 'link', 'set', 'lo', 'up');
  }
  // The root namespace gets one veth end and one /30 address; nothing else changes there.
  ip('link', 'add', `smt${id}h`, 'type', 'veth', 'peer', 'name', `smt${id}g`, 'netns', NS.a);
  ip('addr', 'add', `${HOST}/30`, 'dev', `smt${id}h`);
  ip('link', 'set', `smt${id}h`, 'up');
  ip('-n', NS.a, 'link', 'set', `smt${id}g`, 'name', 'up0');
  ip('-n', NS.a, 'addr', 'add', `${AGENT_SIDE}/30`, 'dev', 'up0');
  ip('-n', NS.a, 'link', 'set', 'up0', 'up');
  link(NS.a, 'e0', '198.51.100.1/30', NS.r1, 'e0', '198.51.100.2/30');
  link(NS.r1, 'e1', '198.51.100.5/30', NS.r2, 'e0', '198.51.100.6/30');
  link(NS.r2, 'e1', '198.51.100.9/30', NS.t, 'e0', '198.51.100.10/30');
  ip('-n', NS.a, 'route', 'add', 'default', 'via', '198.51.100.2');
  ip('-n', NS.r1, 'route', 'add', '198.51.100.8/30', 'via', '198.51.100.6');
  ip('-n', NS.r2, 'route', 'add', 'default', 'via', '198.51.100.5');
  ip('-n', NS.t, 'route', 'add', 'default', 'via', '198.51.100.9');
  for (const r of [NS.r1, NS.r2]) {
    inNs(r, 'sysctl', '-q', '-w', 'net.ipv4.ip_forward=1', 'net.ipv4.icmp_ratelimit=0', 'net.ipv4.icmp_msgs_per_sec=100000', 'net.ipv4.icmp_msgs_burst=100000');
  }
}

const lossTable = `smt${id}loss`;
function lossOn(): void {
  inNs(NS.r2, 'nft', 'add', 'table', 'inet', lossTable);
  inNs(NS.r2, 'nft', 'add', 'chain', 'inet', lossTable, 'pre', '{ type filter hook prerouting priority 0; policy accept; }');
  inNs(NS.r2, 'nft', 'add', 'rule', 'inet', lossTable, 'pre', 'iifname', 'e0', 'numgen', 'random', 'mod', '100', '<', '50', 'drop');
}
function lossOff(): void {
  inNs(NS.r2, 'nft', 'delete', 'table', 'inet', lossTable);
}

function teardown(): void {
  for (const ns of Object.values(NS)) {
    try {
      ip('netns', 'del', ns); // takes the veth pairs (and the root end) with it
    } catch {
      // not created
    }
  }
}

async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const r = await fetch(server!.url + path, {
    method, headers: { authorization: `Bearer ${server!.adminToken}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  const json = await r.json() as T;
  if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(json)}`);
  return json;
}

const events = (): AlertEvent[] => (hook?.requests ?? []).map((r) => JSON.parse(r.body) as AlertEvent);

before(async () => {
  if (!root) return;
  teardown();
  setup();
  hook = await startReceiver();
  writeSecret(dir, 'a');
  const port = 20000 + randomInt(20000);
  const cfg = join(dir, 'smokemesh.yaml');
  writeFileSync(cfg, `general:
  step: 2
  pings: 5
  data_dir: ${join(dir, 'data')}
  agent_name: srv
  public_url: http://${HOST}:${port}
agents:
  - { name: a, secret_file: ${join(dir, 'a.secret')}, heartbeat: 1, region: lab }
tasks:
  auto_trace: { min_interval_s: 1, count: 10, interval: 0.2, grace: 1 }
notifiers:
  hook: { type: webhook, url: "${hook.base}/alert", retries: 0 }
alerts:
  lossy:
    type: loss
    pattern: ">10%,>10%"
    edgetrigger: true
    comment: loss on the path
    trace: true
    to: [hook]
probes:
  fast: { type: icmp, interval: 100, timeout: 500 }
targets:
  server_probes: false
  children:
    t: { host: ${TARGET}, probe: fast, agents: [a], alerts: [lossy] }
`);
  server = await startServer({ configFile: cfg, listen: `${HOST}:${port}`, logger: pino({ level: 'silent' }) });
  agent = startAgent({ server: server.url, name: 'a', secretFile: join(dir, 'a.secret'), spool: join(dir, 'spool'), ns: NS.a });
  await waitFor('agent a to send rounds', () => server!.ingest.stats.by_agent.a, 90_000);
});

after(async () => {
  await agent?.stop('SIGKILL');
  await server?.close();
  await hook?.close();
  if (root) teardown();
  rmSync(dir, { recursive: true, force: true });
});

test('loss injected on r2: a task from the agent shows loss starting at r2\'s hop; an alert raises with a trace naming it and clears with a clean one', { skip: root ? false : 'needs root for network namespaces', timeout: 240_000 }, async () => {
  const traces = (): Promise<{ tasks: TaskSummary[] }> => api('GET', `/api/v1/tasks?target=${encodeURIComponent('/t')}&origin=alert`);
  lossOn();

  // An admin's mtr from the agent that sees the target.
  const started = await api<TaskRecord>('POST', '/api/v1/tasks', { kind: 'mtr', params: { host: TARGET, count: 10, interval: 0.2, grace: 1 }, agents: { probing: '/t' } });
  assert.deepEqual(started.results.map((r) => r.agent), ['a']);
  let rec = started;
  while (rec.state !== 'finished') rec = await api<TaskRecord>('GET', `/api/v1/tasks/${rec.id}?version=${rec.version}&wait=20`);
  const mine = rec.results[0]!;
  assert.equal(mine.status, 'done', mine.error);
  const hops = (mine.output as { hops: { host: string | null; loss_pct: number }[] }).hops;
  assert.deepEqual(hops.map((h) => h.host), ['198.51.100.2', R2, TARGET]);
  assert.equal(hops[0]!.loss_pct, 0, 'r1 answers every probe');
  assert.ok(hops[1]!.loss_pct > 0 && hops[2]!.loss_pct > 0, JSON.stringify(hops));
  assert.match(mine.summary!, new RegExp(`^loss starts at hop 2, ${R2.replaceAll('.', '\\.')} \\(`));

  // The alert raises; its notification carries the trace, which names r2's hop.
  const raised = await waitFor('the raised notification', () => events().find((e) => e.state === 'raised'), 90_000);
  assert.equal(raised.alert.name, 'lossy');
  assert.match(raised.trace!.summary, new RegExp(`^loss starts at hop 2, ${R2.replaceAll('.', '\\.')} \\(\\d+(\\.\\d)?% at ${TARGET.replaceAll('.', '\\.')}, hop 3\\)`));
  assert.match(raised.trace!.url!, new RegExp(`^http://${HOST.replaceAll('.', '\\.')}:\\d+/#/tasks\\?id=${raised.trace!.task}$`));
  const raiseTrace = await api<TaskRecord>('GET', `/api/v1/tasks/${raised.trace!.task}`);
  assert.equal(raiseTrace.origin, 'alert');
  assert.equal(raiseTrace.created_by, 'alert lossy raised on /t from a');

  // Loss removed: the alert clears, with a second trace that shows the path clean and says what changed.
  lossOff();
  const cleared = await waitFor('the cleared notification', () => events().find((e) => e.state === 'cleared'), 90_000);
  assert.equal(cleared.trace!.summary, `path clean: 3 hops to ${TARGET}, no loss, ${
    ((await api<TaskRecord>('GET', `/api/v1/tasks/${cleared.trace!.task}`)).results[0]!.output as { hops: { avg: number }[] }).hops[2]!.avg} ms`);
  assert.equal(cleared.trace!.changes.length, 1);
  assert.match(cleared.trace!.changes[0]!, new RegExp(`^loss from hop 2, ${R2.replaceAll('.', '\\.')} is gone \\(${TARGET.replaceAll('.', '\\.')}: \\d+(\\.\\d)?% → 0%\\)$`));

  // Both traces are listed for the target (the graph's markers), the raise's verdict with them.
  const list = (await traces()).tasks;
  assert.deepEqual(list.map((x) => x.id).sort(), [raised.trace!.task, cleared.trace!.task].sort());
  assert.match(list.find((x) => x.id === raised.trace!.task)!.summaries.a!, /^loss starts at hop 2/);
  const history = await api<{ event: AlertEvent }[]>('GET', '/api/v1/alerts/history?target=/t');
  assert.ok(history.every((h) => h.event.trace?.task), 'the history keeps each event\'s trace');
});
