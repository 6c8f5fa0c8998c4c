import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import fastifyStatic from '@fastify/static';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import pino, { type Logger } from 'pino';
import type { Config } from '../config/loader.ts';
import { parseListen } from '../config/core-sections.ts';
import { ConfigError, SmokemeshError, errorBody, formatIssue, httpStatusOf } from '../errors.ts';
import { BuiltinAgent } from '../agent/builtin.ts';
import { LiveMesh } from '../plan/live.ts';
import { ensurePrivateDir } from '../private-files.ts';
import { openBackend } from '../store/index.ts';
import type { Store } from '../store/types.ts';
import { bearerMatches, loadAdminToken } from './admin-token.ts';
import { validateConfig } from './config-sections.ts';
import { ConfigValidator } from './config-thread.ts';
import type { AgentInfo, ReloadResult, ServerContext, ServerModule } from './context.ts';
import { installReadAuth, loadReadAuth } from './read-auth.ts';
import { Ingest } from './ingest.ts';
import { extraModules } from './modules.ts';
import { coreRoutes } from './routes/core.ts';
import { openApiPlugin, registerCompression } from './api/index.ts';
import { packageRoot } from '../package-root.ts';
import { httpsOptions } from './server-files.ts';

export { VERSION } from '../version.ts';
import { VERSION } from '../version.ts';
// The built UI, beside src/ in a checkout and beside dist/ in a release.
const WEB_DIST = join(packageRoot(), 'web/dist');

export interface ServerOptions {
  configFile: string;
  /** Overrides general.listen (tests use 127.0.0.1:0). */
  listen?: string;
  /** Overrides general.data_dir. */
  dataDir?: string;
  logger?: Logger;
  /** The clock localization steps and held alerts follow (a simulation drives its own); Date.now by default. */
  clock?: () => number;
}

export interface RunningServer {
  app: FastifyInstance;
  ctx: ServerContext;
  ingest: Ingest;
  agent: BuiltinAgent;
  /** Base URL the server listens on, e.g. http://127.0.0.1:8888 */
  url: string;
  adminToken: string;
  /** The concerns plugged in (tests reach a module by its name). */
  modules: ServerModule[];
  close(): Promise<void>;
}

/**
 * Validates the config (every section, validateConfig: a problem stops the start with its
 * file:line:column errors), opens the store, starts the built-in agent and the HTTP server.
 */
