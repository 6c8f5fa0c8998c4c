import type { Command } from 'commander';
import { loadConfig, type Config } from '../config/loader.ts';
import { probedTargets } from '../config/tree.ts';
import { ConfigError, formatIssue } from '../errors.ts';
import { hostname } from 'node:os';
import { checkAlertsConfig } from '../alerts/index.ts';
import { checkAlertWarnings } from '../alerts/warnings.ts';
import { checkLocalizeConfig } from '../localize/config.ts';
import { parseMesh } from '../config/mesh-schema.ts';
import { parseExport } from '../export/remote-write.ts';
import { checkTasksConfig } from '../tasks/policy.ts';
import { loadAgentEntries } from '../server/agents/registry.ts';

/**
 * Every problem the server would find in a config file at start and reload, one line each
 * (file:line:column: field: message); `config` is set when the file loaded. `warnings` are
 * what the server logs about a valid config; they do not fail the check.
 */
export function configProblems(file: string): { config?: Config; problems: string[]; warnings: string[] } {
  let config: Config;
  try {
    config = loadConfig(file);
  } catch (e) {
    if (e instanceof ConfigError) return { problems: e.issues.map(formatIssue), warnings: [] };
    throw e;
  }
  // The sections other concerns own, checked as the server checks them at start and reload.
  const issues = [...checkAlertsConfig(config), ...parseMesh(config).issues, ...parseExport(config).issues, ...checkTasksConfig(config), ...checkLocalizeConfig(config)];
  const agentIssues = loadAgentEntries(config, config.general.agent_name ?? hostname()).issues;
  return { config, problems: [...issues.map(formatIssue), ...agentIssues], warnings: checkAlertWarnings(config).map(formatIssue) };
}

/** `smokemesh check-config FILE`: exit 0 when valid, 1 with every error (file:line:column: field: message). */
export function registerCheckConfigCommand(program: Command): void {
  program
    .command('check-config')
    .description('validate a config file; prints every error with file:line:column and the field')
    .argument('<file>', 'config file (YAML)')
    .action((file: string) => {
      const { config, problems, warnings } = configProblems(file);
      if (warnings.length) process.stderr.write(warnings.join('\n') + '\n');
      if (problems.length || !config) {
        process.stderr.write(problems.join('\n') + '\n');
        process.exitCode = 1;
        return;
      }
      const n = probedTargets(config.targets).length;
      process.stdout.write(`${file}: OK (${n} targets)\n`);
    });
}
