import type { Command } from 'commander';
import { probedTargets } from '../config/tree.ts';
import { formatIssue } from '../errors.ts';
import { validateConfig } from '../server/config-sections.ts';

/**
 * `smokemesh check-config FILE`: judges the file exactly as the server's start and reload do
 * (validateConfig). Errors and warnings go to stderr, one per line
 * (file:line:column: field: message); exit 1 on any error, 0 otherwise (warnings included).
 */
export function registerCheckConfigCommand(program: Command): void {
  program
    .command('check-config')
    .description('validate a config file as the server does; prints every error and warning with file:line:column and the field')
    .argument('<file>', 'config file (YAML)')
    .action((file: string) => {
      const { config, issues, warnings } = validateConfig(file);
      const lines = [...issues.map(formatIssue), ...warnings.map((w) => `warning: ${formatIssue(w)}`)];
      if (lines.length) process.stderr.write(lines.join('\n') + '\n');
      if (!config) {
        process.exitCode = 1;
        return;
      }
      const n = probedTargets(config.targets).length;
      const w = warnings.length ? `, ${warnings.length} warning${warnings.length > 1 ? 's' : ''}` : '';
      process.stdout.write(`${file}: OK (${n} targets${w})\n`);
    });
}
