/**
 * `exec`: runs a program with SmokePing's alert arguments, never through a shell:
 *   1 alert name, 2 dotted target (`Group.Host`, plus ` [from agent]` for remote agents),
 *   3 `loss: 0%, 5%, …`, 4 `rtt: 12ms, U, …` (oldest → newest), 5 the host,
 *   6 only for edge-triggered alerts: `1` raised, `0` cleared.
 * The whole event is also given as JSON in the environment variable SMOKEMESH_EVENT.
 * `|/path/to/program` recipients create one of these implicitly.
 */
import { spawn } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import Type, { type Static } from 'typebox';
import { SmokemeshError } from '../../errors.ts';
import type { AlertEvent, Notifier, NotifierKind } from './notifier.ts';

export const ExecConfigSchema = Type.Object({
  command: Type.String({ minLength: 1, description: 'program to run (path); no shell is involved' }),
  env: Type.Optional(Type.Record(Type.String({ minLength: 1 }), Type.String(), { description: 'extra environment variables' })),
}, { additionalProperties: false });
export type ExecConfig = Static<typeof ExecConfigSchema>;

/**
 * Why `command` cannot be run as an alert program, or undefined: it must be an absolute
 * path (no PATH lookup, no shell) of an executable file.
 */
export function programProblem(command: string): string | undefined {
  if (!isAbsolute(command)) return `"${command}" is not an absolute path; write the program's full path (no shell, no PATH lookup is involved)`;
  try {
    if (!statSync(command).isFile()) return `${command} is not a file`;
    accessSync(command, constants.X_OK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? `${command} does not exist` : code === 'EACCES' ? `${command} is not executable (chmod +x)` : `${command}: ${(e as Error).message}`;
  }
  return undefined;
}

/** SmokePing's argument vector for an event (without the program itself). */
export function execArgs(e: AlertEvent): string[] {
  const args = [e.alert.name, e.target.dotted, `loss: ${e.loss.join(', ')}`, `rtt: ${e.rtt.join(', ')}`, e.target.host];
  if (e.alert.edgetrigger) args.push(e.state === 'cleared' ? '0' : '1');
  return args;
}

/** Runs `command` with the event's arguments; resolves when it exits 0, rejects otherwise. */
export function runProgram(command: string, e: AlertEvent, env: Record<string, string>, signal: AbortSignal): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, execArgs(e), {
      shell: false,
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, ...env, SMOKEMESH_EVENT: JSON.stringify(e) },
      signal,
      killSignal: 'SIGKILL',
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      if (stderr.length < 2000) stderr += d.toString();
    });
    child.on('error', (err) => reject(new SmokemeshError('SMOKEMESH_E_NOTIFY', `exec ${command}: ${err.message}`, { cause: err })));
    child.on('close', (code, sig) => {
      if (code === 0) resolvePromise();
      // A hook's stderr often carries what it called answered: kept for the debug log only.
      else reject(new SmokemeshError('SMOKEMESH_E_NOTIFY', `exec ${command}: ${sig ? `killed by ${sig}` : `exit code ${code}`}`, stderr ? { detail: stderr.trim().slice(-500) } : undefined));
    });
  });
}

export const execKind: NotifierKind<ExecConfig> = {
  kind: 'exec',
  configSchema: ExecConfigSchema,
  create(name, config): Notifier {
    return {
      name,
      kind: 'exec',
      send: (event, signal) => runProgram(config.command, event, config.env ?? {}, signal),
    };
  },
};
