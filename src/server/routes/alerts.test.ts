import { test } from 'node:test';
import assert from 'node:assert/strict';
import Fastify from 'fastify';
import { createAlerts } from '../../alerts/index.ts';
import { alertRoutes } from './alerts.ts';
import { configIn, round, silentLog, storeIn, tempDir, writeHook } from '../../alerts/testkit.ts';
import type { ServerContext } from '../context.ts';

test('routes: silences (admin only), history, deliveries and active alerts', async () => {
  const dir = tempDir();
  const hook = writeHook(dir);
  const config = configIn(dir, `
general: { pings: 5, step: 5, data_dir: ./data }
alerts:
  to: "|${hook.path}"
  lossy: { type: loss, pattern: ">50%", edgetrigger: yes, comment: down }
targets:
  interval: 500
  children:
    Core:
      labels: { site: fra }
      alerts: [lossy]
      children:
        r1: { host: 127.0.0.1 }
        r2: { host: 127.0.0.2 }
`);
  const store = storeIn(dir, config);
  const alerts = createAlerts({ config, store, log: silentLog, builtinAgent: 'srv' });
  const ctx = {
    config: () => config, targets: () => config.targets, store, log: silentLog, builtinAgent: 'srv', agents: () => [], localAgents: () => [],
    requireAdmin: async (req, reply) => {
      if (req.headers.authorization !== 'Bearer t0ken') await reply.code(401).send({ code: 'SMOKEMESH_E_AUTH', error: 'admin token required' });
    },
    reload: async () => ({ errors: [], warnings: [] }), onReload: () => {},
  } as ServerContext;
  const app = Fastify();
  await app.register(async (scope) => alertRoutes({ engine: () => alerts.engine, db: alerts.db, dispatcher: alerts.dispatcher, agentEvents: alerts.agentEvents })(scope, ctx));

  const body = { target: '/Core/r*', labels: { site: 'fra' }, duration_s: 3600, comment: 'maintenance' };
  assert.equal((await app.inject({ method: 'POST', url: '/api/v1/silences', payload: body })).statusCode, 401);
  const bad = await app.inject({ method: 'POST', url: '/api/v1/silences', headers: { authorization: 'Bearer t0ken' }, payload: { comment: 'everything' , duration_s: 60 } });
  assert.equal(bad.statusCode, 400);
  assert.match(bad.json().error, /at least one of target/);
  const created = await app.inject({ method: 'POST', url: '/api/v1/silences', headers: { authorization: 'Bearer t0ken' }, payload: body });
  assert.equal(created.statusCode, 201);
  const silence = created.json() as { id: string };

  const now = Math.floor(Date.now() / 5000) * 5000;
  const rounds = [round('/Core/r1', 'srv', now, 5, 5), round('/Core/r2', 'srv', now, 5, 0)];
  store.write(rounds);
  alerts.sink.write(rounds);
  await alerts.dispatcher.idle();
  assert.equal(hook.calls().length, 0, 'silenced: not sent');

  const history = (await app.inject({ url: '/api/v1/alerts/history?target=/Core/r1' })).json() as { state: string; muted_by: string }[];
  assert.deepEqual(history.map((e) => [e.state, e.muted_by]), [['raised', silence.id]]);
  const deliveries = (await app.inject({ url: '/api/v1/alerts/deliveries?status=silenced' })).json() as { channel: string }[];
  assert.deepEqual(deliveries.map((d) => d.channel), [`|${hook.path}`]);
  const active = (await app.inject({ url: '/api/v1/alerts/active' })).json() as { target: string; alert: string }[];
  assert.deepEqual(active.map((a) => `${a.target}:${a.alert}`), ['/Core/r1:lossy']);
  const overview = (await app.inject({ url: '/api/v1/alerts' })).json() as { rules: { name: string }[]; channels: { name: string }[] };
  assert.deepEqual(overview.rules.map((r) => r.name), ['lossy']);
  assert.deepEqual(overview.channels.map((c) => c.name), [`|${hook.path}`]);

  assert.equal((await app.inject({ method: 'DELETE', url: `/api/v1/silences/${silence.id}` })).statusCode, 401);
  assert.equal((await app.inject({ method: 'DELETE', url: `/api/v1/silences/${silence.id}`, headers: { authorization: 'Bearer t0ken' } })).statusCode, 204);
  assert.deepEqual((await app.inject({ url: '/api/v1/silences' })).json(), []);

  // Unsilenced now: the clear is delivered.
  const next = [round('/Core/r1', 'srv', now + 5000, 5, 0)];
  store.write(next);
  alerts.sink.write(next);
  await alerts.dispatcher.idle();
  assert.deepEqual(hook.calls().map((c) => c.args[5]), ['0']);
  await app.close();
  await alerts.close();
  store.close();
});
