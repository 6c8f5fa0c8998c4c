import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { Document } from 'yaml';
import type { Config } from '../../config/loader.ts';
import { isUnavailable, SmokemeshError } from '../../errors.ts';
import { openStore, type StoreLogger } from '../../store/index.ts';
import type { HistoryImportResult } from '../../store/types.ts';
import { convertConfig, type AgentSecret } from './convert.ts';
import { historyOf } from './history.ts';
import { readModel } from './model.ts';
import { parseSmokepingConfig } from './parser.ts';
import type { ImportReport } from './report.ts';
import { RrdReader, rowTime, type RrdData, type RrdInfo } from './rrd-read.ts';
import type { SeriesSource } from './targets.ts';

/**
 * `smokemesh import-smokeping`: the I/O around the pure conversion. Writes the agent secrets
 * (dir 700, files 600) and the config (only when they change, so a second run leaves them
 * as they are), checks the config with the server's own checks before it replaces the file,
 * then reads every RRD through rrdtool (rrd-read.ts) and adds its history to the store.
 */
export interface ImportOptions {
  /** SmokePing's config file. */
  config: string;
  /** SmokePing's datadir (default: its General datadir). */
  rrdDir?: string;
  /** The smokemesh config to write. */
  out: string;
  /** The smokemesh data dir (default: `data` beside the output config). */
  dataDir?: string;
  /** Name of the server's built-in agent (default: this host's name). */
  agentName: string;
  /** Checks a config file as the server does; returns its problems (src/cli/check-config.ts). */
  check(file: string): { config?: Config; problems: string[] };
  /** Skip the history (config only). */
  configOnly?: boolean;
  /** rrdtool processes run at once. */
  concurrency?: number;
  rrdtool?: string;
  log?: StoreLogger;
  /** Called after each RRD with how many are done. */
  progress?: (done: number, total: number) => void;
}

export interface ImportSummary {
  out: string;
  configChanged: boolean;
  dataDir: string;
  report: ImportReport;
  /** RRDs read, missing, failed. */
  files: { read: number; missing: number; failed: number };
  raw: number;
  buckets: Record<string, number>;
  /** Series that already had all their history (nothing written). */
  unchanged: number;
  seconds: number;
}

/**
 * Runs the import; throws SMOKEMESH_E_CONFIG/E_STORE, or SMOKEMESH_E_UNAVAILABLE when the store
 * cannot commit (disk full, a lock held too long: the series at hand was not stored, those before
 * it were; running it again imports what is missing), for what stops it; reports the rest.
 */
export async function importSmokeping(o: ImportOptions): Promise<ImportSummary> {
  const started = performance.now();
  const source = resolve(o.config);
  const out = resolve(o.out);
  const dataDir = resolve(o.dataDir ?? join(dirname(out), 'data'));
  const model = readModel(parseSmokepingConfig(o.config));
  const conv = convertConfig(model, {
    agentName: o.agentName,
    dataDir,
    secretsDir: join(dirname(out), 'secrets'),
    baseDir: dirname(source),
    exists: existsSync,
    readSecrets: (f) => readFileSync(f, 'utf8'),
  });
  const { report } = conv;
  writeSecrets(conv.secrets);
  const text = yamlOf(conv.config, source);
  const { config, changed } = writeConfig(out, text, o.check);
  const summary: ImportSummary = {
    out, configChanged: changed, dataDir, report, files: { read: 0, missing: 0, failed: 0 }, raw: 0, buckets: {}, unchanged: 0, seconds: 0,
  };
  if (!o.configOnly) {
    const rrdDir = o.rrdDir ? resolve(o.rrdDir) : conv.rrdDir;
    if (!rrdDir) throw new SmokemeshError('SMOKEMESH_E_USAGE', `${o.config} has no General datadir: say where the RRDs are with --rrd-dir`);
    await importHistory(conv.series, rrdDir, config, dataDir, o, summary);
    reportStrayRrds(rrdDir, conv.series, report);
  }
  summary.seconds = (performance.now() - started) / 1000;
  return summary;
}

/** The YAML text (no timestamp: the same input gives the same file). */
export function yamlOf(config: Record<string, unknown>, source: string): string {
  // No anchors/aliases: a list shared by two presets is written out twice, as a user would.
  const doc = new Document(config, { aliasDuplicateObjects: false });
  doc.commentBefore = ` Converted by \`smokemesh import-smokeping\` from ${source}.\n`
    + ' Running the import again rewrites this file (the previous one is kept as .bak); see docs/migrate.md.';
  return doc.toString({ lineWidth: 0 });
}

function writeSecrets(secrets: AgentSecret[]): void {
  for (const s of secrets) {
    mkdirSync(dirname(s.file), { recursive: true, mode: 0o700 });
    chmodSync(dirname(s.file), 0o700);
    let current: string | undefined;
    try { current = readFileSync(s.file, 'utf8').split('\n')[0]!.trim(); } catch { /* not there yet */ }
    // A secret made by an earlier run is kept: the agent may already use it.
    const want = s.secret ?? (current && current.length >= 16 ? current : randomBytes(32).toString('hex'));
    if (current !== want) writeFileSync(s.file, want + '\n', { mode: 0o600 });
    if ((statSync(s.file).mode & 0o777) !== 0o600) chmodSync(s.file, 0o600);
  }
}

