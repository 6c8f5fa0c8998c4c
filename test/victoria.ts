import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './agents-kit.ts';
import { waitFor } from './wait.ts';

/** Debian's VictoriaMetrics (scripts/install-system-deps.sh installs it). */
export const VM_BIN = '/usr/bin/victoria-metrics';

/** A VictoriaMetrics single node on 127.0.0.1 with its own temp storage. */
export interface Victoria {
  url: string;
  /** Makes every imported sample searchable now (VM buffers them for about a second). */
  forceFlush(): Promise<void>;
  /** kill -9 (to test an unreachable backend); start() again keeps the data. */
  kill(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Starts VictoriaMetrics the way docs/scale.md says to run it for smokemesh: dedup at 1 ms
 * (a resent round is one sample), no latency offset (the newest rounds are visible), retention
 * long enough for the tests' simulated clocks. `extraFlags` go to its command line as they are.
 */
export async function startVictoria(extraFlags: readonly string[] = []): Promise<Victoria> {
  const dir = mkdtempSync(join(tmpdir(), 'smokemesh-vm-'));
  let port = await freePort();
  let url = `http://127.0.0.1:${port}`;
  let child: ReturnType<typeof spawn> | undefined;
  let exited: Promise<void> = Promise.resolve();
  /**
   * Starts VM on `port` and waits until it answers as itself: another test's VM can take a port
   * between freePort() and our bind (ours then exits), and its /health would answer for ours.
   * Resolves false when ours exited (the port was taken).
   */
  const startOn = async (): Promise<boolean> => {
    const c = spawn(VM_BIN, [`-storageDataPath=${dir}`, `-httpListenAddr=127.0.0.1:${port}`, '-retentionPeriod=100y',
      '-dedup.minScrapeInterval=1ms', '-search.latencyOffset=0s', '-loggerLevel=ERROR', ...extraFlags], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    c.stderr!.on('data', (d: Buffer) => { err = (err + d.toString()).slice(-2000); });
    exited = new Promise((r) => c.once('exit', () => r()));
    child = c;
    const mine = `-storageDataPath="${dir}"`;
    return waitFor(`VictoriaMetrics on ${url} (${err})`, async () => {
      if (c.exitCode !== null) return 'exited';
      const flags = await (await fetch(`${url}/flags`).catch(() => undefined))?.text();
      return flags?.split('\n').includes(mine) ? 'mine' : undefined;
    }, 60_000).then((v) => v === 'mine');
  };
  const start = async () => {
    if (!(await startOn())) throw new Error(`VictoriaMetrics could not listen on ${url} again: ${url} is taken`);
  };
  const kill = async (sig: NodeJS.Signals) => {
    if (!child || child.exitCode !== null) return;
    child.kill(sig);
    await exited;
  };
  for (let attempt = 1; !(await startOn()); attempt++) {
    if (attempt === 5) throw new Error(`VictoriaMetrics found no free port in ${attempt} attempts`);
    port = await freePort();
    url = `http://127.0.0.1:${port}`;
  }
  return {
    url,
    forceFlush: async () => { await (await fetch(`${url}/internal/force_flush`)).text(); },
    kill: () => kill('SIGKILL'),
    start,
    stop: async () => { await kill('SIGTERM'); rmSync(dir, { recursive: true, force: true }); },
  };
}
