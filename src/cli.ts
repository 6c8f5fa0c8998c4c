import { Command, CommanderError } from 'commander';
import { SmokemeshError } from './errors.ts';
import { registerAgentCommand } from './cli/agent.ts';
import { registerCheckConfigCommand } from './cli/check-config.ts';
import { registerDataCommands } from './cli/data.ts';
import { registerImportSmokepingCommand } from './cli/import-smokeping.ts';
import { registerProbeCommand } from './cli/probe.ts';
import { registerServerCommand } from './cli/server.ts';
import { registerTaskCommand } from './cli/task.ts';
import { registerUserCommands } from './cli/user.ts';
import { VERSION } from './version.ts';

const program = new Command('smokemesh')
  .description('network-quality monitoring: SmokePing-style rounds and smoke graphs, agents, mesh and alerts')
  .version(VERSION, '-V, --version')
  .showHelpAfterError()
  .exitOverride();

registerServerCommand(program);
registerAgentCommand(program);
registerProbeCommand(program);
registerCheckConfigCommand(program);
registerDataCommands(program);
registerImportSmokepingCommand(program);
registerTaskCommand(program);
registerUserCommands(program);

try {
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
