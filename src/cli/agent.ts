import { homedir } from 'node:os';
import { join } from 'node:path';
import { Option, type Command } from 'commander';
import pino from 'pino';
import { readSecretFile } from '../auth/secret.ts';
import { SmokemeshError } from '../errors.ts';
import { packageRoot } from '../package-root.ts';

interface AgentCliOptions {
  server: string;
  name: string;
  secretFile: string;
  region?: string;
  label: string[];
  ca?: string;
  spool?: string;
  spoolQuota: string;
  publicAddress?: string;
  interface?: string;
  batchSize: string;
  logLevel: string;
  tasks: boolean;
  taskConcurrency: string;
  releaseKey?: string;
  allowDowngrade?: boolean;
  upgradeCheck: string;
  upgradeTrial: string;
}

/** `smokemesh agent`: a remote agent that measures what the server's plan says and pushes its rounds. */
export function registerAgentCommand(program: Command): void {
  program
    .command('agent')
    .description('run a remote agent: pull the plan from the server, measure, push rounds (kept in a disk spool until the server has them)')
    // Each of these may come from the environment too (systemd's EnvironmentFile, deploy/systemd/agent.env.example).
    .addOption(new Option('-s, --server <url[,url…]>', 'server URL, e.g. https://smokemesh.example:8888; several separated by commas: the agent moves to the next when one fails').env('SMOKEMESH_SERVER').makeOptionMandatory())
    .addOption(new Option('-n, --name <name>', 'this agent\'s name, as listed under agents: in the server config').env('SMOKEMESH_NAME').makeOptionMandatory())
    .addOption(new Option('--secret-file <file>', 'file holding the shared secret (mode 600)').env('SMOKEMESH_SECRET_FILE').makeOptionMandatory())
    .option('--region <region>', 'region (default: $SMOKEMESH_REGION, else the server config, else "default")')
    .option('--label <key=value>', 'label (repeatable); wins over the server config\'s labels', collect, [])
    .addOption(new Option('--ca <file>', 'PEM file of the CA that signed the server\'s TLS certificate').env('SMOKEMESH_CA'))
    .option('--spool <dir>', 'outbox directory (default: ~/.smokemesh/spool-<name>)')
    .option('--spool-quota <size>', 'disk quota of the outbox, e.g. 256MB; past it the oldest rounds go first', '256MB')
    .option('--public-address <address>', 'public address to advertise to the server')
    .option('--interface <name>', 'report this interface\'s address as the intranet address (default: the first non-loopback address)')
    .option('--batch-size <n>', 'rounds per push', '500')
    .option('--log-level <level>', 'fatal, error, warn, info, debug', 'info')
    .option('--no-tasks', 'run no diagnostic tasks (mtr, traceroute, ping, dns, http, tcp) for the server')
    .option('--task-concurrency <n>', 'diagnostic tasks run at once at most', '4')
    .addOption(new Option('--release-key <file>', 'public key (PEM) releases must be signed with: the agent then upgrades itself when the server rolls out a version').env('SMOKEMESH_RELEASE_KEY'))
    .option('--allow-downgrade', 'accept an older version than the running one even when it is not a roll back')
    .option('--upgrade-check <seconds>', 'seconds between asking the server for a version to run', '30')
    .option('--upgrade-trial <seconds>', 'seconds a new version has to deliver rounds before it is rolled back', '120')
    .action(async (o: AgentCliOptions) => {
      const labels: Record<string, string> = {};
      for (const l of o.label) {
        const m = /^([^=\s]+)=(.*)$/.exec(l);
        if (!m) throw new SmokemeshError('SMOKEMESH_E_USAGE', `--label "${l}": expected key=value`);
        labels[m[1]!] = m[2]!;
      }
      const batchSize = Number(o.batchSize);
      if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 20_000) throw new SmokemeshError('SMOKEMESH_E_USAGE', `--batch-size "${o.batchSize}": expected an integer 1–20000`);
      const taskConcurrency = Number(o.taskConcurrency);
      if (!Number.isInteger(taskConcurrency) || taskConcurrency < 1 || taskConcurrency > 32) throw new SmokemeshError('SMOKEMESH_E_USAGE', `--task-concurrency "${o.taskConcurrency}": expected an integer 1–32`);
      const upgradeCheck = seconds('--upgrade-check', o.upgradeCheck);
      const upgradeTrial = seconds('--upgrade-trial', o.upgradeTrial);
      const secret = readSecretFile(o.secretFile);
      const log = pino({ level: o.logLevel, base: undefined });
      const keyFile = o.releaseKey || undefined;
      const key = keyFile ? (await import('../release/signing.ts')).readPublicKey(keyFile) : undefined;
      const { installLayoutOf } = await import('../agent/install-layout.ts');
      const layout = installLayoutOf(packageRoot());
      const { WORKER_ENV, superviseAgent } = await import('../agent/supervisor.ts');
      if (key && layout && !process.env[WORKER_ENV]) {
        // This process only supervises: the agent runs as its child, from <prefix>/current.
        process.exitCode = await superviseAgent({ layout, args: process.argv.slice(2), log });
        return;
      }
      const { RemoteAgent } = await import('../agent/remote.ts');
      const { EXIT_UPGRADED } = await import('../agent/upgrade.ts');
      const exitAfterStop = (code: number) => {
        void agent.stop().finally(() => process.exit(code));
      };
      const agent = new RemoteAgent({
        server: o.server,
        name: o.name,
        secret,
        caFile: o.ca,
        region: o.region ?? (process.env.SMOKEMESH_REGION || undefined),
        labels,
        spoolDir: o.spool ?? join(homedir(), '.smokemesh', `spool-${o.name}`),
        spoolQuotaBytes: parseSize(o.spoolQuota),
        publicAddress: o.publicAddress,
        interface: o.interface,
        batchSize,
        log,
        tasks: o.tasks,
        taskConcurrency,
        upgrade: {
          key, layout, allowDowngrade: o.allowDowngrade === true, checkMs: upgradeCheck * 1000, trialMs: upgradeTrial * 1000,
          onSwitched: () => exitAfterStop(EXIT_UPGRADED),
          onTrialFailed: () => exitAfterStop(1),
        },
      });
      await agent.start();
      log.info({ agent: o.name, server: o.server, spool: agent.spool.status() }, 'agent started');
      let stopping = false;
      const stop = (sig: string) => {
        if (stopping) process.exit(1);
        stopping = true;
        log.info({ signal: sig }, 'stopping: finishing rounds in flight, pushing what the server takes in 3 s');
        void agent.stop().then(() => {
          log.info({ ...agent.stats, backlog_left: 'kept in the spool' }, 'agent stopped');
          process.exit(0);
        }, (e) => { log.error({ err: e }, 'error while stopping'); process.exit(1); });
      };
      process.on('SIGINT', () => stop('SIGINT'));
      process.on('SIGTERM', () => stop('SIGTERM'));
    });
}

function seconds(flag: string, v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 86_400) throw new SmokemeshError('SMOKEMESH_E_USAGE', `${flag} "${v}": expected whole seconds 1–86400`);
  return n;
}

/** '256MB', '1G', '500k', '1048576' → bytes. */
export function parseSize(s: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmg]?)i?b?$/i.exec(s.trim());
  if (!m) throw new SmokemeshError('SMOKEMESH_E_USAGE', `--spool-quota "${s}": expected a size such as 256MB, 2GB or 500KB`);
  const mult = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[2]!.toLowerCase() as '' | 'k' | 'm' | 'g'];
  return Math.floor(Number(m[1]) * mult);
}

function collect(v: string, prev: string[]): string[] {
  return [...prev, v];
}
