import type { Command } from 'commander';
import { hostname } from 'node:os';
import { importSmokeping, type ImportSummary } from '../import/smokeping/run.ts';
import { validateConfig } from '../server/config-sections.ts';
import { ProgressBar } from './progress.ts';

interface Options {
  config: string;
  rrdDir?: string;
  out: string;
  dataDir?: string;
  agentName?: string;
  configOnly?: boolean;
  concurrency: string;
}

/** What the command needs from its surroundings (tests pass their own). */
export interface ImportCommandDeps {
  out?: (line: string) => void;
  progress?: boolean;
}

/**
 * `smokemesh import-smokeping --config FILE [--rrd-dir DIR] --out smokemesh.yaml [--data-dir DIR]`:
 * SmokePing's config → a smokemesh config (and agent secrets), its RRDs → the store.
 */
export function registerImportSmokepingCommand(program: Command, deps: ImportCommandDeps = {}): void {
  const out = deps.out ?? ((line: string) => process.stdout.write(line + '\n'));
  program
    .command('import-smokeping')
    .description("move from SmokePing: convert its config (targets, probes, slaves, alerts) and import its RRD history")
    .requiredOption('--config <file>', "SmokePing's config file (e.g. /etc/smokeping/config)")
    .option('--rrd-dir <dir>', "SmokePing's datadir with the RRD files (default: its General datadir)")
    .requiredOption('--out <file>', 'the smokemesh config to write (e.g. smokemesh.yaml)')
    .option('--data-dir <dir>', 'smokemesh data dir to import into (default: data/ beside --out); may be a running server\'s')
    .option('--agent-name <name>', "name of the smokemesh server's built-in agent, under which SmokePing's own measurements are stored (default: this host's name)")
    .option('--config-only', 'convert the config, skip the history')
    .option('--concurrency <n>', 'rrdtool processes at once', '2')
    .action(async (o: Options) => {
      const bar = deps.progress === false ? undefined : new ProgressBar('RRDs');
      let summary: ImportSummary;
      try {
        summary = await importSmokeping({
          config: o.config, out: o.out, agentName: o.agentName ?? hostname(), check: validateConfig,
          concurrency: Math.max(1, Number(o.concurrency) || 2),
          ...(o.rrdDir ? { rrdDir: o.rrdDir } : {}),
          ...(o.dataDir ? { dataDir: o.dataDir } : {}),
          ...(o.configOnly ? { configOnly: true } : {}),
          ...(bar ? { progress: (d: number, t: number) => bar.update(d, t) } : {}),
        });
      } finally {
        bar?.close();
      }
      for (const line of summary.report.lines()) out(line);
      const w = summary.report.count('warning');
      const n = summary.report.count('note');
      out(`${summary.out}: ${summary.configChanged ? 'written' : 'unchanged'} (passes check-config); ${w} warning(s), ${n} note(s) above`);
      if (!o.configOnly) {
        const tiers = Object.entries(summary.buckets).map(([t, c]) => `${t} ${c}`).join(', ');
        out(`history: ${summary.files.read} RRD(s) read, ${summary.files.missing} missing, ${summary.files.failed} failed; `
          + `${summary.raw} raw rounds and buckets (${tiers || 'none'}) written to ${summary.dataDir}; `
          + `${summary.unchanged} series already complete; ${summary.seconds.toFixed(1)} s`);
      }
    });
}
