import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { validate } from '../config/validate.ts';
import { TasksSectionSchema, type TasksConfig } from '../config/tasks-schema.ts';
import { buildPolicy } from '../tasks/policy.ts';
import { SharedTaskService } from '../tasks/shared.ts';
import { fixture } from '../tasks/fixtures.testkit.ts';
import { parseMtrJson } from '../tasks/mtr-parser.ts';
import { startPostgres, type Postgres } from '../../test/postgres.ts';
import { waitFor } from '../../test/wait.ts';
import { ClusterAgents, type LocalAgent } from './agents.ts';
import { ClusterDb } from './postgres.ts';
import { pgTaskDb, pruneHistoryBatch } from './tasks-pg.ts';

const log = pino({ level: 'silent' });
let pg: Postgres;
before(async () => {
  pg = await startPostgres();
});
after(async () => {
  await pg?.stop();
});

const agent = (name: string, alive: boolean, builtin = false): LocalAgent => ({ name, region: 'eu', labels: { rack: name }, alive, builtin, ...(alive ? { last_seen: Date.now() } : {}) });

/** One server of the cluster: its shared task service and what it knows of agents (`local`: its registry and built-in agent). */
function server(id: string, local: LocalAgent[], settings: TasksConfig, sweeper: boolean) {
  const db = new ClusterDb(pg.url);
  const agents: ClusterAgents = new ClusterAgents({ db, server: id, local: () => local, polls: () => service.pollState(), periodMs: 60_000, freshMs: 60_000, log });
  const service: SharedTaskService = new SharedTaskService({
    db: pgTaskDb((what, fn) => db.transaction(what, fn)), views: agents, server: id, log, settings: () => settings,
    policy: () => buildPolicy(settings.allow, ['127.0.0.1'], []), sweeper: () => sweeper,
  });
  return {
    db, agents, service, local,
    close: async () => {
      service.close();
      agents.close();
      await db.close();
    },
  };
}

function tasksConfig(over: Partial<TasksConfig> = {}): TasksConfig {
  const s = { ...over } as TasksConfig;
  validate(TasksSectionSchema, s);
  return s;
}

const mtr = (agents: string[]) => ({
  kind: 'mtr', params: { host: '127.0.0.1', count: 1, grace: 1 }, agents, choice: { names: agents }, createdBy: 'admin@127.0.0.1', origin: 'api' as const,
});

test('a task made on server A for an agent polling server B is handed out by B once, its result written on B is read on A (get, wait, list), and an agent nobody knows or that is down everywhere is answered at once', { timeout: 60_000 }, async () => {
  const settings = tasksConfig({ pickup_s: 3600 } as Partial<TasksConfig>);
  // Both servers have "x" and "quiet" in their config; "x" is connected to B; each has its own built-in agent.
  const a = server('sa', [agent('builtin-a', true, true), agent('x', false), agent('quiet', false)], settings, true);
  const b = server('sb', [agent('builtin-b', true, true), agent('x', true), agent('quiet', false)], settings, false);
  try {
    await a.db.init();
    // x polls B for tasks (as a remote agent's long-poll does), before the task exists.
    const poll = b.service.take('x', 30_000);
    const competing = a.service.take('x', 0); // a poll on A that ends before the task exists
    await waitFor('B has a poll of x', () => b.service.pollState().get('x')?.polling);
    await b.agents.write();
    await a.agents.write();

    const rec = await a.service.create(mtr(['x', 'builtin-b', 'quiet', 'ghost']));
    assert.deepEqual(rec.results.map((r) => [r.agent, r.status, r.error ?? '']), [
      ['x', 'queued', ''],
      ['builtin-b', 'queued', ''],
      ['quiet', 'agent_down', 'agent "quiet" is down: the task was not sent'],
      ['ghost', 'refused', 'agent "ghost" is not known to any server of the cluster'],
    ]);
    assert.deepEqual(await competing, [], 'the poll on A had ended before the task existed');
    const [job] = await poll;
    assert.equal(job?.id, rec.id, 'B handed the task made on A to its agent');
    assert.equal(job.kind, 'mtr');
    assert.deepEqual(await b.service.take('x', 0), [], 'a part is handed out once');
    assert.deepEqual(await a.service.take('x', 0), [], 'and not again by another server');
    assert.equal((await a.service.get(rec.id))!.results[0]!.status, 'running');

    // A follower on A waits for the change made on B.
    const before = (await a.service.get(rec.id))!.version;
    const changed = a.service.waitForChange(rec.id, before, 20_000);
    const output = parseMtrJson(fixture('mtr-loss-r2').out);
    assert.deepEqual(await b.service.report('x', [{ id: rec.id, ok: true, started: 1, finished: 2, output }]), { accepted: 1, rejected: [] });
    await changed;
    const seen = (await a.service.get(rec.id))!;
    assert.ok(seen.version > before);
    assert.equal(seen.results[0]!.status, 'done');
    assert.equal(seen.results[0]!.summary, 'loss starts at hop 2, 198.18.2.2 (20% at 198.18.6.2, hop 4)');
    assert.deepEqual(seen.results[0]!.output, output);
    assert.equal(seen.state, 'running', 'builtin-b has not answered yet');
    assert.match((await b.service.report('x', [{ id: rec.id, ok: true, started: 1, finished: 2 }])).rejected[0]!.error, /already has a result from agent "x"/);
    assert.match((await a.service.report('y', [{ id: rec.id, ok: true, started: 1, finished: 2 }])).rejected[0]!.error, /no task .* for agent "y"/);

    // B's built-in agent takes its part in-process on B; the result is reported there.
    const [own] = await b.service.take('builtin-b', 20_000);
    assert.equal(own?.id, rec.id);
    // An error text PostgreSQL cannot hold as is (a NUL) is kept, readable.
    assert.equal((await b.service.report('builtin-b', [{ id: rec.id, ok: false, started: 1, finished: 2, error: 'mtr\u0000failed' }])).accepted, 1);
    const done = await a.service.finished(rec.id, 20_000);
    assert.equal(done!.state, 'finished');
    assert.deepEqual(done!.results.map((r) => r.status), ['done', 'failed', 'agent_down', 'refused']);
    assert.equal(done!.results[1]!.error, 'mtr\ufffdfailed');

    for (const s of [a, b]) {
      const [row] = await s.service.list({ limit: 10, agent: 'x' });
      assert.equal(row?.id, rec.id, `${s.db === a.db ? 'A' : 'B'} lists the task`);
      assert.deepEqual(row!.counts, { done: 1, failed: 1, agent_down: 1, refused: 1 });
      assert.deepEqual(row!.summaries, { x: 'loss starts at hop 2, 198.18.2.2 (20% at 198.18.6.2, hop 4)' });
    }
    assert.deepEqual(await a.service.list({ limit: 10, agent: 'nobody' }), []);
  } finally {
    await a.close();
    await b.close();
  }
});

