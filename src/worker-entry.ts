import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { pathToFileURL } from 'node:url';
import { packageRoot } from './package-root.ts';

/** The modules run on worker threads, each built as its own entry of a release (src/release/bundle.ts). */
export const WORKER_ENTRIES = {
  'net-regexp-worker': 'src/probes/net-regexp-worker-main.ts',
  'config-worker': 'src/server/config-worker.ts',
  'heartbeat-worker': 'src/cluster/heartbeat-worker.ts',
} as const;

export type WorkerName = keyof typeof WORKER_ENTRIES;

/**
 * The file a worker thread runs, and whether it is TypeScript (its thread must register tsx's
 * loader first: a worker does not inherit the main thread's). From the sources, the module
 * itself; in a built release, its own bundle `dist/workers/<name>.js`: a path relative to the
 * calling module would point into dist/chunks/, where no such file is.
 */
export function workerEntry(name: WorkerName, caller: string): { url: URL; typescript: boolean } {
  if (caller.endsWith('.ts')) return { url: pathToFileURL(join(packageRoot(), WORKER_ENTRIES[name])), typescript: true };
  return { url: pathToFileURL(join(packageRoot(), 'dist', 'workers', `${name}.js`)), typescript: false };
}

// The sources are TypeScript run through tsx's loader, which a worker does not inherit from
// the main thread: the bootstrap registers it before importing the entry.
const BOOT = `
const { workerData } = require('node:worker_threads');
(async () => {
  if (workerData.tsx) (await import(workerData.tsx)).register();
  await import(workerData.entry);
})().catch((e) => { setImmediate(() => { throw e; }); });
`;

/**
 * Starts worker thread `name` (from the sources or a built release, see workerEntry). Its
 * module talks through parentPort only: workerData is the bootstrap's. A failure to load it
 * is the Worker's 'error' event.
 */
export function startWorker(name: WorkerName, caller: string): Worker {
  const entry = workerEntry(name, caller);
  const tsx = entry.typescript ? import.meta.resolve('tsx/esm/api') : undefined;
  return new Worker(BOOT, { eval: true, workerData: { entry: entry.url.href, tsx } });
}
