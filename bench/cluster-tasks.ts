// Shared tasks in a cluster: how fast a task made on server A reaches an agent that polls
// server B, and its result is seen back on A. Two shared task services (src/tasks/shared.ts) in
// this process, each with its own pool to one PostgreSQL (Debian's, on 127.0.0.1); the agent is
// simulated on B (a long-poll loop that answers each task at once, as the agent API's routes
// call the service), so the figures are the dispatch through PostgreSQL alone, not a tool's run.
// N tasks are made one after another on A; for each it prints hand-out (queued → claimed on B,
// database clock) and, as an API caller on A sees it, create → finished (A's long-poll).
// Run: npx tsx bench/cluster-tasks.ts   env: N=100
import { loadavg } from 'node:os';
import pino from 'pino';
import { validate } from '../src/config/validate.ts';
import { TasksSectionSchema, type TasksConfig } from '../src/config/tasks-schema.ts';
import { ClusterAgents, type LocalAgent } from '../src/cluster/agents.ts';
import { ClusterDb } from '../src/cluster/postgres.ts';
import { pgTaskDb } from '../src/cluster/tasks-pg.ts';
import { buildPolicy } from '../src/tasks/policy.ts';
import { SharedTaskService } from '../src/tasks/shared.ts';
import { startPostgres } from '../test/postgres.ts';

const N = Number(process.env.N ?? 100);
const log = pino({ level: 'silent' });
const settings = { per_agent: { concurrency: 2, per_minute: 600, queue: 100 } } as TasksConfig;
validate(TasksSectionSchema, settings);
const pg = await startPostgres();

function server(id: string, local: LocalAgent[], sweeper: boolean) {
  const db = new ClusterDb(pg.url);
  const agents: ClusterAgents = new ClusterAgents({ db, server: id, local: () => local, polls: () => service.pollState(), periodMs: 2000, freshMs: 12_000, log });
  const service: SharedTaskService = new SharedTaskService({
    db: pgTaskDb((what, fn) => db.transaction(what, fn)), views: agents, server: id, log, settings: () => settings,
    policy: () => buildPolicy(settings.allow, ['127.0.0.1'], []), sweeper: () => sweeper,
  });
  agents.start();
  return { db, agents, service };
}

const agent = (name: string, alive: boolean): LocalAgent => ({ name, region: 'r', labels: {}, alive, builtin: false, ...(alive ? { last_seen: Date.now() } : {}) });
const a = server('a', [agent('r', false)], true);
const b = server('b', [agent('r', true)], false);
await a.db.init();
await b.agents.write();

// The agent on B: a long-poll, each task answered at once.
let running = true;
const loop = (async () => {
  while (running) {
    for (const t of await b.service.take('r', 5000)) {
      await b.service.report('r', [{ id: t.id, ok: true, started: Date.now(), finished: Date.now(), output: { sent: 1, received: 1 } }]);
    }
  }
})();

const handout: number[] = [];
const roundTrip: number[] = [];
for (let i = 0; i < N; i++) {
  const t0 = performance.now();
  const rec = await a.service.create({ kind: 'ping', params: { host: '127.0.0.1', count: 1 }, agents: ['r'], choice: { names: ['r'] }, createdBy: 'bench', origin: 'api' });
  const done = await a.service.finished(rec.id, 30_000);
  roundTrip.push(performance.now() - t0);
  const r = done!.results[0]!;
  if (r.status !== 'done') throw new Error(`task ${i}: ${r.status} ${r.error ?? ''}`);
  handout.push(r.started! - r.queued);
}
running = false;
await loop;
const q = (xs: number[], p: number) => [...xs].sort((x, y) => x - y)[Math.min(xs.length - 1, Math.floor(p * xs.length))]!;
const line = (name: string, xs: number[]) => console.log(`${name.padEnd(34)} median ${q(xs, 0.5).toFixed(0).padStart(5)} ms   p95 ${q(xs, 0.95).toFixed(0).padStart(5)} ms   max ${Math.max(...xs).toFixed(0).padStart(5)} ms`);
console.log(`${N} tasks made on A for an agent polling B (one PostgreSQL on 127.0.0.1)`);
line('hand-out (queued → claimed on B)', handout);
line('create on A → finished seen on A', roundTrip);
console.log(`load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
for (const s of [a, b]) {
  s.service.close();
  s.agents.close();
  await s.db.close();
}
await pg.stop();
