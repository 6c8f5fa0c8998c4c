import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { buildRelease } from '../src/release/build.ts';
import { listEntries } from '../src/release/tarball.ts';
import { WORKER_ENTRIES } from '../src/worker-entry.ts';
import { waitFor } from './wait.ts';
import { freePort, loopbackConfig, seriesPoints, writeSecret, Proc } from './agents-kit.ts';

// The built output, away from the source tree: a release tarball installed with its own
// install.sh into a temporary prefix; `smokemesh --version`, a server and an agent run from it.
const root = fileURLToPath(new URL('..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'sm-install-'));
const procs: Proc[] = [];
let listener: Server | undefined;

after(async () => {
  for (const p of procs) await p.stop('SIGKILL');
  listener?.close();
});

test('a release installs into a prefix and runs the server and an agent from the built JavaScript', async () => {
  const built = await buildRelease({ root, outDir: join(dir, 'out'), version: '9.8.7' });
  const entries = await listEntries(built.file);
  assert.ok(entries.includes('smokemesh-9.8.7/dist/cli.js') && entries.includes('smokemesh-9.8.7/systemd/smokemesh-agent.service'));
  assert.ok(!entries.some((e) => e.endsWith('.ts') && !e.endsWith('.d.ts')), 'no TypeScript in a release (type declarations of shipped packages aside)');
  assert.ok(!entries.some((e) => /node_modules\/(tsx|esbuild|typescript)\//.test(e)), 'no compiler in a release');
  for (const name of Object.keys(WORKER_ENTRIES)) assert.ok(entries.includes(`smokemesh-9.8.7/dist/workers/${name}.js`), `worker ${name} in the release`);

  mkdirSync(join(dir, 'unpack'));
  execFileSync('tar', ['-xzf', built.file, '-C', join(dir, 'unpack')]);
  const prefix = join(dir, 'opt');
  const out = execFileSync(join(dir, 'unpack', 'smokemesh-9.8.7', 'install.sh'),
    ['--prefix', prefix, '--bin-dir', join(dir, 'bin'), '--config-dir', join(dir, 'etc'), '--no-user', '--no-systemd'], { encoding: 'utf8' });
  assert.match(out, /installed smokemesh 9\.8\.7/);
  const smokemesh = join(dir, 'bin', 'smokemesh');
  // The heartbeat thread of a cluster (no PostgreSQL here): its bundle loads from the installed release and asks for its setup.
  const heartbeat = new Worker(join(prefix, 'current', 'dist', 'workers', 'heartbeat-worker.js'));
  const first = await new Promise((res, rej) => { heartbeat.once('message', res); heartbeat.once('error', rej); });
  await heartbeat.terminate();
  assert.deepEqual(first, { ready: true });
  // Run from a directory with no checkout above it: nothing can come from the source tree.
  const run = (args: string[]) => execFileSync(smokemesh, args, { encoding: 'utf8', cwd: dir }).trim();
  assert.equal(run(['--version']), '9.8.7');
  assert.match(readFileSync(join(prefix, 'units', 'smokemesh-agent.service'), 'utf8'), new RegExp(`ExecStart=\\S+ ${prefix}/current/bin/smokemesh.js agent`));
  assert.equal(statSync(join(dir, 'etc', 'smokemesh.yaml')).mode & 0o777, 0o640);

  listener = createServer((s) => s.destroy());
  await new Promise<void>((r) => listener!.listen(0, '127.0.0.1', r));
  const targetPort = (listener.address() as { port: number }).port;
  const port = await freePort();
  const secret = writeSecret(dir, 'a1');
  const cfg = join(dir, 'etc', 'smokemesh.yaml');
  writeFileSync(cfg, loopbackConfig({ port, dataDir: join(dir, 'data'), targetPort, agents: [{ name: 'a1', secretFile: secret }] }));
  const server = new Proc(spawn(smokemesh, ['server', '--config', cfg], { stdio: ['ignore', 'pipe', 'pipe'], cwd: dir }), 'server');
  procs.push(server);
  const base = `http://127.0.0.1:${port}`;
  await waitFor('the installed server to listen', () => {
    if (server.child.exitCode !== null) throw new Error(`server exited: ${server.out.slice(-2000)}`);
    return /listening/.test(server.out);
  }, 60_000);
  // Settings from the environment, as the systemd unit gives them (EnvironmentFile=agent.env).
  const agent = new Proc(spawn(smokemesh, ['agent', '--spool', join(dir, 'spool')],
    { stdio: ['ignore', 'pipe', 'pipe'], cwd: dir, env: { ...process.env, SMOKEMESH_SERVER: base, SMOKEMESH_NAME: 'a1', SMOKEMESH_SECRET_FILE: secret } }), 'a1');
  procs.push(agent);
  await waitFor('rounds of the built-in agent and of a1 stored', async () =>
    (await seriesPoints(base, '/t1', 'srv')).length > 0 && (await seriesPoints(base, '/t1', 'a1')).length > 0, 90_000, 500);
  // Worker threads run from the release's own bundles (dist/workers/): a regexp check of an
  // HTTP probe, and the validation of a reloaded config.
  const probed = JSON.parse(run(['probe', 'http', `${base}/health`, '-n', '1', '-P', 'fail_if_body_not_matches_regexp=["status"]', '--json'])) as { received: number; error?: string };
  assert.deepEqual([probed.received, probed.error], [1, undefined], 'a regexp check runs on its worker thread');
  // A failed round exits non-zero; its JSON is still printed.
  const failedRun = (() => {
    try {
      return run(['probe', 'http', `${base}/health`, '-n', '1', '-P', 'fail_if_body_matches_regexp=["status"]', '--json']);
    } catch (e) {
      return String((e as { stdout?: string }).stdout ?? '');
    }
  })();
  const failing = JSON.parse(failedRun) as { error?: string };
  assert.match(failing.error ?? '', /body matched fail_if_body_matches_regexp/);
  server.child.kill('SIGHUP');
  await waitFor('the config reloaded on its validator thread', () => /config reloaded/.test(server.out) || /could not|exited/.test(server.out.split('\n').filter((l) => l.includes('reload')).join('\n')), 60_000);
  assert.match(server.out, /config reloaded/, server.out.split('\n').filter((l) => l.includes('reload')).join('\n'));
  const ui = await fetch(`${base}/`);
  assert.equal(ui.status, 200, 'the web UI is served from the release');
  const agents = await (await fetch(`${base}/api/v1/agents`)).json() as { agents: { name: string; version?: string; upgrade?: { state: string; error?: string } }[] };
  const a1 = agents.agents.find((a) => a.name === 'a1')!;
  assert.equal(a1.version, '9.8.7');
  assert.equal(a1.upgrade?.state, 'disabled', 'no --release-key: no self-upgrade');
  assert.ok(!existsSync(join(prefix, 'agent-upgrade.json')));
});
