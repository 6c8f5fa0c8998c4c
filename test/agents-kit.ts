import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { waitFor } from './wait.ts';

/** Helpers of the remote-agent end-to-end tests: real server and agent processes. */

export async function freePort(host = '127.0.0.1'): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, host, r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

export function writeSecret(dir: string, name: string, secret = randomBytes(24).toString('hex')): string {
  const f = join(dir, `${name}.secret`);
  writeFileSync(f, secret + '\n');
  chmodSync(f, 0o600);
  return f;
}

/** A child process with its output kept for assertions. */
export class Proc {
  out = '';
  readonly exited: Promise<number | null>;
  constructor(readonly child: ChildProcess, readonly label: string) {
    child.stdout!.on('data', (d) => (this.out += d));
    child.stderr!.on('data', (d) => (this.out += d));
    this.exited = new Promise((r) => child.on('exit', (code, sig) => r(code ?? (sig ? -1 : null))));
  }

  /** Parsed pino lines. */
  lines(): Record<string, unknown>[] {
    return this.out.split('\n').filter((l) => l.startsWith('{')).map((l) => {
      try {
        return JSON.parse(l) as Record<string, unknown>;
      } catch {
        return {};
      }
    });
  }

  async stop(sig: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(sig);
    return this.exited;
  }
}

/** argv prefix to run a command inside a network namespace (or as is). */
function inNs(ns: string | undefined, argv: string[]): [string, string[]] {
  return ns ? ['ip', ['netns', 'exec', ns, ...argv]] : [argv[0]!, argv.slice(1)];
}

export async function startServer(config: string, opts: { ns?: string; timeoutMs?: number } = {}): Promise<Proc> {
  const [cmd, args] = inNs(opts.ns, [process.execPath, 'bin/smokemesh.js', 'server', '--config', config]);
  const p = new Proc(spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] }), 'server');
  try {
    // Waits for either: a server that ends (a bad config) fails at once with its output, not at the timeout.
    await waitFor('the server to listen', () => p.child.exitCode !== null || p.child.signalCode !== null || /listening/.test(p.out),
      opts.timeoutMs ?? 60000); // a cold start (tsx compiling the sources) takes 10–30 s on the loaded test machine
    if (!/listening/.test(p.out)) throw new Error(`server exited (${p.child.exitCode ?? p.child.signalCode}) before it listened: ${p.out.slice(-2000)}`);
  } catch (e) {
    // Not returned to the caller, so nobody else would stop it (and the test process would wait for it).
    await p.stop('SIGKILL');
    throw e;
  }
  return p;
}

export function startAgent(o: { server: string; name: string; secretFile: string; spool: string; ns?: string; extra?: string[] }): Proc {
  const [cmd, args] = inNs(o.ns, [process.execPath, 'bin/smokemesh.js', 'agent', '--server', o.server, '--name', o.name,
    '--secret-file', o.secretFile, '--spool', o.spool, '--log-level', 'debug', ...(o.extra ?? [])]);
  return new Proc(spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] }), o.name);
}

/** Rounds waiting in an agent's spool, read from its SQLite file (the agent may be running). */
export function spoolBacklog(spoolDir: string): number {
  const db = new Database(join(spoolDir, 'outbox.sqlite'), { readonly: true, fileMustExist: true });
  try {
    return (db.prepare('SELECT COUNT(*) AS n FROM outbox').get() as { n: number }).n;
  } finally {
    db.close();
  }
}

export async function getJson<T>(url: string): Promise<T> {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status} ${await r.text()}`);
  return (await r.json()) as T;
}

interface SeriesPoint { time: number; sent: number; lost: number }

/** Raw round times (and points) of one series over the last hour, from the API. */
export async function seriesPoints(base: string, target: string, agent: string, from = Date.now() - 3_600_000): Promise<SeriesPoint[]> {
  const q = new URLSearchParams({ target, agent, from: String(from), to: String(Date.now() + 60_000), points: '10000' });
  const r = await getJson<{ series: { tier: string; points: SeriesPoint[] }[] }>(`${base}/api/v1/series?${q}`);
  const s = r.series[0];
  if (s && s.tier !== 'raw') throw new Error(`expected raw points, got tier ${s.tier}`);
  return s?.points ?? [];
}

/**
 * Duplicates and gaps of a series whose rounds are `stepMs` apart. Round times are when a round
 * really started (a few ms after its slot), so "consecutive" means less than 1.5 steps apart.
 */
export function gapsAndDuplicates(times: number[], stepMs: number): { duplicates: number; gaps: number[] } {
  const sorted = [...times].sort((a, b) => a - b);
  let duplicates = 0;
  const gaps: number[] = [];
  for (let i = 1; i < sorted.length; i++) {
    const d = sorted[i]! - sorted[i - 1]!;
    if (d === 0) duplicates++;
    else if (d > stepMs * 1.5) gaps.push(sorted[i - 1]!);
  }
  return { duplicates, gaps };
}

/**
 * A small server config on loopback: step 2 s, built-in agent `srv`, the given remote agents,
 * and one target `/t1` probed by TCP connect to `targetPort` (a listener of the caller's).
 */
export function loopbackConfig(o: { port: number; dataDir: string; targetPort: number; agents: { name: string; secretFile: string; heartbeat?: number }[]; serverProbes?: boolean }): string {
  return `general:
  step: 2
  pings: 2
  listen: 127.0.0.1:${o.port}
  data_dir: ${o.dataDir}
  agent_name: srv
agents:
${o.agents.map((a) => `  - { name: ${a.name}, secret_file: ${a.secretFile}, heartbeat: ${a.heartbeat ?? 1} }`).join('\n')}
probes:
  tcpx: { type: tcp, port: ${o.targetPort}, timeout: 1000 }
targets:
  server_probes: ${o.serverProbes ?? true}
  probe: tcpx
  children:
    t1: { host: 127.0.0.1 }
`;
}
