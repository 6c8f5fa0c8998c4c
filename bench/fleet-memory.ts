// Memory and start-up of the built JavaScript against the TypeScript sources through tsx:
// RSS of an idle server and of an idle agent (rounds flowing, 1 target every 2 s), the
// agent's supervisor (release key given), and the wall time of `--help` and `--version`.
// The built side runs from a release installed with its install.sh into a temporary prefix.
//   npx tsx bench/fleet-memory.ts [--settle 20]
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { buildRelease } from '../src/release/build.ts';
import { generateReleaseKeys } from '../src/release/signing.ts';
import { freePort, loopbackConfig, writeSecret } from '../test/agents-kit.ts';
import { waitFor } from '../test/wait.ts';

const settleS = Number(process.argv[process.argv.indexOf('--settle') + 1]) || 20;
const root = fileURLToPath(new URL('..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'sm-fleet-bench-'));
const children: ChildProcess[] = [];
process.on('exit', () => children.forEach((c) => c.kill('SIGKILL')));

/** RSS in MiB of a process, from /proc. */
function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}
/** The pids of a process's children. */
function childrenOf(pid: number): number[] {
  try {
    return execFileSync('ps', ['-o', 'pid=', '--ppid', String(pid)], { encoding: 'utf8' }).split('\n').map(Number).filter(Boolean);
  } catch {
    return []; // ps exits 1 when there is none
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function timeIt(cmd: string, args: string[], n = 5): number {
  const t: number[] = [];
  for (let i = 0; i < n; i++) {
    const s = performance.now();
    execFileSync(cmd, args, { stdio: 'ignore', cwd: dir });
    t.push(performance.now() - s);
  }
  return median(t);
}

const listener = createServer((s) => s.destroy());
await new Promise<void>((r) => listener.listen(0, '127.0.0.1', r));
const targetPort = (listener.address() as { port: number }).port;

async function measure(label: string, argv: string[], withKey: boolean): Promise<Record<string, number>> {
  const port = await freePort();
  const data = join(dir, `data-${label}`);
  const secret = writeSecret(dir, `a-${label}`);
  const cfg = join(dir, `${label}.yaml`);
  writeFileSync(cfg, loopbackConfig({ port, dataDir: data, targetPort, agents: [{ name: 'a1', secretFile: secret, heartbeat: 5 }], serverProbes: false }));
  const server = spawn(argv[0]!, [...argv.slice(1), 'server', '--config', cfg], { stdio: ['ignore', 'pipe', 'pipe'], cwd: dir });
  children.push(server);
  let out = '';
  server.stdout!.on('data', (d) => (out += d));
  await waitFor('the server', () => /listening/.test(out), 120_000);
  const keyArgs: string[] = [];
  if (withKey) {
    writeFileSync(join(dir, 'release.pub'), generateReleaseKeys().publicPem);
    keyArgs.push('--release-key', join(dir, 'release.pub'));
  }
  const agent = spawn(argv[0]!, [...argv.slice(1), 'agent', '--server', `http://127.0.0.1:${port}`, '--name', 'a1', '--secret-file', secret,
    '--spool', join(dir, `spool-${label}`), ...keyArgs], { stdio: ['ignore', 'ignore', 'ignore'], cwd: dir });
  children.push(agent);
  await waitFor('rounds of a1', async () => {
    const r = await fetch(`http://127.0.0.1:${port}/api/v1/agent-status`);
    const j = await r.json() as { agents: { name: string; rounds_accepted?: number }[] };
    return (j.agents.find((a) => a.name === 'a1')?.rounds_accepted ?? 0) > 0;
  }, 120_000, 500);
  const s: number[] = [];
  const a: number[] = [];
  const sup: number[] = [];
  for (let i = 0; i < settleS; i++) {
    await new Promise((r) => setTimeout(r, 1000));
    s.push(rssMiB(server.pid!));
    const worker = withKey ? childrenOf(agent.pid!)[0] : undefined;
    if (worker) {
      a.push(rssMiB(worker));
      sup.push(rssMiB(agent.pid!));
    } else {
      a.push(rssMiB(agent.pid!));
    }
  }
  for (const c of childrenOf(agent.pid!)) process.kill(c, 'SIGKILL');
  agent.kill('SIGKILL');
  server.kill('SIGKILL');
  return { server_rss_mib: s[s.length - 1]!, agent_rss_mib: a[a.length - 1]!, ...(sup.length ? { supervisor_rss_mib: sup[sup.length - 1]! } : {}) };
}

const built = await buildRelease({ root, outDir: join(dir, 'out'), version: '0.0.1' });
mkdirSync(join(dir, 'unpack'));
execFileSync('tar', ['-xzf', built.file, '-C', join(dir, 'unpack')]);
const prefix = join(dir, 'opt');
execFileSync(join(dir, 'unpack', 'smokemesh-0.0.1', 'install.sh'), ['--prefix', prefix, '--bin-dir', join(dir, 'bin'), '--config-dir', join(dir, 'etc'), '--no-user', '--no-systemd'], { stdio: 'ignore' });
const release = [process.execPath, join(prefix, 'current', 'bin', 'smokemesh.js')];
const tsx = [process.execPath, '--import', pathToFileURL(join(root, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href, join(root, 'src', 'cli.ts')];

const rows: Record<string, Record<string, number>> = {};
rows['tsx (source)'] = { help_ms: timeIt(tsx[0]!, [...tsx.slice(1), '--help']), agent_help_ms: timeIt(tsx[0]!, [...tsx.slice(1), 'agent', '--help']), ...(await measure('tsx', tsx, false)) };
rows['built (release)'] = { help_ms: timeIt(release[0]!, [...release.slice(1), '--help']), agent_help_ms: timeIt(release[0]!, [...release.slice(1), 'agent', '--help']), ...(await measure('built', release, false)) };
rows['built, --release-key'] = await measure('built-key', release, true);
listener.close();
console.log(`fleet-memory: RSS after ${settleS} s idle with rounds flowing (1 TCP target every 2 s), median of 5 for start-up`);
for (const [k, v] of Object.entries(rows)) console.log(`${k.padEnd(22)} ${Object.entries(v).map(([n, x]) => `${n} ${x.toFixed(n.endsWith('ms') ? 0 : 1)}`).join('  ')}`);
console.log(`node ${process.version}, release ${(built.bytes / 1048576).toFixed(1)} MiB, load average: ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
process.exit(0);