/** Checks the new config beside the old one, then puts it in place (old one to .bak) when it differs. */
function writeConfig(out: string, text: string, check: ImportOptions['check']): { config: Config; changed: boolean } {
  mkdirSync(dirname(out), { recursive: true });
  let old: string | undefined;
  try { old = readFileSync(out, 'utf8'); } catch { /* first run */ }
  const target = old === text ? out : `${out}.new`;
  if (target !== out) writeFileSync(target, text, { mode: 0o600 });
  const { config, problems } = check(target);
  if (problems.length || !config) {
    throw new SmokemeshError('SMOKEMESH_E_CONFIG', `the converted config does not pass check-config (this is a bug in the importer; the file is left at ${target}):\n${problems.join('\n')}`);
  }
  if (target === out) return { config, changed: false };
  if (old !== undefined) writeFileSync(`${out}.bak`, old, { mode: 0o600 });
  renameSync(target, out);
  return { config: { ...config, file: out }, changed: true };
}

async function importHistory(series: SeriesSource[], rrdDir: string, config: Config, dataDir: string, o: ImportOptions, summary: ImportSummary): Promise<void> {
  const { report } = summary;
  // History is data: a data dir made here is the owner's only (the store keeps an existing one as it is).
  if (!existsSync(dataDir)) mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  // No fsync per series: an import cut short by a crash is simply run again (it is idempotent);
  // SQLite syncs the WAL when it checkpoints and when the store is closed.
  const store = openStore(dataDir, { ...config.store, synchronous: 'normal' }, o.log, { timers: false, busyTimeoutMs: 10_000 });
  const concurrency = Math.max(1, o.concurrency ?? 2);
  const reader = new RrdReader({ sessions: concurrency, ...(o.rrdtool ? { rrdtool: o.rrdtool } : {}) });
  try {
    const todo = series.filter((s) => {
      if (existsSync(join(rrdDir, s.file))) return true;
      summary.files.missing++;
      report.note(s.at, `no history for ${s.target} from ${s.agent}: ${join(rrdDir, s.file)} does not exist`);
      return false;
    });
    // A series whose history already starts at or before the RRD's oldest row has nothing to
    // gain from it (the usual second run): its archives are not fetched.
    const first = new Map(store.list().map((x) => [`${x.target}\t${x.agent}`, x.first]));
    const wanted = (s: SeriesSource) => (info: RrdInfo) => {
      const have = first.get(`${s.target}\t${s.agent}`);
      if (have === undefined) return true;
      const oldest = Math.min(...info.rras.filter((r) => r.cf === 'AVERAGE').map((r) => rowTime(info, r, 0) - info.step * r.pdpPerRow));
      return oldest * 1000 < have;
    };
    // Reads run ahead of the store (rrdtool and our parsing overlap); results are taken in order.
    const pending: Array<Promise<RrdData | Error>> = [];
    const start = (i: number) => {
      const s = todo[i];
      if (s) pending[i] = reader.read(join(rrdDir, s.file), wanted(s)).catch((e: Error) => e);
    };
    for (let i = 0; i < concurrency; i++) start(i);
    for (let i = 0; i < todo.length; i++) {
      const s = todo[i]!;
      const data = await pending[i]!;
      delete pending[i];
      start(i + concurrency);
      try {
        if (data instanceof Error) throw data;
        const h = historyOf(data);
        const r = store.importHistory({ target: s.target, agent: s.agent, probe: s.probe, step: h.step, intervals: h.intervals });
        add(summary, r);
        summary.files.read++;
      } catch (e) {
        // The store failing (not this file) stops the import: every later series would fail
        // the same way. Nothing of this series was committed; a second run writes what is missing.
        if (e instanceof SmokemeshError && (e.code === 'SMOKEMESH_E_STORE' || isUnavailable(e)) && !(data instanceof Error)) throw e;
        summary.files.failed++;
        report.warn(s.at, `history of ${s.target} from ${s.agent} not imported: ${(e as Error).message}`, 'check the file with `rrdtool info`; the rest of the import went on');
      }
      o.progress?.(i + 1, todo.length);
    }
  } finally {
    reader.close();
    store.close();
  }
}

function add(summary: ImportSummary, r: HistoryImportResult): void {
  summary.raw += r.raw;
  let any = r.raw > 0;
  for (const [tier, n] of Object.entries(r.buckets)) {
    summary.buckets[tier] = (summary.buckets[tier] ?? 0) + n;
    if (n > 0) any = true;
  }
  if (!any) summary.unchanged++;
}

/** RRDs in the datadir that no target of the config owns (removed targets, renamed slaves). */
function reportStrayRrds(rrdDir: string, series: SeriesSource[], report: ImportReport): void {
  const wanted = new Set(series.map((s) => s.file));
  const stray: string[] = [];
  let seen = 0;
  const walk = (dir: string, depth: number) => {
    if (depth > 32) return;
    let names: string[];
    try { names = readdirSync(dir); } catch { return; }
    for (const name of names) {
      // Bounded: a datadir is not the whole disk.
      if (++seen > 1_000_000) return;
      const p = join(dir, name);
      if (name.endsWith('.rrd')) {
        const rel = relative(rrdDir, p);
        if (!wanted.has(rel)) stray.push(rel);
      } else if (!name.startsWith('.') && !name.startsWith('__')) {
        try { if (statSync(p).isDirectory()) walk(p, depth + 1); } catch { /* vanished */ }
      }
    }
  };
  walk(rrdDir, 0);
  if (stray.length) {
    report.note(undefined, `${stray.length} RRD file(s) in ${rrdDir} belong to no target of the config and were not imported: ${stray.slice(0, 10).join(', ')}${stray.length > 10 ? ', …' : ''}`,
      'add the targets (or slaves) back to the SmokePing config and import again if you want their history');
  }
}
