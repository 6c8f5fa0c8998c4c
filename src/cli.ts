import { Command, CommanderError } from 'commander';
import { SmokemeshError } from './errors.ts';
import { VERSION } from './version.ts';

/**
 * The commands, each loaded only when it runs: `smokemesh agent` never loads the server, the
 * store's admin code, the AWS SDK or nodemailer, and `--help` loads none of them (start-up time
 * and memory: BENCHMARKS.md, "Build and start-up"). `summary` is the line of the command list.
 */
const COMMANDS: { name: string; summary: string; load: () => Promise<(program: Command) => void> }[] = [
  { name: 'server', summary: 'run the server (web UI, API, store, alerts) with its built-in agent', load: async () => (await import('./cli/server.ts')).registerServerCommand },
  { name: 'agent', summary: 'run a remote agent: measure what the server plans, push the rounds', load: async () => (await import('./cli/agent.ts')).registerAgentCommand },
  { name: 'probe', summary: 'measure one target once and print the round', load: async () => (await import('./cli/probe.ts')).registerProbeCommand },
  { name: 'check-config', summary: 'validate a config file as the server does', load: async () => (await import('./cli/check-config.ts')).registerCheckConfigCommand },
  { name: 'data', summary: 'manage the stored history (prune, rename, info)', load: async () => (await import('./cli/data.ts')).registerDataCommands },
  { name: 'import-smokeping', summary: "move from SmokePing: its config and RRD history", load: async () => (await import('./cli/import-smokeping.ts')).registerImportSmokepingCommand },
  { name: 'release', summary: 'build, sign and upload releases; roll them out to the agents in waves', load: async () => (await import('./cli/release.ts')).registerReleaseCommand },
  { name: 'task', summary: 'run a diagnostic (mtr, traceroute, ping, dns, http, tcp) on agents through the server', load: async () => (await import('./cli/task.ts')).registerTaskCommand },
  { name: 'user', summary: 'users who log in to the UI and read API (general.read_auth.users_file)', load: async () => (await import('./cli/user.ts')).registerUserCommands },
];

const program = new Command('smokemesh')
  .description('network-quality monitoring: SmokePing-style rounds and smoke graphs, agents, mesh and alerts')
  .version(VERSION, '-V, --version')
  .showHelpAfterError()
  .exitOverride();

try {
  const args = process.argv.slice(2);
  // `smokemesh help X` asks for X's help: X is the command to load.
  const named = args.find((a) => !a.startsWith('-'));
  const wanted = named === 'help' ? args[args.indexOf('help') + 1] : named;
  const chosen = COMMANDS.find((c) => c.name === wanted);
  if (chosen) {
    (await chosen.load())(program);
  } else {
    for (const c of COMMANDS) program.command(c.name).summary(c.summary).description(c.summary);
  }
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) {
    process.exitCode = e.exitCode;
  } else if (e instanceof SmokemeshError) {
    process.stderr.write(`smokemesh: ${e.code}: ${e.message}\n`);
    process.exitCode = 1;
  } else {
    process.stderr.write(`smokemesh: ${(e as Error).stack ?? e}\n`);
    process.exitCode = 1;
  }
}
