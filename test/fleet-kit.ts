// A fleet for self-upgrade tests: real releases built here, each agent installed with the
// release's own install.sh into a prefix of its own (away from the checkout) and run under its
// supervisor, and a real server on loopback. Every refusal and roll back happen in the agents.
import { execFileSync, spawn } from 'node:child_process';
import { createPrivateKey } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildRelease, buildWeb } from '../src/release/build.ts';
import type { Rollout } from '../src/release/rollout.ts';
import { generateReleaseKeys, sha256, signRelease } from '../src/release/signing.ts';
import { packRelease, readReleaseInfo } from '../src/release/tarball.ts';
import { waitFor } from './wait.ts';
import { freePort, getJson, loopbackConfig, seriesPoints, startServer, writeSecret, Proc } from './agents-kit.ts';

const root = fileURLToPath(new URL('..', import.meta.url));

export interface FleetOptions {
  /** Agent names, each installed from the first version. */
  names: string[];
  /** Versions to build, the first installed on every agent. */
  versions: string[];
  /** JavaScript put first in a version's dist/cli.js (it still passes its `--version` self-test). */
  patches?: Record<string, string>;
}

export class Fleet {
  readonly dir = mkdtempSync(join(tmpdir(), 'sm-fleet-'));
  readonly keys = generateReleaseKeys();
  readonly files: Record<string, string> = {};
  readonly agents: Record<string, Proc> = {};
  base = '';
  token = '';
  server!: Proc;
  private listener?: Server;

  constructor(readonly o: FleetOptions) {}

  /** Builds the releases, starts the server and every agent on the first version; resolves once each has rounds stored. */
  async start(): Promise<void> {
    const { dir } = this;
    const rel = join(dir, 'releases');
    const web = buildWeb(root);
    mkdirSync(rel);
    for (const v of this.o.versions) this.files[v] = (await buildRelease({ root, outDir: rel, version: v, webDist: web })).file;
    for (const [v, js] of Object.entries(this.o.patches ?? {})) {
      const unpacked = join(dir, `patch-${v}`);
      mkdirSync(unpacked);
      execFileSync('tar', ['-xzf', this.files[v]!, '-C', unpacked]);
      const cli = join(unpacked, `smokemesh-${v}`, 'dist', 'cli.js');
      writeFileSync(cli, js + readFileSync(cli, 'utf8'));
      await packRelease(unpacked, `smokemesh-${v}`, this.files[v]!, Date.now());
    }

    const listener = (this.listener = createServer((s) => s.destroy()));
    await new Promise<void>((r) => listener.listen(0, '127.0.0.1', r));
    const targetPort = (listener.address() as { port: number }).port;
    const port = await freePort();
    this.base = `http://127.0.0.1:${port}`;
    const secrets = Object.fromEntries(this.o.names.map((n) => [n, writeSecret(dir, n)]));
    const cfg = join(dir, 'smokemesh.yaml');
    writeFileSync(cfg, loopbackConfig({ port, dataDir: join(dir, 'data'), targetPort, agents: this.o.names.map((n) => ({ name: n, secretFile: secrets[n]! })), serverProbes: false }));
    // A loaded machine may take long to start a server from the TypeScript sources.
    this.server = await startServer(cfg, { timeoutMs: 120_000 });
    this.token = readFileSync(join(dir, 'data', 'admin.token'), 'utf8').trim();
    writeFileSync(join(dir, 'release.pub'), this.keys.publicPem);

    const first = this.o.versions[0]!;
    const unpacked = join(dir, `unpack-${first}`);
    mkdirSync(unpacked);
    execFileSync('tar', ['-xzf', this.files[first]!, '-C', unpacked]);
    for (const n of this.o.names) {
      const prefix = join(dir, `prefix-${n}`);
      execFileSync(join(unpacked, `smokemesh-${first}`, 'install.sh'), ['--prefix', prefix, '--bin-dir', join(prefix, 'bin'), '--config-dir', join(prefix, 'etc'), '--no-user', '--no-systemd'], { stdio: 'pipe' });
      this.agents[n] = new Proc(spawn(process.execPath, [join(prefix, 'current', 'bin', 'smokemesh.js'), 'agent', '--server', this.base, '--name', n,
        '--secret-file', secrets[n]!, '--spool', join(dir, `spool-${n}`), '--release-key', join(dir, 'release.pub'),
        '--upgrade-check', '1', '--upgrade-trial', '60'], { stdio: ['ignore', 'pipe', 'pipe'], cwd: dir }), n);
    }
    await waitFor(`every agent on ${first} with rounds stored`, async () => {
      const v = await this.versions();
      for (const n of this.o.names) if (v[n] !== first || (await seriesPoints(this.base, '/t1', n)).length === 0) return false;
      return true;
    }, 180_000, 500);
  }

