import { spawn } from 'node:child_process';
import { locateProgram } from '../probes/fping/runner.ts';

/** The first executable called `name` in PATH and the usual directories (traceroute lives in /usr/sbin), or undefined: the probes' lookup. */
export const findProgram = (name: string, path?: string): Promise<string | undefined> => locateProgram(name, path);

/** How one program run ended. */
export interface ProgramRun {
  stdout: string;
  stderr: string;
  exitCode: number | null;
  /** Why it was killed, if it was: our timeout, the caller's abort, or too much output. */
  killed?: 'timeout' | 'aborted' | 'output';
  /** Set when the program could not be started at all. */
  spawnError?: string;
}

/** Keeps at most this much of stderr: enough for any message, never a flood. */
const MAX_STDERR = 16 * 1024;

/**
 * Runs `bin` with an argument array (no shell, stdin closed) and collects its output. It is
 * killed (SIGKILL) after `timeoutMs`, when `signal` aborts, or as soon as stdout passes
 * `maxBytes`, so neither a hung program nor a flood of output can hold the agent. Never rejects.
 */
export function runProgram(bin: string, args: readonly string[], o: { timeoutMs: number; maxBytes: number; signal: AbortSignal }): Promise<ProgramRun> {
  return new Promise((resolve) => {
    if (o.signal.aborted) return resolve({ stdout: '', stderr: '', exitCode: null, killed: 'aborted' });
    const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'], shell: false });
    const out: Buffer[] = [];
    let outBytes = 0;
    let err = '';
    let killed: ProgramRun['killed'];
    let spawnError: string | undefined;
    const kill = (why: NonNullable<ProgramRun['killed']>): void => {
      killed ??= why;
      child.kill('SIGKILL');
    };
    const timer = setTimeout(() => kill('timeout'), o.timeoutMs);
    const onAbort = (): void => kill('aborted');
    o.signal.addEventListener('abort', onAbort, { once: true });
    child.stdout.on('data', (chunk: Buffer) => {
      outBytes += chunk.length;
      if (outBytes > o.maxBytes) return kill('output');
      out.push(chunk);
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      if (err.length < MAX_STDERR) err = (err + chunk).slice(0, MAX_STDERR);
    });
    let settled = false;
    const finish = (code: number | null): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      o.signal.removeEventListener('abort', onAbort);
      const run: ProgramRun = { stdout: Buffer.concat(out).toString('utf8'), stderr: err, exitCode: code };
      if (killed) run.killed = killed;
      if (spawnError) run.spawnError = spawnError;
      resolve(run);
    };
    child.on('error', (e) => {
      spawnError = `cannot run ${bin}: ${e.message}`;
      if (child.pid === undefined) finish(null);
    });
    child.on('close', (code) => finish(code));
  });
}

/**
 * Why a run gave no usable output, in words (or undefined when it did): the program could not
 * start, was killed, failed with a message, or printed nothing (mtr exits 0 with empty output
 * when it cannot resolve the host).
 */
export function runFailure(name: string, run: ProgramRun, o: { timeoutMs: number; maxBytes: number }): string | undefined {
  const said = run.stderr.trim().split('\n').filter(Boolean).slice(-3).join('; ');
  if (run.spawnError) return run.spawnError;
  if (run.killed === 'timeout') return `${name} did not finish within ${Math.round(o.timeoutMs / 100) / 10} s (killed)`;
  if (run.killed === 'aborted') return `${name} was stopped (task cancelled or agent stopping)`;
  if (run.killed === 'output') return `${name} printed more than ${o.maxBytes} bytes (killed; tasks.max_output_bytes)`;
  if (run.exitCode !== 0) return `${name} failed (exit code ${run.exitCode})${said ? `: ${said}` : ''}`;
  if (run.stdout.trim() === '') return `${name} printed nothing${said ? `: ${said}` : ''}`;
  return undefined;
}
