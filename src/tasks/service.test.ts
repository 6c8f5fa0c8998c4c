import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { validate } from '../config/validate.ts';
import { TasksSectionSchema, type TasksConfig } from '../config/tasks-schema.ts';
import { openTaskDb } from './db.ts';
import { buildPolicy } from './policy.ts';
import { TaskError, TaskService } from './service.ts';
import { fixture } from './fixtures.testkit.ts';
import { parseMtrJson } from './mtr-parser.ts';

const log = pino({ level: 'silent' });

function setup(over: Partial<TasksConfig> = {}, file = ':memory:') {
  const settings = { ...over } as TasksConfig;
  validate(TasksSectionSchema, settings);
  let now = 1_000_000;
  const alive = new Map<string, boolean>([['a', true], ['b', true], ['down', false]]);
  const db = openTaskDb(file);
  const service = new TaskService({
    db, log, settings: () => settings, now: () => now,
    policy: () => buildPolicy(settings.allow, ['198.51.100.7'], []),
    agent: (n) => (alive.has(n) ? { alive: alive.get(n)! } : undefined),
  });
  return { service, db, settings, alive, advance: (ms: number) => { now += ms; service.tick(now); }, now: () => now };
}

const mtr = (agents: string[], params: Record<string, unknown> = {}) => ({
  kind: 'mtr', params: { host: '198.51.100.7', ...params }, agents, choice: { names: agents }, createdBy: 'admin@127.0.0.1', origin: 'api' as const,
});

test('a task is queued, handed to the agent by its poll, and its result recorded with a path summary', async () => {
  const { service } = setup();
  const rec = service.create(mtr(['a']));
  assert.equal(rec.results[0]!.status, 'queued');
  assert.deepEqual(rec.params, { host: '198.51.100.7', count: 10, interval: 1, protocol: 'icmp', max_ttl: 30, grace: 5, ip_version: 'auto', asn: false });
  const [job] = await service.take('a', 0);
  assert.equal(job!.id, rec.id);
  assert.equal(job!.timeout_ms, 25_000);
  assert.equal(service.get(rec.id)!.results[0]!.status, 'running');
  const output = parseMtrJson(fixture('mtr-loss-r2').out);
  assert.deepEqual(service.report('a', [{ id: rec.id, ok: true, started: 1, finished: 2, output }]), { accepted: 1, rejected: [] });
  const done = service.get(rec.id)!;
  assert.equal(done.state, 'finished');
  assert.equal(done.results[0]!.status, 'done');
  assert.equal(done.results[0]!.summary, 'loss starts at hop 2, 198.18.2.2 (20% at 198.18.6.2, hop 4)');
  assert.deepEqual(service.report('a', [{ id: rec.id, ok: true, started: 1, finished: 2 }]).rejected[0]!.error, `results[0]: task ${rec.id} already has a result from agent "a"`);
  assert.match(service.report('b', [{ id: rec.id, ok: true, started: 1, finished: 2 }]).rejected[0]!.error, /no task .* for agent "b"/);
  assert.match(service.report('a', [{ id: 'x', ok: 'yes' }]).rejected[0]!.error, /results\[0\]\.ok: must be boolean/);
  assert.match(service.report('a', [{ id: 'x', ok: true }]).rejected[0]!.error, /results\[0\]: missing required field "started"/);
});

test('a waiting long-poll gets the task the moment it is queued', async () => {
  const { service } = setup();
  const poll = service.take('a', 60_000);
  const rec = service.create(mtr(['a']));
  const got = await poll;
  assert.deepEqual(got.map((j) => j.id), [rec.id]);
});

test('refusals: disabled, unknown kind, parameters out of range or unknown, host outside the policy', () => {
  const { service, settings } = setup();
  const code = (f: () => unknown) => {
    try { f(); } catch (e) { assert.ok(e instanceof TaskError); return `${e.statusCode} ${e.code}: ${e.message}`; }
    return 'accepted';
  };
  assert.match(code(() => service.create(mtr(['a'], { count: 1000 }))), /^400 SMOKEMESH_E_PARAM: params\.count: must be <= 100/);
  assert.match(code(() => service.create(mtr(['a'], { shell: 'rm -rf /' }))), /^400 SMOKEMESH_E_PARAM: params\.shell: unknown field "shell"/);
  assert.match(code(() => service.create(mtr(['a'], { host: '-oProxyCommand=x' }))), /^400 SMOKEMESH_E_PARAM: params\.host: must match/);
  assert.match(code(() => service.create(mtr(['a'], { host: '10.0.0.1' }))), /^403 SMOKEMESH_E_POLICY: host "10\.0\.0\.1" is not allowed by the task policy/);
  assert.match(code(() => service.create({ ...mtr(['a']), kind: 'bash' })), /^400 SMOKEMESH_E_PARAM: kind: unknown task kind "bash"/);
  settings.enabled = false;
  assert.match(code(() => service.create(mtr(['a']))), /^403 SMOKEMESH_E_POLICY: tasks are disabled/);
});

