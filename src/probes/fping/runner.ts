import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { access, constants, open, unlink, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, isAbsolute, join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
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
/** Most stderr one run may write (a normal round: ~7 bytes a ping); past it fping is killed. */
export const MAX_OUTPUT = 64 << 20;
/** How often the size of the output is looked at while fping runs. */
const WATCH_MS = 1000;

/**
 * Runs fping through `cmd` with `args` (argv array, no shell) and resolves when it has exited,
 * with its stderr parsed. On `signal` abort the process is killed with SIGKILL at once; fping
 * keeps no state worth a graceful stop (unshare and `ip … exec` wrappers exec into it: same
 * process). Never rejects.
 *
 * fping's stderr goes to a file (created 0600 in the temp dir and unlinked at once: only the
 * open descriptor knows it), read once fping has exited, a chunk at a time through the line
 * collector (so a flood of duplicate lines costs no memory). fping writes its stderr
 * unbuffered, a few bytes a write (22,000 writes for 1,000 targets × 20 pings); through a
 * pipe each burst woke this process hundreds of times (~0.1 CPU-s a round, BENCHMARKS.md).
 * A run writing more than MAX_OUTPUT is killed (its hosts then get no result). Where no
 * such file can be made, the output is read through a pipe as it comes.
 */
export async function runFping(cmd: FpingCommand, args: readonly string[], pings: number, signal: AbortSignal): Promise<FpingRun> {
  const started = performance.now();
  const argv = [cmd.file, ...cmd.prefix, ...args];
  const collector = new FpingOutputCollector(pings, cmd.programs);
  const aborted = (): FpingRun => ({ argv, output: collector.result(), exitCode: null, signal: 'SIGKILL', wallMs: 0 });
  if (signal.aborted) return aborted();
  const file = await outputFile();
  // Aborted while the file was being made: the listener below would never hear it.
  if (signal.aborted) {
    await file?.close().catch(() => {});
    return aborted();
  }
  const child = spawn(cmd.file, argv.slice(1), { ...(cmd.argv0 ? { argv0: cmd.argv0 } : {}), stdio: ['ignore', 'ignore', file ? file.fd : 'pipe'], shell: false });
  const lines = new LineSplitter((line) => collector.add(line));
  if (!file) child.stderr!.setEncoding('utf8').on('data', (chunk: string) => lines.push(chunk));
  let tooMuch = false;
  const watch = file && setInterval(() => {
    file.stat().then((st) => {
      if (st.size > MAX_OUTPUT) { tooMuch = true; child.kill('SIGKILL'); }
    }, () => { /* gone with the run */ });
  }, WATCH_MS);
  const kill = (): void => { child.kill('SIGKILL'); };
  signal.addEventListener('abort', kill, { once: true });
  let spawnError: string | undefined;
  const ended = await new Promise<{ code: number | null; sig: NodeJS.Signals | null }>((resolve) => {
    child.on('error', (err) => {
      spawnError = `cannot run ${cmd.file}: ${err.message}`;
      // A process that never started emits no 'close' on every Node version: finish here.
      if (child.pid === undefined) resolve({ code: null, sig: null });
    });
    child.on('close', (code, sig) => resolve({ code, sig }));
  });
  if (watch) clearInterval(watch);
  signal.removeEventListener('abort', kill);
  if (file) {
    try {
      if (!tooMuch) await readLines(file, lines);
    } catch (e) {
      spawnError ??= `cannot read fping's output: ${(e as Error).message}`;
    } finally {
      await file.close().catch(() => {});
    }
  }
  lines.end();
  const run: FpingRun = { argv, output: collector.result(), exitCode: ended.code, signal: ended.sig, wallMs: performance.now() - started };
  if (tooMuch) run.spawnError = `fping wrote more than ${MAX_OUTPUT >> 20} MiB of output (a flood of duplicate replies?); killed`;
  else if (spawnError) run.spawnError = spawnError;
  return run;
}

/** An anonymous file for fping's stderr (created 0600, unlinked), or undefined when the temp dir refuses it. */
async function outputFile(): Promise<FileHandle | undefined> {
  const path = join(tmpdir(), `smokemesh-fping-${process.pid}-${randomBytes(6).toString('hex')}`);
  let fh: FileHandle | undefined;
  try {
    fh = await open(path, 'wx+', 0o600);
    await unlink(path);
    return fh;
  } catch {
    if (fh) {
      await fh.close().catch(() => {});
      await unlink(path).catch(() => {});
    }
    return undefined;
  }
}

/** Feeds a file's text from its start to `lines`, 64 KiB at a time. */
async function readLines(fh: FileHandle, lines: LineSplitter): Promise<void> {
  const buf = Buffer.allocUnsafe(1 << 16);
  const decoder = new StringDecoder('utf8');
  for (let pos = 0; ;) {
    const { bytesRead } = await fh.read(buf, 0, buf.length, pos);
    if (bytesRead === 0) break;
    pos += bytesRead;
    lines.push(decoder.write(buf.subarray(0, bytesRead)));
  }
  lines.push(decoder.end());
}

/** Text in chunks, out as lines (without their newline); a line longer than MAX_LINE is dropped. */
class LineSplitter {
  private partial = '';
  constructor(private readonly each: (line: string) => void) {}

  push(chunk: string): void {
    if (!chunk) return;
    const lines = (this.partial + chunk).split('\n');
    this.partial = lines.pop() ?? '';
    if (this.partial.length > MAX_LINE) this.partial = '';
    for (const line of lines) this.each(line);
  }

  end(): void {
    if (this.partial) this.each(this.partial);
    this.partial = '';
  }
}
