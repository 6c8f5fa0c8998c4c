import { existsSync, readFileSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import fastifyStatic from '@fastify/static';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import pino, { type Logger } from 'pino';
import { loadConfig, type Config } from '../config/loader.ts';
import { ConfigError, SmokemeshError, errorBody } from '../errors.ts';
import { BuiltinAgent } from '../agent/builtin.ts';
import { LiveMesh } from '../plan/live.ts';
import { ensurePrivateDir } from '../private-files.ts';
import { openBackend } from '../store/index.ts';
import type { Store } from '../store/types.ts';
import { bearerMatches, loadAdminToken } from './admin-token.ts';
import { checkReadAuth, installReadAuth, loadReadAuth } from './read-auth.ts';
import type { AgentInfo, ServerContext, ServerModule } from './context.ts';
import { Ingest } from './ingest.ts';
import { extraModules } from './modules.ts';
import { coreRoutes } from './routes/core.ts';
import { openApiPlugin, registerCompression } from './api/index.ts';
import { packageRoot } from '../package-root.ts';

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

/** Loads the config, opens the store, starts the built-in agent and the HTTP server. */
export async function startServer(opts: ServerOptions): Promise<RunningServer> {
  let config = withOverrides(loadConfig(opts.configFile), opts);
  const log = opts.logger ?? pino({ level: config.general.log_level, base: undefined });
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
  const agentSources: (() => AgentInfo[])[] = [];

  const agent = new BuiltinAgent({ name: builtinName, region: config.general.region ?? 'default', log, ingest, outboxDir: join(dataDir, 'outbox') });
  // The live tree: the config's targets plus the mesh nodes of the live agents (a derived view).
  const live = new LiveMesh(() => ctx.agents());

  const ctx: ServerContext = {
    config: () => config,
    targets: () => live.tree(config),
    store,
    log,
    builtinAgent: builtinName,
    agents: (): AgentInfo[] => [agent.info(), ...agentSources.flatMap((list) => list())],
    requireAdmin: async (req, reply) => {
      if (!bearerMatches(req.headers.authorization, adminToken)) {
        await reply.code(401).send(errorBody('SMOKEMESH_E_AUTH', 'admin token required: send "Authorization: Bearer <token>" (the token is in the admin token file, by default <data_dir>/admin.token)'));
      }
    },
    reload: async () => {
      try {
        const next = withOverrides(loadConfig(opts.configFile), opts);
        // Every concern's check runs, so one reload reports every problem at once.
        const issues = configChecks.flatMap((check) => check(next));
        if (issues.length) return issues;
        config = next;
        for (const w of configWarnings.flatMap((warn) => warn(next))) log.warn({ file: opts.configFile }, w);
      } catch (e) {
        if (e instanceof ConfigError) return e.issues.map((i) => `${i.file}:${i.line}:${i.column}: ${i.path ? i.path + ': ' : ''}${i.message}`);
        return [(e as Error).message];
      }
      for (const l of reloadListeners) l(config);
      log.info({ file: opts.configFile }, 'config reloaded');
      return [];
    },
    onReload: (l) => reloadListeners.push(l),
    now: opts.clock ?? Date.now,
  };

  const app = Fastify({ ...https, loggerInstance: log.child({ module: 'http' }) as unknown as FastifyBaseLogger, logController: new LogController({ disableRequestLogging: true }), bodyLimit: 16 * 1024 * 1024 });
  app.setErrorHandler((err: Error & { statusCode?: number; code?: string; validation?: unknown }, req, reply) => {
    const status = err.statusCode ?? (err instanceof SmokemeshError ? 400 : 500);
    if (status >= 500) log.error({ err, url: req.url }, 'request failed');
    void reply.code(status).send({ code: err instanceof SmokemeshError ? err.code : err.code ?? 'SMOKEMESH_E_INTERNAL', error: err.message });
  });

  const configChecks: ((c: Config) => string[])[] = [checkReadAuth];
  const configWarnings: ((c: Config) => string[])[] = [];
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
    if (m.check) configChecks.push(m.check);
    if (m.warn) configWarnings.push(m.warn);
    if (m.sink) ingest.add(m.sink);
    if (m.agents) agentSources.push(m.agents);
  }
  for (const w of configWarnings.flatMap((warn) => warn(config))) log.warn({ file: opts.configFile }, w);
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

  const [host, port] = splitListen(config.general.listen);
  let address: string;
  try {
    address = await app.listen({ host, port });
  } catch (e) {
    await agent.stop();
    for (const m of modules) await m.close?.();
    store.close();
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
      await ingest.drain();
      for (const m of modules) await m.close?.();
      store.close();
    },
  };
}

/** fastify's https options from general.tls, with errors that name the file. */
function httpsOptions(config: Config): { https?: { cert: Buffer; key: Buffer } } {
  const tls = config.general.tls;
  if (!tls) return {};
  const read = (file: string, field: string, secret: boolean) => {
    try {
      if (secret && (statSync(file).mode & 0o077)) {
        throw new Error(`readable by group or others (mode ${(statSync(file).mode & 0o777).toString(8)}); run chmod 600 ${file}`);
      }
      return readFileSync(file);
    } catch (e) {
      throw new SmokemeshError('SMOKEMESH_E_CONFIG', `general.tls.${field} ${file}: ${(e as Error).message}`);
    }
  };
  return { https: { cert: read(tls.cert_file, 'cert_file', false), key: read(tls.key_file, 'key_file', true) } };
}

function withOverrides(c: Config, opts: ServerOptions): Config {
  if (opts.listen) c.general.listen = opts.listen;
  if (opts.dataDir) c.general.data_dir = opts.dataDir;
  return c;
}

/** Splits `host:port` (IPv6 in brackets). */
export function splitListen(listen: string): [string, number] {
  const m = /^\[?([^\]]*?)\]?:(\d+)$/.exec(listen);
  if (!m) throw new SmokemeshError('SMOKEMESH_E_CONFIG', `general.listen: "${listen}" is not host:port`);
  return [m[1] || '0.0.0.0', Number(m[2])];
}
