import { spawn } from 'node:child_process';
import { access, constants } from 'node:fs/promises';
import { delimiter, isAbsolute, join } from 'node:path';
import { FpingOutputCollector, type FpingOutput } from './parser.ts';
import type { FpingCommand } from './socket.ts';

/** Where fping is looked for besides PATH (Debian ships /usr/bin/fping, older ones /usr/sbin). */
export const EXTRA_FPING_DIRS = ['/usr/bin', '/usr/sbin', '/usr/local/bin', '/usr/local/sbin', '/bin', '/sbin'];

export const FPING_INSTALL_HINT = 'install it (Debian/Ubuntu: apt-get install fping; Fedora: dnf install fping)';

/** Finds an executable (fping, unshare): `name` itself if it is a path, else the first match in PATH and the usual dirs. */
export async function locateProgram(name: string, path = process.env.PATH ?? ''): Promise<string | undefined> {
  const candidates = name.includes('/')
    ? [isAbsolute(name) ? name : join(process.cwd(), name)]
    : [...path.split(delimiter).filter(Boolean), ...EXTRA_FPING_DIRS].map((d) => join(d, name));
  for (const c of candidates) {
    try {
      await access(c, constants.X_OK);
      return c;
    } catch {
      // not there or not executable: try the next place
    }
  }
  return undefined;
}

/** What one fping run gave: the parsed output and how it ended. */
export interface FpingRun {
  /** The command line run (program first). */
  argv: string[];
  output: FpingOutput;
  exitCode: number | null;
  /** Set when the process was killed (abort) or died of a signal. */
  signal: NodeJS.Signals | null;
  /** Set when fping could not be started at all. */
  spawnError?: string;
  /** Wall time of the run, ms. */
  wallMs: number;
}

/** Longest stderr line kept; longer ones (never produced by a sane fping) are dropped. */
const MAX_LINE = 1 << 20;

/**
 * Runs fping through `cmd` with `args` (argv array, no shell), feeds its stderr line by line
 * to the parser (so a flood of duplicate lines costs no memory) and resolves when it has
 * exited. On `signal` abort the process is killed with SIGKILL at once; fping keeps no state
 * worth a graceful stop (unshare and `ip … exec` wrappers exec into it: same process). Never
 * rejects.
 */
export function runFping(cmd: FpingCommand, args: readonly string[], pings: number, signal: AbortSignal): Promise<FpingRun> {
  const started = performance.now();
  const argv = [cmd.file, ...cmd.prefix, ...args];
  const collector = new FpingOutputCollector(pings, cmd.programs);
  return new Promise((resolve) => {
    if (signal.aborted) {
      resolve({ argv, output: collector.result(), exitCode: null, signal: 'SIGKILL', wallMs: 0 });
      return;
    }
    const child = spawn(cmd.file, argv.slice(1), { ...(cmd.argv0 ? { argv0: cmd.argv0 } : {}), stdio: ['ignore', 'ignore', 'pipe'], shell: false });
    let spawnError: string | undefined;
    let partial = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop() ?? '';
      if (partial.length > MAX_LINE) partial = '';
      for (const line of lines) collector.add(line);
    });
    const kill = (): void => {
      child.kill('SIGKILL');
    };
    signal.addEventListener('abort', kill, { once: true });
    let settled = false;
    const finish = (code: number | null, sig: NodeJS.Signals | null): void => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', kill);
      if (partial) collector.add(partial);
      const run: FpingRun = { argv, output: collector.result(), exitCode: code, signal: sig, wallMs: performance.now() - started };
      if (spawnError) run.spawnError = spawnError;
      resolve(run);
    };
    child.on('error', (err) => {
      spawnError = `cannot run ${cmd.file}: ${err.message}`;
      // A process that never started emits no 'close' on every Node version: finish here.
      if (child.pid === undefined) finish(null, null);
    });
    child.on('close', finish);
  });
}
