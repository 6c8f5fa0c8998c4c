/**
 * Optional authentication of the read side (general.read_auth): the UI and every API route
 * then need a credential, namely a login session (users file, scrypt hashes), the read token,
 * or the admin token, all sent as `Authorization: Bearer …` except the session, which is an
 * HttpOnly, SameSite=Strict cookie set by the login page. Exempt: the agent API (its own
 * HMAC signatures), /health unless `health: protected`, /metrics unless a metrics token is
 * set (then that token, or any read credential). Off when the section is absent.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { readSecretFile, readUsers, verifyPassword } from '../auth/users.ts';
import type { Config } from '../config/loader.ts';
import type { IssueAt } from '../config/section.ts';
import { SmokemeshError, errorBody } from '../errors.ts';
import { loginPage } from './login-page.ts';

type Settings = NonNullable<Config['general']['read_auth']>;

/** The credentials in force, read from the files the config names. */
export interface ReadAuth {
  settings: Settings;
  readToken?: string;
  metricsToken?: string;
}

const COOKIE = 'smokemesh_session';
/** Routes under this prefix are the agent API: signed with each agent's secret instead. */
const AGENT_PREFIX = '/api/v1/agent/';
/** Most sessions kept; the oldest go first. */
const MAX_SESSIONS = 10_000;
/** Most password checks running at once (each costs 32 MiB and ~0.1 s of a core). */
const MAX_VERIFYING = 4;

function readToken(file: string, what: string): string {
  const token = readSecretFile(file, what).trim();
  if (token.length < 16) throw new SmokemeshError('SMOKEMESH_E_CONFIG', `${file}: the ${what} must be at least 16 characters`);
  return token;
}

/**
 * Reads the files of general.read_auth (undefined when the section is absent); reports each
 * file that is missing, unsafe (readable by group or others) or malformed at its field, and
 * the section when neither users_file nor token_file is set. Undefined too when it reported.
 */
export function readReadAuth(config: Config, issue: IssueAt): ReadAuth | undefined {
  const s = config.general.read_auth;
  if (!s) return undefined;
  let ok = true;
  const at = (field: string, f: () => void) => {
    try { f(); } catch (e) { ok = false; issue(['general', 'read_auth', field], (e as Error).message); }
  };
  if (!s.users_file && !s.token_file) {
    issue(['general', 'read_auth'], 'set users_file (people log in) or token_file (a bearer token), or both');
    return undefined;
  }
  const out: ReadAuth = { settings: s };
  if (s.users_file) at('users_file', () => readUsers(s.users_file!));
  if (s.token_file) at('token_file', () => { out.readToken = readToken(s.token_file!, 'read token file'); });
  if (s.metrics_token_file) at('metrics_token_file', () => { out.metricsToken = readToken(s.metrics_token_file!, 'metrics token file'); });
  return ok ? out : undefined;
}

/** readReadAuth for a config already judged (start, reload): throws SMOKEMESH_E_CONFIG if a file changed since. */
export function loadReadAuth(config: Config): ReadAuth | undefined {
  const problems: string[] = [];
  const out = readReadAuth(config, (path, message) => problems.push(`${path.join('.')}: ${message}`));
  if (problems.length) throw new SmokemeshError('SMOKEMESH_E_CONFIG', problems.join('; '));
  return out;
}

/** Constant-time equality of two secrets of any length (both are hashed first). */
export function sameSecret(a: string, b: string): boolean {
  const h = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(h(a), h(b));
}

/** Login sessions in memory: random ids, kept by their hash, each with an absolute expiry. */
export class Sessions {
  private readonly byHash = new Map<string, { user: string; expires: number }>();
  constructor(private readonly now: () => number = Date.now) {}

  /** Starts a session for `user` lasting `ms`; returns its id (the cookie value). */
  create(user: string, ms: number): string {
    const id = randomBytes(32).toString('base64url');
    if (this.byHash.size >= MAX_SESSIONS) this.byHash.delete(this.byHash.keys().next().value!);
    this.byHash.set(hashId(id), { user, expires: this.now() + ms });
    return id;
  }

  /** The user of a live session, or undefined (unknown or expired: an expired one is dropped). */
  user(id: string): string | undefined {
    const k = hashId(id);
    const s = this.byHash.get(k);
    if (!s) return undefined;
    if (s.expires <= this.now()) { this.byHash.delete(k); return undefined; }
    return s.user;
  }

  end(id: string): void {
    this.byHash.delete(hashId(id));
  }
}

// The map is keyed by a hash of the id, so lookups never compare secret ids byte by byte.
function hashId(id: string): string {
  return createHash('sha256').update(id).digest('base64url');
}

/** The value of cookie `name` in a Cookie header. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** Where to go after a login: a path of this server only (never `//host` or a scheme). */
export function safeNext(next: unknown): string {
  return typeof next === 'string' && /^\/(?![/\\])[^\s]*$/.test(next) && next.length <= 2000 ? next : '/';
}

/** The path of the login page from `path`, relative, so that a reverse proxy's prefix is kept. */
function loginFrom(path: string): string {
  const depth = path.split('/').length - 2;
  return `./${'../'.repeat(Math.max(0, depth))}login`;
}

/**
 * Installs read authentication on `app` (before any route is registered): the gate on every
 * request and the /login and /logout routes. `current()` gives the credentials in force (they
 * follow reloads); undefined means read auth is off and everything stays open as before.
 */
