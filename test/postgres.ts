import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chownSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort } from './agents-kit.ts';
import { waitFor } from './wait.ts';

/** Debian's PostgreSQL (scripts/install-system-deps.sh installs it); the newest major installed. */
export function postgresBin(name: string): string {
  const r = spawnSync('sh', ['-c', 'ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1'], { encoding: 'utf8' });
  const dir = r.stdout.trim();
  if (!dir) throw new Error('PostgreSQL is not installed (run scripts/install-system-deps.sh)');
  return join(dir, name);
}

/** A private PostgreSQL cluster on 127.0.0.1 with its own temp directory. */
export interface Postgres {
  /** postgres://postgres@127.0.0.1:PORT/postgres (trust authentication, loopback only). */
  url: string;
  stop(): Promise<void>;
}

/**
 * initdb + postgres in a temp dir, listening on 127.0.0.1 and a unix socket in that dir. As
 * root, both run as the `postgres` user (PostgreSQL refuses to run as root), through setpriv.
 */
export async function startPostgres(): Promise<Postgres> {
  const dir = mkdtempSync(join(tmpdir(), 'smokemesh-pg-'));
  const asRoot = userInfo().uid === 0;
  // setpriv execs the program itself (runuser would stay its parent and not pass signals on).
  const run = (bin: string, args: string[]): [string, string[]] => asRoot
    ? ['setpriv', ['--reuid=postgres', '--regid=postgres', '--init-groups', '--', postgresBin(bin), ...args]] : [postgresBin(bin), args];
  if (asRoot) {
    const pgUser = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
    const pgGroup = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
    chownSync(dir, Number(pgUser.stdout), Number(pgGroup.stdout));
  }
  const data = join(dir, 'data');
  const [cmd, args] = run('initdb', ['-D', data, '--auth=trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8', '--locale=C']);
  const init = spawnSync(cmd, args, { encoding: 'utf8' });
  if (init.status !== 0) throw new Error(`initdb failed: ${init.stderr}`);
  // Another test's server can take the port between freePort() and our bind (ours then exits,
  // and theirs would answer for ours): wait until ours answers as itself, else try another port.
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  let url = '';
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const [pcmd, pargs] = run('postgres', ['-D', data, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', `unix_socket_directories=${dir}`,
      '-c', 'fsync=on', '-c', 'max_connections=100']);
    const c: ChildProcess = spawn(pcmd, pargs, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    c.stderr!.on('data', (d: Buffer) => { err = (err + d.toString()).slice(-2000); });
    exited = new Promise<void>((r) => c.once('exit', () => r()));
    child = c;
    url = `postgres://postgres@127.0.0.1:${port}/postgres`;
    const answer = await waitFor(`PostgreSQL on 127.0.0.1:${port} (${err})`, async () => {
      if (c.exitCode !== null) return 'exited';
      const client = new pg.Client({ connectionString: url });
      try {
        await client.connect();
        const r = await client.query<{ data_directory: string }>('SHOW data_directory');
        return r.rows[0]?.data_directory === data ? 'mine' : undefined;
      } catch {
        return undefined;
      } finally {
        await client.end().catch(() => {});
      }
    }, 60_000);
    if (answer === 'mine') break;
    if (attempt === 5) throw new Error(`PostgreSQL found no free port in ${attempt} attempts: ${err}`);
  }
  const server = child;
  return {
    url,
    stop: async () => {
      if (server.exitCode === null) server.kill('SIGINT'); // fast shutdown
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
