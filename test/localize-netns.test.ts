import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import pino from 'pino';
import { startReceiver, type Receiver } from '../src/alerts/notifiers/receiver.testkit.ts';
import type { AlertEvent } from '../src/alerts/notifiers/notifier.ts';
import type { Cause } from '../src/alerts/cause.ts';
import { startServer, type RunningServer } from '../src/server/app.ts';
import { freePort, startAgent, writeSecret, type Proc } from './agents-kit.ts';
import { waitFor } from './wait.ts';

/**
 * Fault localization with real agents and real ICMP: four agent processes in four network
 * namespaces (two ISPs × two provinces, as --label), two "IDCs" (namespaces holding three VIP
 * addresses each), all on a bridge of the test's own (a random /24 of 198.18.0.0/15). Each VIP
 * has a per-target alert; a localization scope judges them every 2 s.
 * 1. nftables drops the echo requests reaching one IDC → exactly one cause, "destination
 *    idc=idc2", and no target alert is sent (they are recorded as suppressed under it);
 * 2. nftables drops the echo replies reaching one agent → exactly one vantage-point cause for
 *    that agent, no target alert sent.
 */

const tag = Math.random().toString(36).slice(2, 7);
const subnet = `198.${18 + Math.floor(Math.random() * 2)}.${1 + Math.floor(Math.random() * 254)}`;
const addr = (host: number) => `${subnet}.${host}`;
const BRIDGE = `smlb${tag}`;
const AGENTS = [
  { name: 'tel-p1', isp: 'telecom', province: 'p1' }, { name: 'tel-p2', isp: 'telecom', province: 'p2' },
  { name: 'uni-p1', isp: 'unicom', province: 'p1' }, { name: 'uni-p2', isp: 'unicom', province: 'p2' },
].map((a, i) => ({ ...a, ns: `sml${tag}a${i}`, veth: `smlv${tag}a${i}`, addr: addr(10 + i) }));
const IDCS = ['idc1', 'idc2'].map((name, i) => ({ name, ns: `sml${tag}d${i}`, veth: `smlv${tag}d${i}`, vips: [1, 2, 3].map((v) => addr(20 + 10 * i + v)) }));
const dir = mkdtempSync(join(tmpdir(), 'smokemesh-localize-netns-'));
const procs: Proc[] = [];
let server: RunningServer | undefined;
let rx: Receiver;
const root = process.getuid?.() === 0;

function sh(argv: string[], input?: string): void {
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', shell: false, ...(input ? { input } : {}) });
  if (r.status !== 0) throw new Error(`${argv.join(' ')}: ${r.stderr}`);
}
const quiet = (argv: string[]) => spawnSync(argv[0]!, argv.slice(1), { shell: false });