test('pickup deadline judged from every server\'s polls: an agent alive on B that never polls for tasks times out on the sweeping server A; one polling on B does not', { timeout: 60_000 }, async () => {
  const settings = tasksConfig({ pickup_s: 1 } as Partial<TasksConfig>);
  const a = server('pa', [agent('builtin-pa', true, true), agent('notasks', false), agent('poller', false)], settings, true);
  const b = server('pb', [agent('builtin-pb', true, true), agent('notasks', true), agent('poller', true)], settings, false);
  try {
    await a.db.init();
    // "poller" is in a long-poll on B with its concurrency full (so the task stays queued); "notasks" never polls.
    await b.agents.write();
    const blocker = await a.service.create(mtr(['poller']));
    const held = settings.per_agent.concurrency;
    for (let i = 1; i < held; i++) await a.service.create(mtr(['poller']));
    assert.equal((await b.service.take('poller', 20_000)).length, held);
    const waiting = b.service.take('poller', 20_000);
    await waitFor('poller polls B', () => b.service.pollState().get('poller')?.polling);
    await b.agents.write();

    const rec = await a.service.create(mtr(['notasks', 'poller']));
    assert.deepEqual(rec.results.map((r) => r.status), ['queued', 'queued']);
    const timedOut = await waitFor('the part of notasks timed out', async () => {
      await a.service.sweep();
      const r = await a.service.get(rec.id);
      return r!.results[0]!.status === 'timeout' ? r : undefined;
    }, 30_000, 200);
    assert.match(timedOut.results[0]!.error!, /agent "notasks" did not fetch the task within 1 s \(tasks\.pickup_s\)/);
    assert.equal(timedOut.results[1]!.status, 'queued', 'the polling agent keeps its part while its slots are busy');
    // Frees a slot: the waiting poll on B then takes the queued part (woken when B looks for parts queued elsewhere).
    await b.service.report('poller', [{ id: blocker.id, ok: true, started: 1, finished: 2 }]);
    const [next] = await waiting;
    assert.equal(next?.id, rec.id);
  } finally {
    await a.close();
    await b.close();
  }
});