export async function installReadAuth(app: FastifyInstance, o: { current: () => ReadAuth | undefined; adminToken: string; log: Logger }): Promise<void> {
  const sessions = new Sessions();
  let verifying = 0;

  const credential = (req: FastifyRequest, auth: ReadAuth, extra?: string): string | undefined => {
    const m = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
    if (m) {
      const t = m[1]!;
      // Every comparison runs, whatever matches: the time taken does not tell which token it was.
      const admin = sameSecret(t, o.adminToken);
      const read = auth.readToken !== undefined && sameSecret(t, auth.readToken);
      const more = extra !== undefined && sameSecret(t, extra);
      if (admin || read || more) return admin ? 'admin token' : read ? 'read token' : 'metrics token';
    }
    const id = cookieValue(req.headers.cookie, COOKIE);
    return id ? sessions.user(id) : undefined;
  };

  app.addHook('onRequest', async (req, reply) => {
    const auth = o.current();
    if (!auth) return;
    const route = req.routeOptions.url;
    if (route?.startsWith(AGENT_PREFIX) || route === '/login' || route === '/logout') return;
    if (route === '/health' && auth.settings.health === 'open') return;
    if (route === '/metrics' && auth.metricsToken === undefined) return;
    if (credential(req, auth, route === '/metrics' ? auth.metricsToken : undefined)) return;
    const path = req.url.split('?')[0]!;
    if ((req.method === 'GET' || req.method === 'HEAD') && !path.startsWith('/api/') && route !== '/metrics' && route !== '/health') {
      return reply.redirect(`${loginFrom(path)}?next=${encodeURIComponent(req.url)}`, 302);
    }
    return reply.code(401)
      .header('www-authenticate', 'Bearer realm="smokemesh"')
      .header('x-smokemesh-login', 'required')
      .send(errorBody('SMOKEMESH_E_AUTH', 'this server requires a login for reading: log in at /login, or send "Authorization: Bearer <read token>"'));
  });

  await app.register(async (scope) => {
    scope.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 8192 },
      (_req, body, done) => done(null, Object.fromEntries(new URLSearchParams(body as string))));

    scope.get('/login', { schema: { hide: true } }, async (req, reply) => {
      const q = req.query as { next?: string; failed?: string };
      const auth = o.current();
      return reply.type('text/html; charset=utf-8').header('cache-control', 'no-store')
        .send(loginPage({ failed: q.failed !== undefined, next: safeNext(q.next), users: Boolean(auth?.settings.users_file) }));
    });

    scope.post('/login', { schema: { hide: true }, bodyLimit: 8192 }, async (req, reply) => {
      const auth = o.current();
      const b = (req.body ?? {}) as { user?: unknown; password?: unknown; next?: unknown };
      const form = !String(req.headers['content-type'] ?? '').includes('json');
      const next = safeNext(b.next);
      if (!auth) return reply.redirect(next, 303);
      const user = typeof b.user === 'string' ? b.user.trim() : '';
      const password = typeof b.password === 'string' ? b.password : '';
      if (verifying >= MAX_VERIFYING) return reply.code(429).send(errorBody('SMOKEMESH_E_AUTH', 'too many logins at once; try again in a moment'));
      verifying++;
      let who: string | undefined;
      try {
        who = await check(auth, user, password);
      } finally {
        verifying--;
      }
      if (!who) {
        o.log.warn({ user, ip: req.ip }, 'SMOKEMESH_E_AUTH: login refused');
        if (form) return reply.redirect(`login?failed=1&next=${encodeURIComponent(next)}`, 303);
        return reply.code(401).send(errorBody('SMOKEMESH_E_AUTH', 'wrong user name or password'));
      }
      const ms = auth.settings.session_hours * 3_600_000;
      const id = sessions.create(who, ms);
      o.log.info({ user: who, ip: req.ip }, 'logged in');
      reply.header('set-cookie', `${COOKIE}=${id}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${Math.floor(ms / 1000)}${req.protocol === 'https' ? '; Secure' : ''}`);
      return form ? reply.redirect(next, 303) : reply.send({ user: who });
    });

    scope.post('/logout', { schema: { hide: true } }, async (req, reply) => {
      const id = cookieValue(req.headers.cookie, COOKIE);
      if (id) sessions.end(id);
      reply.header('set-cookie', `${COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0`);
      return reply.redirect('login', 303);
    });
  });

  /**
   * The user a login names, or undefined. A user name with a password is checked against the
   * users file (read afresh, so `smokemesh user add` needs no restart); an empty user name with
   * the read or admin token as password logs in too (the only way when there is no users file).
   */
  async function check(auth: ReadAuth, user: string, password: string): Promise<string | undefined> {
    if (user === '') {
      const admin = sameSecret(password, o.adminToken);
      const read = auth.readToken !== undefined && sameSecret(password, auth.readToken);
      return admin ? 'admin token' : read ? 'read token' : undefined;
    }
    let hash: string | undefined;
    if (auth.settings.users_file) {
      try {
        hash = readUsers(auth.settings.users_file).get(user);
      } catch (e) {
        o.log.error({ err: e }, 'the users file cannot be read (or is readable by others); nobody can log in with a password');
      }
    }
    return (await verifyPassword(password, hash)) ? user : undefined;
  }
}

