import type { Command } from 'commander';
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import { setUser } from '../auth/users.ts';
import { loadConfig } from '../config/loader.ts';
import { SmokemeshError } from '../errors.ts';

/**
 * `smokemesh user add NAME`: adds (or changes the password of) a user in the users file of
 * read authentication, written with mode 600. The password is asked twice without echo on a
 * terminal, or read as the first line of standard input otherwise (scripts).
 */
export function registerUserCommands(program: Command): void {
  const user = program.command('user').description('users who log in to the UI and read API (general.read_auth.users_file)');
  user
    .command('add')
    .description('add a user, or set a new password for one; the file is written with mode 600')
    .argument('<name>', 'user name: letters, digits, ".", "_", "@", "-"')
    .option('--file <path>', 'users file (default: general.read_auth.users_file of --config)')
    .option('--config <file>', 'config file naming the users file', 'smokemesh.yaml')
    .action(async (name: string, o: { file?: string; config: string }) => {
      const file = o.file ?? loadConfig(o.config).general.read_auth?.users_file;
      if (!file) throw new SmokemeshError('SMOKEMESH_E_USAGE', `no users file: pass --file PATH, or set general.read_auth.users_file in ${o.config}`);
      const password = process.stdin.isTTY ? await askTwice() : await firstLine();
      const { added } = await setUser(file, name, password);
      process.stdout.write(`${added ? 'added' : 'changed the password of'} user ${name} in ${file}\n`);
    });
}

/** Reads a password from the terminal without echo, twice. */
async function askTwice(): Promise<string> {
  const a = await ask('password: ');
  const b = await ask('again: ');
  if (a !== b) throw new SmokemeshError('SMOKEMESH_E_USAGE', 'the two passwords differ');
  return a;
}

function ask(prompt: string): Promise<string> {
  process.stdout.write(prompt);
  // Typed characters are not echoed: the readline writes to a sink.
  const rl = createInterface({ input: process.stdin, output: new Writable({ write: (_c, _e, cb) => cb() }), terminal: true });
  return new Promise((resolve) => rl.question('', (answer) => {
    rl.close();
    process.stdout.write('\n');
    resolve(answer);
  }));
}

/** The first line of standard input (a password piped in by a script). */
async function firstLine(): Promise<string> {
  let text = '';
  for await (const chunk of process.stdin) {
    text += String(chunk);
    if (text.includes('\n') || text.length > 4096) break;
  }
  return text.split(/\r?\n/)[0] ?? '';
}