  /** Stops the agents (SIGTERM through their supervisors, then SIGKILL) and the server. */
  async stop(): Promise<void> {
    await Promise.all(Object.values(this.agents).map(async (a) => {
      const done = await Promise.race([a.stop('SIGTERM'), new Promise((r) => setTimeout(() => r('late'), 15_000))]);
      if (done === 'late') {
        for (const pid of execFileSync('ps', ['-o', 'pid=', '--ppid', String(a.child.pid)], { encoding: 'utf8' }).split('\n').map(Number).filter(Boolean)) process.kill(pid, 'SIGKILL');
        await a.stop('SIGKILL');
      }
    }));
    await this.server?.stop('SIGKILL');
    this.listener?.close();
  }

  /** Signs a tarball with a key pair (the .sig text). */
  async sign(file: string, privatePem = this.keys.privatePem): Promise<string> {
    const { info } = await readReleaseInfo(file);
    const bytes = readFileSync(file);
    return JSON.stringify(signRelease(info, basename(file), { sha256: sha256(bytes), size: bytes.length }, createPrivateKey(privatePem)));
  }

  upload(file: string, sig: string): Promise<Response> {
    return fetch(`${this.base}/api/v1/releases/${basename(file)}`, {
      method: 'PUT', body: readFileSync(file),
      headers: { authorization: `Bearer ${this.token}`, 'content-type': 'application/octet-stream', 'x-smokemesh-signature': Buffer.from(sig).toString('base64') },
    });
  }

  async admin<T>(method: string, path: string, body?: unknown): Promise<T> {
    const r = await fetch(`${this.base}${path}`, { method, headers: { authorization: `Bearer ${this.token}`, ...(body ? { 'content-type': 'application/json' } : {}) }, ...(body ? { body: JSON.stringify(body) } : {}) });
    const text = await r.text();
    if (!r.ok) throw new Error(`${method} ${path}: HTTP ${r.status} ${text}`);
    return JSON.parse(text) as T;
  }

  rollout(id: number): Promise<Rollout> {
    return getJson<Rollout>(`${this.base}/api/v1/rollouts/${id}`);
  }

  /** Each remote agent's version as the server knows it. */
  async versions(): Promise<Record<string, string | undefined>> {
    return Object.fromEntries((await getJson<{ agents: { name: string; version?: string; builtin: boolean }[] }>(`${this.base}/api/v1/agents`)).agents
      .filter((a) => !a.builtin).map((a) => [a.name, a.version]));
  }

  /** The version an agent's prefix points at. */
  current(name: string): string {
    return basename(readlinkSync(join(this.dir, `prefix-${name}`, 'current')));
  }

  startRollout(version: string, extra: Record<string, unknown> = {}): Promise<Rollout> {
    return this.admin<Rollout>('POST', '/api/v1/rollouts', { version, canary: '1', batch: '1', wait_s: 1, timeout_s: 120, ...extra });
  }

  /** Waits until the rollout is in `state` and returns it; on a time-out, says what the agents printed. */
  async until(id: number, state: Rollout['state'], timeoutMs = 120_000): Promise<Rollout> {
    try {
      return await waitFor(`rollout ${id} to be ${state}`, async () => {
        const r = await this.rollout(id);
        return r.state === state ? r : undefined;
      }, timeoutMs, 250);
    } catch (e) {
      throw new Error(`${(e as Error).message}\n${JSON.stringify(await this.rollout(id))}\n${this.o.names.map((n) => `--- ${n}\n${this.agents[n]!.out.slice(-3000)}`).join('\n')}`);
    }
  }
}