test('an agent that is down or unknown gets a final status at once; the task does not wait for it', () => {
  const { service } = setup();
  const rec = service.create(mtr(['down', 'ghost']));
  assert.equal(rec.state, 'finished');
  assert.deepEqual(rec.results.map((r) => [r.agent, r.status, r.error]), [
    ['down', 'agent_down', 'agent "down" is down: the task was not sent'],
    ['ghost', 'refused', 'agent "ghost" is not known to this server'],
  ]);
});

test('deadlines: not fetched within pickup_s, no result in time, agent gone while running', async () => {
  const { service, advance, alive } = setup({ pickup_s: 30 } as Partial<TasksConfig>);
  const never = service.create(mtr(['b']));
  advance(29_000);
  assert.equal(service.get(never.id)!.results[0]!.status, 'queued');
  advance(2_000);
  assert.equal(service.get(never.id)!.results[0]!.status, 'timeout');
  assert.match(service.get(never.id)!.results[0]!.error!, /did not fetch the task within 30 s/);

  const slow = service.create(mtr(['a'], { count: 1, grace: 1 }));
  await service.take('a', 0);
  advance(12_000 + 15_000);
  assert.equal(service.get(slow.id)!.results[0]!.status, 'running');
  advance(2_000);
  const r = service.get(slow.id)!.results[0]!;
  assert.equal(r.status, 'timeout');
  assert.match(r.error!, /no result from agent "a" within 27 s/);
  // A result that comes late is still the truth.
  service.report('a', [{ id: slow.id, ok: true, started: 0, finished: 0, output: parseMtrJson(fixture('mtr-clean').out) }]);
  assert.equal(service.get(slow.id)!.results[0]!.status, 'done');

  const gone = service.create(mtr(['b']));
  await service.take('b', 0);
  alive.set('b', false);
  advance(1000);
  assert.deepEqual([service.get(gone.id)!.results[0]!.status, service.get(gone.id)!.results[0]!.error], ['agent_down', 'agent "b" went down while running the task']);
});

test('per-agent limits: concurrency (the rest wait), queue length and tasks per minute (refused)', async () => {
  const { service, advance } = setup({ pickup_s: 3600, per_agent: { concurrency: 2, queue: 3, per_minute: 4 } } as Partial<TasksConfig>);
  const ids = [1, 2, 3].map(() => service.create(mtr(['a'])).id);
  const first = await service.take('a', 0);
  assert.equal(first.length, 2, 'two at once');
  assert.deepEqual(await service.take('a', 0), [], 'the third waits for a free slot');
  service.report('a', [{ id: ids[0]!, ok: false, started: 0, finished: 0, error: 'boom' }]);
  assert.deepEqual((await service.take('a', 0)).map((j) => j.id), [ids[2]]);
  const fourth = service.create(mtr(['a']));
  assert.equal(fourth.results[0]!.status, 'queued');
  const fifth = service.create(mtr(['a']));
  assert.equal(fifth.results[0]!.status, 'refused');
  assert.match(fifth.results[0]!.error!, /was given 4 tasks in the last minute \(tasks\.per_agent\.per_minute: 4\)/);
  advance(61_000);
  assert.equal(service.create(mtr(['a'])).results[0]!.status, 'queued');
  assert.equal(service.create(mtr(['a'])).results[0]!.status, 'queued');
  assert.match(service.create(mtr(['a'])).results[0]!.error!, /has 3 tasks waiting \(tasks\.per_agent\.queue: 3\)/);
});

test('the record survives a restart: unfinished parts become timeouts; the file is mode 600; old tasks are pruned', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sm-tasks-'));
  const file = join(dir, 'tasks.sqlite');
  const one = setup({}, file);
  const rec = one.service.create(mtr(['a', 'down']));
  one.service.close();
  one.db.close();
  assert.equal(statSync(file).mode & 0o777, 0o600);
  const two = setup({ retention_days: 1 } as Partial<TasksConfig>, file);
  const after = two.service.get(rec.id)!;
  assert.equal(after.state, 'finished');
  assert.deepEqual(after.results.map((r) => r.status), ['timeout', 'agent_down']);
  assert.equal(after.results[0]!.error, 'the server restarted before the result came');
  assert.equal(after.created_by, 'admin@127.0.0.1');
  assert.equal(two.service.list({ limit: 10 }).length, 1);
  assert.equal(two.db.prune(two.now() + 2 * 86_400_000), 1);
  assert.equal(two.service.get(rec.id), undefined);
  two.service.close();
  two.db.close();
});