function link(ns: string, veth: string, addrs: string[]): void {
  sh(['ip', 'netns', 'add', ns]);
  sh(['ip', 'link', 'add', veth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
  sh(['ip', 'link', 'set', veth, 'master', BRIDGE]);
  sh(['ip', 'link', 'set', veth, 'up']);
  for (const a of addrs) sh(['ip', '-n', ns, 'addr', 'add', `${a}/24`, 'dev', 'eth0']);
  sh(['ip', '-n', ns, 'link', 'set', 'eth0', 'up']);
  sh(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
}

/** Drops ICMP of one type arriving in a namespace (an nftables table of our own, removed by unblock). */
const block = (ns: string, type: 'echo-request' | 'echo-reply') => sh(['ip', 'netns', 'exec', ns, 'nft', '-f', '-'],
  `table inet sml${tag} {\n chain input { type filter hook input priority 0; policy accept; icmp type ${type} drop; }\n}\n`);
const unblock = (ns: string) => sh(['ip', 'netns', 'exec', ns, 'nft', 'delete', 'table', 'inet', `sml${tag}`]);

before(async () => {
  if (!root) return;
  const routes = spawnSync('ip', ['-4', 'route'], { encoding: 'utf8' }).stdout;
  assert.ok(!routes.includes(`${subnet}.`), `our test subnet ${subnet}.0/24 is free`);
  sh(['ip', 'link', 'add', BRIDGE, 'type', 'bridge']);
  sh(['ip', 'addr', 'add', `${addr(1)}/24`, 'dev', BRIDGE]);
  sh(['ip', 'link', 'set', BRIDGE, 'up']);
  for (const a of AGENTS) link(a.ns, a.veth, [a.addr]);
  for (const d of IDCS) link(d.ns, d.veth, d.vips);
  rx = await startReceiver();
  const port = await freePort();
  const secrets = Object.fromEntries(AGENTS.map((a) => [a.name, writeSecret(dir, a.name)]));
  const configFile = join(dir, 'smokemesh.yaml');
  // Step 4 s and heartbeats every 3 s: on a loaded machine a 2 s step let a target alert's hold
  // (raise_after + 1.5 steps) end just before the cause was raised, and 1 s heartbeats let agents
  // read as down in the middle of their trace.
  writeFileSync(configFile, `general:
  step: 4
  pings: 5
  listen: ${addr(1)}:${port}
  data_dir: ${join(dir, 'data')}
  agent_name: server
agents:
${AGENTS.map((a) => `  - { name: ${a.name}, secret_file: ${secrets[a.name]}, heartbeat: 3 }`).join('\n')}
notifiers:
  hook: { type: webhook, url: "${rx.base}/hook", retries: 3, backoff_ms: 100 }
alerts:
  to: hook
  down: { type: loss, pattern: ">50%", edgetrigger: yes, comment: the VIP stopped answering }
localize:
  scopes:
    - name: cdn
      targets: { paths: [/IDC/**] }
      roles: { vantage: [isp, province], destination: [idc], item: vip }
      to: hook
targets:
  server_probes: false
  alerts: [down]
  probe: icmp
  interval: 20
  timeout: 400
  children:
    IDC:
      children:
${IDCS.map((d) => `        ${d.name}:\n          labels: { idc: ${d.name} }\n          children:\n${d.vips.map((v, i) => `            vip${i + 1}: { host: ${v}, labels: { vip: "${v}" } }`).join('\n')}`).join('\n')}
`);
  server = await startServer({ configFile, logger: pino({ level: 'warn' }) });
  for (const a of AGENTS) {
    const spool = join(dir, `spool-${a.name}`);
    mkdirSync(spool, { recursive: true });
    procs.push(startAgent({ server: server.url, name: a.name, secretFile: secrets[a.name]!, spool, ns: a.ns, extra: ['--label', `isp=${a.isp}`, '--label', `province=${a.province}`, '--interface', 'eth0', '--log-level', 'warn'] }));
  }
});

after(async () => {
  for (const p of procs) await p.stop('SIGKILL');
  await server?.close();
  await rx?.close();
  for (const x of [...AGENTS, ...IDCS]) quiet(['ip', 'netns', 'del', x.ns]);
  quiet(['ip', 'link', 'del', BRIDGE]);
  rmSync(dir, { recursive: true, force: true });
});

interface Scope { counts: { series: number; bad: number } | null; causes: (Cause & { suppressed: { count: number } })[] }
const scope = async (): Promise<Scope> => ((await (await fetch(`${server!.url}/api/v1/localize?matrix=0`)).json()) as { scopes: Scope[] }).scopes[0]!;
const sent = () => rx.requests.filter((r) => r.url === '/hook').map((r) => JSON.parse(r.body) as AlertEvent);
const heldNone = async () => ((await (await fetch(`${server!.url}/api/v1/alerts/deliveries?status=held&limit=1`)).json()) as unknown[]).length === 0;

test('real agents in namespaces: an IDC losing every ping is one IDC cause; an agent losing its replies is one vantage-point cause; no target alert is sent', { skip: !root && 'needs root for network namespaces', timeout: 600_000 }, async () => {
  // Clean first: all 24 series report and nothing is bad.
  await waitFor('24 clean series', async () => {
    const s = await scope();
    return s.counts?.series === 24 && s.counts.bad === 0;
  }, 180_000, 500);

  // 1. The IDC's uplink drops every echo request.
  const idc2 = IDCS[1]!;
  block(idc2.ns, 'echo-request');
  const raised = await waitFor('the IDC cause', async () => (await scope()).causes.find((c) => c.raised !== null), 90_000, 250);
  assert.equal(raised.id, 'cdn/destination/idc2');
  await waitFor('the per-VIP alerts to be settled (held, then suppressed)', async () => ((await scope()).causes[0]?.suppressed.count ?? 0) >= 12 && (await heldNone()), 60_000, 500)
    .catch(async (e: Error) => { throw new Error(`${e.message}; scope: ${JSON.stringify(await scope())}; sent: ${JSON.stringify(sent().map((x) => `${x.state} ${x.target.path} ${x.agent}`))}`); });
  assert.equal((await scope()).causes[0]!.suppressed.count, 12, 'one raise per series toward the IDC, each suppressed');
  // The evidence trace runs through the dropped path: keep the fault until it has ended.
  await waitFor('the IDC cause\'s trace', async () => { const t = (await scope()).causes[0]?.trace; return t && t.summary !== 'trace running'; }, 180_000, 500);
  unblock(idc2.ns);
  await waitFor('the IDC cause to clear', async () => (await scope()).causes.length === 0, 90_000, 250);
  await waitFor('nothing held', heldNone, 60_000, 500);
  // The raise waits for its evidence trace (mtr, at most tasks.auto_trace.max_wait_s), the clear behind it.
  await waitFor('the cause\'s raise and clear to be delivered', () => sent().length >= 2, 180_000, 500);
  assert.deepEqual(sent().map((e) => `${e.state} ${e.target.path}`), ['raised cdn/destination/idc2', 'cleared cdn/destination/idc2']);
  // The raise carried its evidence trace: mtr from two agents of two ISPs toward one of the IDC's VIPs, through the dropped path.
  const idcTrace = sent()[0]!.trace!;
  assert.ok(idcTrace?.task, JSON.stringify(idcTrace));
  assert.equal(idcTrace.agents!.length, 2);
  assert.match(idcTrace.target!, /^\/IDC\/idc2\//);
  for (const a of idcTrace.agents!) assert.match(idcTrace.summary, new RegExp(`${a}: [^;]*(not reached|loss starts|no hops traced)`), idcTrace.summary);

  // 2. One agent's uplink drops the echo replies: our probe is broken, not the network.
  const broken = AGENTS[1]!;
  block(broken.ns, 'echo-reply');
  const vantage = await waitFor('the vantage cause', async () => (await scope()).causes.find((c) => c.raised !== null), 90_000, 250);
  assert.equal(vantage.id, `cdn/vantage/${broken.name}`);
  assert.deepEqual((await scope()).causes.map((c) => c.kind), ['vantage'], 'no network, destination or item cause besides it');
  await waitFor('its target alerts suppressed', async () => ((await scope()).causes[0]?.suppressed.count ?? 0) >= 6 && (await heldNone()), 60_000, 500)
    .catch(async (e: Error) => { throw new Error(`${e.message}; scope: ${JSON.stringify(await scope())}; sent: ${JSON.stringify(sent().map((x) => `${x.state} ${x.target.path} ${x.agent}`))}`); });
  assert.equal((await scope()).causes[0]!.suppressed.count, 6);
  await waitFor('the vantage cause\'s trace', async () => { const t = (await scope()).causes[0]?.trace; return t && t.summary !== 'trace running'; }, 180_000, 500);
  unblock(broken.ns);
  await waitFor('the vantage cause to clear', async () => (await scope()).causes.length === 0, 90_000, 250);
  await waitFor('nothing held', heldNone, 60_000, 500);
  await waitFor('the vantage cause\'s raise and clear to be delivered', () => sent().length >= 4, 180_000, 500);
  assert.deepEqual(sent().map((e) => `${e.state} ${e.target.path}`).slice(2), [`raised cdn/vantage/${broken.name}`, `cleared cdn/vantage/${broken.name}`]);
  // Traced from the broken agent itself: its replies are dropped, so the trace reaches nothing.
  const agentTrace = sent()[2]!.trace!;
  assert.deepEqual(agentTrace?.agents, [broken.name], JSON.stringify(agentTrace));
  assert.match(agentTrace.summary, /not reached|loss starts|no hops traced/);
  assert.equal(sent().filter((e) => !e.cause).length, 0, 'no target alert sent');
});
