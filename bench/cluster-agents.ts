// Agents shared by the servers of a cluster (src/cluster/agents.ts): the cost, per server and
// heartbeat, of writing its agents' rows and reading every server's back (one PostgreSQL,
// Debian's, on 127.0.0.1), and of the cluster's view (ctx.agents(): clusterAgentView, which the
// mesh check asks for every second). N agents over S servers, each server's share alive on it;
// every server's rows written once, then one server's read and view timed R times.
// Run: npx tsx bench/cluster-agents.ts   env: N=10000 S=3 R=5
import { loadavg } from 'node:os';
import pino from 'pino';
import { ClusterAgents } from '../src/cluster/agents.ts';
import { ClusterDb } from '../src/cluster/postgres.ts';
import type { AgentInfo } from '../src/plan/agent-info.ts';
import { startPostgres } from '../test/postgres.ts';

const N = Number(process.env.N ?? 10_000);
const S = Number(process.env.S ?? 3);
const R = Number(process.env.R ?? 5);
const log = pino({ level: 'silent' });
const pg = await startPostgres();
const servers = Array.from({ length: S }, (_, i) => `s${i + 1}`);
/** Server i's own list: every agent configured, those of its share alive with their addresses. */
const own = (i: number): AgentInfo[] => Array.from({ length: N }, (_, k): AgentInfo => (k % S === i
  ? { name: `agent-${k}`, region: `r${k % 20}`, labels: { rack: String(k % 50) }, addresses: [`10.${k >> 16 & 255}.${k >> 8 & 255}.${k & 255}`], intranet_address: `10.${k >> 16 & 255}.${k >> 8 & 255}.${k & 255}`, version: '1.0.0', alive: true, builtin: false, last_seen: Date.now() }
  : { name: `agent-${k}`, region: 'default', labels: {}, addresses: [], alive: false, builtin: false }));
const dbs = servers.map(() => new ClusterDb(pg.url));
await dbs[0]!.init();
const lists = servers.map((_, i) => own(i));
const cas = servers.map((id, i) => new ClusterAgents({ db: dbs[i]!, server: id, local: () => lists[i]!, periodMs: 60_000, freshMs: 60_000, log }));
const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
try {
  const first: number[] = [];
  for (const c of cas) {
    const t0 = performance.now();
    await c.write(); // every row of its share is new: written, then every server's rows read back
    first.push(performance.now() - t0);
  }
  const again: number[] = [];
  const view: number[] = [];
  for (let r = 0; r < R; r++) {
    const t0 = performance.now();
    await cas[0]!.write(); // nothing due: the read of every row alone
    again.push(performance.now() - t0);
    const t1 = performance.now();
    const v = cas[0]!.view(lists[0]!);
    view.push(performance.now() - t1);
    if (v.filter((a) => a.alive).length !== N) throw new Error(`view: ${v.filter((a) => a.alive).length} of ${N} alive`);
  }
  console.log(`agents ${N}, servers ${S}, load ${loadavg().map((x) => x.toFixed(1)).join(' ')}`);
  console.log(`first write of a server's share (${Math.round(N / S)} rows) + read of the rows then written: median ${med(first).toFixed(0)} ms`);
  console.log(`heartbeat with nothing to write (read of ${N} rows, judged): median ${med(again).toFixed(0)} ms of ${R}`);
  console.log(`the cluster's view (ctx.agents()) over ${N} agents: median ${med(view).toFixed(1)} ms of ${R}`);
} finally {
  for (const c of cas) c.close();
  for (const db of dbs) await db.close();
  await pg.stop();
}