export async function startServer(opts: ServerOptions): Promise<RunningServer> {
  const overrides = { listen: opts.listen, dataDir: opts.dataDir };
  // On this thread: nothing is served yet, so there is no event loop to keep free.
  const first = validateConfig(opts.configFile, overrides);
  if (!first.config) throw new ConfigError(first.issues);
  let config = first.config;
  const log = opts.logger ?? pino({ level: config.general.log_level, base: undefined });
  if (first.warnings.length) log.warn({ warnings: first.warnings.map(formatIssue) }, 'config warnings');
  const https = httpsOptions(config); // before anything is opened: a bad key file stops the start cleanly
  const dataDir = resolve(config.general.data_dir);
  ensurePrivateDir(dataDir, (m) => log.warn(m));
  const { token: adminToken, created } = loadAdminToken(config.general.admin_token_file ?? join(dataDir, 'admin.token'));
  if (created) log.info({ file: join(dataDir, 'admin.token') }, 'created the admin token (needed for state-changing API calls)');
  let readAuth = loadReadAuth(config); // off unless general.read_auth is set

  const store: Store = openBackend(dataDir, config.store, log);
  const ingest = new Ingest(store, [], log);
  const builtinName = config.general.agent_name ?? hostname();
  const reloadListeners: ((c: Config) => void)[] = [];
  let reloading: Promise<ReloadResult> = Promise.resolve({ errors: [], warnings: [] });
  const validator = new ConfigValidator();
  /**
   * Parses and checks the file on a worker thread (a 40k-target file takes seconds), then
   * applies it here: the listeners (alert engine, agents' plans, built-in agent, mesh).
   */
  const reload = async (): Promise<ReloadResult> => {
    const t0 = performance.now();
    const verdict = await validator.validate(opts.configFile, overrides);
    const t1 = performance.now();
    const warnings = verdict.warnings.map(formatIssue);
    if (!verdict.config) return { errors: verdict.issues.map(formatIssue), warnings };
    if (warnings.length) log.warn({ warnings }, 'config warnings');
    config = verdict.config;
    const ms = (x: number) => Math.round(x);
    const steps: number[] = [];
    for (const l of reloadListeners) {
      // One module per event-loop turn: requests are served between them (each is O(targets)).
      await new Promise((r) => setImmediate(r));
      const s0 = performance.now();
      try {
        l(config);
      } catch (e) {
        log.error({ err: e }, 'a module could not take the reloaded config; it keeps its previous state');
      }
      steps.push(ms(performance.now() - s0));
    }
    log.info({ file: opts.configFile, check_ms: ms(t1 - t0), apply_ms: ms(performance.now() - t1), apply_steps_ms: steps }, 'config reloaded');
    return { errors: [], warnings };
  };
  const agentSources: (() => AgentInfo[])[] = [];
  let agentView: ((local: AgentInfo[]) => AgentInfo[]) | undefined;

  const agent = new BuiltinAgent({ name: builtinName, region: config.general.region ?? 'default', log, ingest, outboxDir: join(dataDir, 'outbox') });
  // The live tree: the config's targets plus the mesh nodes of the live agents (a derived view).
  const live = new LiveMesh(() => ctx.agents());

  const ctx: ServerContext = {
    config: () => config,
    targets: () => live.tree(config),
    store,
    log,
    builtinAgent: builtinName,
    localAgents: (): AgentInfo[] => [agent.info(), ...agentSources.flatMap((list) => list())],
    agents: (): AgentInfo[] => (agentView ? agentView(ctx.localAgents()) : ctx.localAgents()),
    requireAdmin: async (req, reply) => {
      if (!bearerMatches(req.headers.authorization, adminToken)) {
        await reply.code(401).send(errorBody('SMOKEMESH_E_AUTH', 'admin token required: send "Authorization: Bearer <token>" (the token is in the admin token file, by default <data_dir>/admin.token)'));
      }
    },
    // Reloads run one after another; each reads the file as it is then.
    reload: () => (reloading = reloading.then(reload, reload)),
    onReload: (l) => reloadListeners.push(l),
    now: opts.clock ?? Date.now,
  };

  const app = Fastify({ ...https, loggerInstance: log.child({ module: 'http' }) as unknown as FastifyBaseLogger, logController: new LogController({ disableRequestLogging: true }), bodyLimit: 16 * 1024 * 1024 });
  app.setErrorHandler((err: Error & { statusCode?: number; code?: string; validation?: unknown }, req, reply) => {
    const status = err.statusCode ?? (err instanceof SmokemeshError ? httpStatusOf(err.code) : 500);
    if (status >= 500) log.error({ err, url: req.url }, 'request failed');
    void reply.code(status).send({ code: err instanceof SmokemeshError ? err.code : err.code ?? 'SMOKEMESH_E_INTERNAL', error: err.message });
  });

  ctx.onReload((c) => {
    try {
      readAuth = loadReadAuth(c);
    } catch (e) {
      log.error({ err: e }, 'read authentication: the new settings could not be read; the previous ones stay');
    }
  });
  // Before any route, so that the gate covers every one of them (the UI's files too).
  await installReadAuth(app, { current: () => readAuth, adminToken, log });
  const modules = await extraModules({ ctx, ingest, log, live, builtin: agent });
  for (const m of modules) {
    if (m.sink) ingest.add(m.sink);
    if (m.agents) agentSources.push(m.agents);
    if (m.agentView) agentView = m.agentView;
  }
  // Before any route and the static files: both attach themselves to routes as they are added
  // (and the OpenAPI description then covers every concern's routes).
  await registerCompression(app);
  await app.register(openApiPlugin);
  await app.register(async (scope) => {
    await coreRoutes(scope, ctx);
    for (const m of modules) if (m.routes) await m.routes(scope, ctx);
  });
  if (existsSync(join(WEB_DIST, 'index.html'))) {
    // preCompressed: the build's .br/.gz files (web/vite.config.ts) go out as they are.
    await app.register(fastifyStatic, { root: WEB_DIST, prefix: '/', wildcard: false, preCompressed: true });
    app.setNotFoundHandler((req, reply) => {
      if (req.method === 'GET' && !req.url.startsWith('/api/')) return reply.sendFile('index.html');
      return reply.code(404).send(errorBody('SMOKEMESH_E_NOT_FOUND', `no route ${req.method} ${req.url.split('?')[0]}`));
    });
  }

  const listen = parseListen(config.general.listen);
  if (!listen) throw new SmokemeshError('SMOKEMESH_E_CONFIG', `--listen: "${config.general.listen}" is not host:port`);
  const { host, port } = listen;
  let address: string;
  try {
    address = await app.listen({ host, port });
  } catch (e) {
    await agent.stop();
    for (const m of modules) await m.close?.();
    store.close();
    await validator.close();
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'EADDRINUSE' ? 'the address is already in use (another smokemesh?)'
      : code === 'EACCES' ? 'permission denied (ports below 1024 need privileges)'
      : code === 'EADDRNOTAVAIL' ? 'no interface of this machine has that address'
      : (e as Error).message;
    throw new SmokemeshError('SMOKEMESH_E_CONFIG', `cannot listen on ${config.general.listen} (general.listen or --listen): ${why}`, { cause: e });
  }
  const url = address.replace('0.0.0.0', '127.0.0.1').replace('[::]', '[::1]');
  log.info({ url, agent: builtinName, data_dir: dataDir }, `smokemesh ${VERSION} listening`);

  await agent.setPlan(ctx.targets(), live.peers());
  ctx.onReload(() => void agent.setPlan(ctx.targets(), live.peers()));

  let closed = false;
  return {
    app, ctx, ingest, agent, url, adminToken, modules,
    async close() {
      if (closed) return;
      closed = true;
      await agent.stop();
      await app.close();
      await validator.close();
      await ingest.drain();
      for (const m of modules) await m.close?.();
      store.close();
    },
  };
}