test('retention: the shared alert history and shared tasks lose only rows older than the cutoff, in batches', { timeout: 60_000 }, async () => {
  const db = new ClusterDb(pg.url);
  try {
    await db.init();
    await db.transaction('seeding', async (c) => {
      for (const [id, time] of [['old-1', 1000], ['old-2', 2000], ['new-1', 9000]] as const) {
        await c.query(`INSERT INTO smokemesh_alert_events (id, server, time, target, agent, alert, state, event) VALUES ($1, 's', $2, '/t', 'a', 'loss', 'raised', '{}')`, [id, time]);
        await c.query(`INSERT INTO smokemesh_alert_deliveries (server, local_id, event_id, channel, kind, status, attempts, created, updated, attempt_log)
          VALUES ('s', $1, $2, 'hook', 'webhook', 'sent', 1, $3, $3, '[]')`, [time, id, time]);
      }
      await c.query(`INSERT INTO smokemesh_alert_events (id, server, time, target, agent, alert, state, event) VALUES ('old-3', 's', 3000, '/t', 'a', 'loss', 'cleared', '{}')`);
    });
    let deleted = 0;
    for (let n = -1; n !== 0;) deleted += n = await db.transaction('pruning', (c) => pruneHistoryBatch(c, 5000, 1));
    assert.equal(deleted, 5, 'two old deliveries, three old events');
    const left = await db.events({ limit: 10 });
    assert.deepEqual(left.rows.map((e) => e.id), ['new-1']);
    assert.deepEqual((await db.deliveries({ limit: 10 })).rows.map((d) => d.event_id), ['new-1']);

    const tasks = pgTaskDb((what, fn) => db.transaction(what, fn));
    const mk = (created: number) => tasks.create('s', ['z'], null, 1000, (_now, _load) => ({
      id: `task-${created}`, kind: 'ping', params: {}, host: '127.0.0.1', origin: 'api', created, created_by: 'test', choice: { names: ['z'] },
      state: 'finished', version: 1, results: [{ agent: 'z', status: 'refused', queued: created, error: 'x' }],
    }));
    for (const t of [1000, 2000, 9000]) await mk(t);
    assert.equal(await tasks.prune(5000), 2);
    assert.equal(await tasks.get('task-1000'), undefined);
    assert.equal((await tasks.get('task-9000'))!.results[0]!.agent, 'z');
    const parts = await db.transaction('counting', (c) => c.query("SELECT count(*)::int AS n FROM smokemesh_task_parts WHERE agent = 'z'"));
    assert.equal((parts.rows[0] as { n: number }).n, 1, 'the parts of pruned tasks went with them');
  } finally {
    await db.close();
  }
});

test('an alert trace is made once per key and interval, whichever server asks: two servers asking at once make one task', { timeout: 60_000 }, async () => {
  const settings = tasksConfig();
  const a = server('ta', [agent('builtin-ta', true, true)], settings, true);
  const b = server('tb', [agent('builtin-tb', true, true)], settings, false);
  try {
    await a.db.init();
    await a.agents.write();
    for (let round = 0; round < 5; round++) {
      const req = { ...mtr(['builtin-ta']), origin: 'alert' as const, traceKey: `/t\u0000agent-${round}`, target: '/t' };
      const got = await Promise.allSettled([a.service.create(req), b.service.create(req)]);
      assert.equal(got.filter((g) => g.status === 'fulfilled').length, 1, `round ${round}: one trace: ${got.map((g) => (g.status === 'rejected' ? String(g.reason) : 'ok')).join('; ')}`);
      const refused = got.find((g) => g.status === 'rejected') as PromiseRejectedResult;
      assert.match((refused.reason as Error).message, /the last trace for this series ran \d+ s ago \(tasks\.auto_trace\.min_interval_s: 600\)/);
    }
    assert.equal((await a.service.list({ limit: 100, origin: 'alert', target: '/t' })).length, 5);
  } finally {
    await a.close();
    await b.close();
  }
});

test('per-agent limits count the agent\'s parts in the whole cluster: waiting parts, and parts given in the last minute (not those refused)', { timeout: 60_000 }, async () => {
  const settings = tasksConfig({ pickup_s: 3600, per_agent: { concurrency: 1, queue: 1, per_minute: 3 } } as Partial<TasksConfig>);
  const a = server('la', [agent('builtin-la', true, true), agent('q', false)], settings, true);
  const b = server('lb', [agent('builtin-lb', true, true), agent('q', true)], settings, false);
  const status = (r: Awaited<ReturnType<typeof a.service.create>>) => `${r.results[0]!.status}${r.results[0]!.error ? `: ${r.results[0]!.error}` : ''}`;
  try {
    await a.db.init();
    await b.agents.write();
    const t1 = await a.service.create(mtr(['q']));
    assert.equal(status(t1), 'queued');
    assert.equal(status(await b.service.create(mtr(['q']))), 'refused: agent "q" has 1 tasks waiting (tasks.per_agent.queue: 1); try again later', 'the part waiting was queued on A');
    assert.deepEqual((await b.service.take('q', 20_000)).map((j) => j.id), [t1.id]);
    const t3 = await a.service.create(mtr(['q']));
    assert.equal(status(t3), 'queued', 'the refused part is not counted as given');
    assert.deepEqual(await b.service.take('q', 0), [], 'concurrency 1: t1 still runs');
    await b.service.report('q', [{ id: t1.id, ok: true, started: 1, finished: 2 }]);
    assert.deepEqual((await b.service.take('q', 20_000)).map((j) => j.id), [t3.id]);
    assert.equal(status(await b.service.create(mtr(['q']))), 'queued');
    assert.equal(status(await a.service.create(mtr(['q']))), 'refused: agent "q" was given 3 tasks in the last minute (tasks.per_agent.per_minute: 3); try again later');
  } finally {
    await a.close();
    await b.close();
  }
});
