// Agents shared by the servers of a cluster (src/cluster/agents.ts): the cost, per server and
// heartbeat, of writing its agents' rows and reading every server's back (one PostgreSQL,
// Debian's, on 127.0.0.1), and of the cluster's view (ctx.agents(): clusterAgentView, which the
// mesh check asks for every second). N agents over S servers, each server's share alive on it;
// every server's rows written once, then R rounds of: one server's heartbeat with nothing
// changed anywhere (idle), its view, another server's rewrite of its whole share (what the
// refresh of every row each freshness window / 4 costs that server's write: the cost on
// writes), and the first server's heartbeat after that rewrite (reads the rewritten rows).
// Run: npx tsx bench/cluster-agents.ts   env: N=10000 S=3 R=5
import { execFileSync } from 'node:child_process';
import { loadavg } from 'node:os';
import pino from 'pino';
import { ClusterAgents, sightingsToWrite } from '../src/cluster/agents.ts';
import { ClusterDb } from '../src/cluster/postgres.ts';
import { writeSightings } from '../src/cluster/tasks-pg.ts';
import type { AgentInfo } from '../src/plan/agent-info.ts';
import { postgresBin, startPostgres } from '../test/postgres.ts';

const N = Number(process.env.N ?? 10_000);
const S = Number(process.env.S ?? 3);
const R = Number(process.env.R ?? 5);
const PERIOD_MS = 60_000;
const FRESH_MS = 60_000;
const load = () => loadavg().map((x) => x.toFixed(1)).join(' ');
let commit = process.env.COMMIT ?? '?';
if (!process.env.COMMIT) try {
  commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
} catch { /* not a git checkout */ }
console.log(`command: N=${N} S=${S} R=${R} npx tsx bench/cluster-agents.ts (commit ${commit})`);
console.log(`config: ${N} agents over ${S} servers, heartbeat ${PERIOD_MS} ms (driven by hand), freshness ${FRESH_MS} ms, node ${process.version}, ${execFileSync(postgresBin('postgres'), ['--version'], { encoding: 'utf8' }).trim()}`);
console.log(`load average at start: ${load()}`);
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
const cas = servers.map((id, i) => new ClusterAgents({ db: dbs[i]!, server: id, local: () => lists[i]!, periodMs: PERIOD_MS, freshMs: FRESH_MS, log }));
const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const other = S > 1 ? 1 : 0;
try {
  const first: number[] = [];
  for (const c of cas) {
    const t0 = performance.now();
    await c.write(); // every row of its share is new: written, then every server's rows read back
    first.push(performance.now() - t0);
  }
  const idle: number[] = [];
  const view: number[] = [];
  const rewrite: number[] = [];
  const after: number[] = [];
  for (let r = 0; r < R; r++) {
    const t0 = performance.now();
    await cas[0]!.write(); // nothing due here, nothing changed elsewhere
    idle.push(performance.now() - t0);
    const t1 = performance.now();
    const v = cas[0]!.view(lists[0]!);
    view.push(performance.now() - t1);
    if (v.filter((a) => a.alive).length !== N) throw new Error(`view: ${v.filter((a) => a.alive).length} of ${N} alive`);
    // Another server rewrites every row of its share (as its refresh does), in one statement.
    const rows = sightingsToWrite(lists[other]!, new Map(), Date.now(), new Map(), 1).map(({ facts: _f, ...x }) => x);
    const t2 = performance.now();
    await dbs[other]!.transaction('bench rewrite', (c) => writeSightings(c, servers[other]!, rows));
    rewrite.push(performance.now() - t2);
    const t3 = performance.now();
    await cas[0]!.write(); // nothing due here; the other server's share changed
    after.push(performance.now() - t3);
  }
  console.log(`first write of a server's share (${Math.round(N / S)} rows) + read of the rows then written: median ${med(first).toFixed(0)} ms`);
  console.log(`heartbeat with nothing to write, nothing changed (idle; judged over ${N} agents): median ${med(idle).toFixed(0)} ms of ${R}`);
  console.log(`rewrite of a server's whole share (${rows(N, S, other)} row upserts, one statement, its own transaction): median ${med(rewrite).toFixed(0)} ms of ${R}`);
  console.log(`heartbeat with nothing to write after that rewrite (${rows(N, S, other)} rows changed): median ${med(after).toFixed(0)} ms of ${R}`);
  console.log(`the cluster's view (ctx.agents()) over ${N} agents: median ${med(view).toFixed(1)} ms of ${R}`);
  console.log(`load average at end: ${load()}`);
} finally {
  for (const c of cas) c.close();
  for (const db of dbs) await db.close();
  await pg.stop();
}

/** How many agents server `i` has (k % S === i). */
function rows(n: number, s: number, i: number): number {
  return Math.floor(n / s) + (i < n % s ? 1 : 0);
}
