import type { Command } from 'commander';
import { loadConfig } from '../config/loader.ts';
import { trimTrailingSlashes } from '../config/tree.ts';
import { hasVmTarget, vmEndpointProblems, type VmStoreFields } from '../config/vm-endpoints.ts';
import { SmokemeshError } from '../errors.ts';
import { dataDirOf, openStore, VmStore, type SqliteStore, type StoreLogger } from '../store/index.ts';
import { copyToVictoria } from './data-copy.ts';
import { ProgressBar } from './progress.ts';

/** What the data commands need from their surroundings (tests pass their own). */
export interface DataCommandDeps {
  /** Where results go (default: stdout). */
  out?: (line: string) => void;
  log?: StoreLogger;
  /** Where progress bars go (default: stderr). */
  progressOut?: NodeJS.WriteStream;
}

interface Options {
  config: string;
  dataDir?: string;
}

/**
 * `smokemesh data prune PATH…`, `data rename OLD NEW`, `data info`: history administration.
 * Each opens the store of `--config` (general.data_dir and the store: section); safe while the
 * server runs (WAL: the server's writes queue briefly and are retried).
 */
export function registerDataCommands(program: Command, deps: DataCommandDeps = {}): void {
  const out = deps.out ?? ((line: string) => process.stdout.write(line + '\n'));
  const data = program.command('data').description('manage the stored history (prune removed targets, rename, info, copy to VictoriaMetrics)');
  const common = (c: Command) => c
    .option('-c, --config <file>', 'config file', 'smokemesh.yaml')
    .option('--data-dir <dir>', 'override general.data_dir');

  common(data.command('prune')
    .description('delete the history of targets (and everything under a group), for every agent')
    .argument('<paths...>', 'target paths such as /Group/host')
    .option('-n, --dry-run', 'only list what would be deleted'))
    .action((paths: string[], o: Options & { dryRun?: boolean }) => withStore(o, deps.log, (store) => {
      if (o.dryRun) {
        const doomed = store.list().filter((s) => paths.some((p) => p === '/' || s.target === trimTrailingSlashes(p) || s.target.startsWith(trimTrailingSlashes(p) + '/')));
        for (const s of doomed) out(`would delete ${s.target} (agent ${s.agent})`);
        out(`${doomed.length} series would be deleted`);
        return;
      }
      out(`deleted ${store.prune(paths)} series`);
    }));

  common(data.command('rename')
    .description('move the history of a target (or group) to a new path, for every agent')
    .argument('<old>', 'current target path')
    .argument('<new>', 'new target path'))
    .action((from: string, to: string, o: Options) => withStore(o, deps.log, (store) => {
      out(`moved ${store.rename(from, to)} series from ${from} to ${to}`);
    }));

  common(data.command('copy')
    .description('copy the history (raw rounds) from SQLite to VictoriaMetrics (a single node at URL, else the one of the config\'s store section: url, or the cluster\'s insert_url, select_url and tenant), with progress; safe to run again')
    .requiredOption('--to <backend>', 'the target backend: victoriametrics')
    .argument('[url]', 'VictoriaMetrics single node base URL, e.g. http://127.0.0.1:8428 (default: the config\'s store section)'))
    .action(async (url: string | undefined, o: Options & { to: string }) => {
      if (o.to !== 'victoriametrics') throw new SmokemeshError('SMOKEMESH_E_USAGE', `data copy --to ${o.to}: only victoriametrics is supported`);
      const config = loadConfig(o.config);
      const target = copyTarget(url, config.store, config.file);
      const dir = o.dataDir ?? dataDirOf(config);
      // The source is always the SQLite file, whatever store.backend says now.
      const store = openStore(dir, config.store, deps.log, { timers: false, busyTimeoutMs: 10_000 });
      const bar = new ProgressBar('rounds', deps.progressOut);
      try {
        const r = await copyToVictoria(store, dir, config.store, target, (d, t) => bar.update(d, t), deps.log);
        bar.close();
        out(`copied ${r.rounds} rounds of ${r.series} series to ${r.label}${r.refused ? ` (${r.refused} refused: older than store.raw_days or malformed)` : ''}`);
      } finally {
        bar.close();
        store.close();
      }
    });

  common(data.command('info').description('where the history is, its size and its series'))
    .option('--series', 'list every series')
    .action((o: Options & { series?: boolean }) => withStore(o, deps.log, (store) => {
      if (store instanceof VmStore) {
        const st = store.stats();
        out(`backend: victoriametrics at ${store.label}`);
        out(`outbox: ${store.outboxFile} (${(st.file_bytes / 1048576).toFixed(2)} MiB, ${st.pending} rounds waiting)`);
        out(`series: ${st.series}`);
      } else {
        const st = store.stats();
        out(`file: ${store.file}`);
        out(`size: ${(st.file_bytes / 1048576).toFixed(2)} MiB`);
        out(`series: ${st.series}`);
        for (const [table, rows] of Object.entries(store.tableRows())) out(`${table}: ${rows} rows`);
      }
      if (o.series) {
        for (const s of store.list()) out(`${s.target}\t${s.agent}\t${s.probe}\t${new Date(s.first).toISOString()}\t${new Date(s.last).toISOString()}`);
      }
    }));
}

/**
 * Where `data copy` sends: the single node at `url` when given, else the VictoriaMetrics of the
 * config's store section (either form; the loader has checked it); SMOKEMESH_E_USAGE otherwise.
 */
function copyTarget(url: string | undefined, store: VmStoreFields, file: string): VmStoreFields {
  if (url !== undefined) {
    const problem = vmEndpointProblems({ url }, true)[0];
    if (problem) throw new SmokemeshError('SMOKEMESH_E_USAGE', `data copy: ${problem.message}`);
    return { url };
  }
  if (!hasVmTarget(store)) {
    throw new SmokemeshError('SMOKEMESH_E_USAGE', `data copy: no VictoriaMetrics to copy to: give its URL (data copy --to victoriametrics http://127.0.0.1:8428), or set store.url or store.insert_url and store.select_url in ${file}`);
  }
  const { url: single, insert_url, select_url, tenant } = store;
  return { url: single, insert_url, select_url, tenant };
}

/** Runs `fn` on the store of the config's backend (SQLite file, or VictoriaMetrics and its outbox). */
function withStore(o: Options, log: StoreLogger | undefined, fn: (store: SqliteStore | VmStore) => void): void {
  const config = loadConfig(o.config);
  const dir = o.dataDir ?? dataDirOf(config);
  // A long busy timeout: the server may be committing a batch right now. The VM store does
  // not send here (timers off): the server's own sender does.
  const store = config.store.backend === 'victoriametrics'
    ? new VmStore(dir, config.store, { timers: false, ...(log ? { log } : {}) })
    : openStore(dir, config.store, log, { timers: false, busyTimeoutMs: 10_000 });
  try {
    fn(store);
  } finally {
    store.close();
  }
}
