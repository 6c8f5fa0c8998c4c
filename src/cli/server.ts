import type { Command } from 'commander';

/** `smokemesh server`: the server with its built-in agent; SIGHUP reloads, SIGINT/SIGTERM stop. */
export function registerServerCommand(program: Command): void {
  program
    .command('server')
    .description('run the server (web UI, API, store, alerts) with its built-in agent')
    .requiredOption('-c, --config <file>', 'config file (YAML)')
    .option('--listen <host:port>', 'override general.listen')
    .option('--data-dir <dir>', 'override general.data_dir')
    .action(async (o: { config: string; listen?: string; dataDir?: string }) => {
      const { startServer } = await import('../server/app.ts');
      const server = await startServer({ configFile: o.config, listen: o.listen, dataDir: o.dataDir });
      const log = server.ctx.log;
      process.on('SIGHUP', () => {
        void server.ctx.reload().then(({ errors }) => {
          if (errors.length) log.error({ errors }, 'config reload refused; the running config stays');
        });
      });
      let stopping = false;
      const stop = (sig: string) => {
        if (stopping) {
          log.warn('second signal: exiting now');
          process.exit(1);
        }
        stopping = true;
        log.info({ signal: sig }, 'stopping: finishing rounds in flight');
        void server.close().then(() => process.exit(0), (e) => { log.error({ err: e }, 'error while stopping'); process.exit(1); });
      };
      process.on('SIGINT', () => stop('SIGINT'));
      process.on('SIGTERM', () => stop('SIGTERM'));
    });
}
