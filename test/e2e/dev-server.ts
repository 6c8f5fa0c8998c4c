import { mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import Fastify, { type FastifyInstance } from 'fastify';
import pino from 'pino';
import type { Config } from '../../src/config/loader.ts';
import { formatIssue } from '../../src/errors.ts';
import { validateConfigText } from '../../src/server/config-sections.ts';
import { openStore } from '../../src/store/index.ts';
import type { Store } from '../../src/store/types.ts';
import type { Round } from '../../src/probes/round.ts';
import type { AgentInfo, ServerContext } from '../../src/server/context.ts';
import { apiRoutes, openApiPlugin, registerCompression } from '../../src/server/api/index.ts';

const WEB_DIST = resolve(dirname(fileURLToPath(import.meta.url)), '../../web/dist');

export interface DevServer {
  url: string;
  app: FastifyInstance;
  store: Store;
  config: Config;
  dir: string;
  close(): Promise<void>;
}

/**
 * The read API and the built UI over a real SQLite store in a temp dir, without probing:
 * for API tests, UI development and benchmarks that need months of synthetic history.
 * Errors answer in the server's `{ code, error }` shape.
 */
export async function startDevServer(opts: {
  configYaml: string;
  agents?: AgentInfo[];
  rounds?: Iterable<Round>;
  /** Routes of other concerns, registered before the read API (to check the OpenAPI collector sees them). */
  otherRoutes?: (app: FastifyInstance) => void;
  /** Answer 401 to every /api request without "Authorization: Bearer <readToken>" (a server that wants a login). */
  readToken?: string;
}): Promise<DevServer> {
  const dir = mkdtempSync(join(tmpdir(), 'smokemesh-ui-'));
  writeFileSync(join(dir, 'smokemesh.yaml'), opts.configYaml);
  // Judged as the server judges it: every section, defaults filled in (presentation, tasks…).
  const verdict = validateConfigText(opts.configYaml, join(dir, 'smokemesh.yaml'));
  if (!verdict.config) throw new Error(verdict.issues.map(formatIssue).join('\n'));
  const config = verdict.config;
  // The store keeps raw rounds only for raw_days and refuses older ones, so while history is
  // written its clock follows the rounds (as if they arrived live), then returns to real time.
  let simulated: number | undefined;
  const store = openStore(dir, config.store, undefined, { timers: false, now: () => simulated ?? Date.now() });
  if (opts.rounds) {
    let batch: Round[] = [];
    const flush = () => {
      simulated = Math.max(...batch.map((r) => r.time)) + 1;
      store.write(batch);
      batch = [];
    };
    for (const r of opts.rounds) {
      batch.push(r);
      if (batch.length >= 2000) flush();
    }
    if (batch.length) flush();
    simulated = undefined;
  }
  const log = pino({ level: 'silent' });
  const agents = opts.agents ?? [{ name: 'local', region: 'default', labels: {}, addresses: ['127.0.0.1'], alive: true, builtin: true }];
  const ctx: ServerContext = {
    config: () => config, targets: () => config.targets, store, log, agents: () => agents, localAgents: () => agents, builtinAgent: agents[0]!.name,
    requireAdmin: async (_req, reply) => { await reply.code(401).send({ code: 'SMOKEMESH_E_AUTH', error: 'admin token required' }); },
    reload: async () => ({ errors: [], warnings: [] }), onReload: () => {},
  };
  const app = Fastify();
  app.setErrorHandler((err: Error & { statusCode?: number; code?: string }, _req, reply) => {
    void reply.code(err.statusCode ?? 500).send({ code: err.code ?? 'SMOKEMESH_E_INTERNAL', error: err.message });
  });
  await registerCompression(app);
  if (opts.readToken) {
    const token = opts.readToken;
    app.addHook('onRequest', async (req, reply) => {
      if (req.url.startsWith('/api/') && req.headers.authorization !== `Bearer ${token}`) {
        await reply.code(401).send({ code: 'SMOKEMESH_E_AUTH', error: 'sign in to read this server' });
      }
    });
  }
  await app.register(openApiPlugin);
  if (opts.otherRoutes) await app.register(async (scope) => opts.otherRoutes!(scope));
  await app.register(async (scope) => { await apiRoutes(scope, ctx); });
  if (existsSync(join(WEB_DIST, 'index.html'))) await app.register(fastifyStatic, { root: WEB_DIST, prefix: '/', wildcard: false, preCompressed: true });
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  return {
    url, app, store, config, dir,
    async close() {
      await app.close();
      store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
