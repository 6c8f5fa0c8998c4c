import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Metafile } from 'esbuild';
import { SmokemeshError } from '../errors.ts';
import { WORKER_ENTRIES } from '../worker-entry.ts';

export interface BundleOptions {
  /** The source checkout (holds src/cli.ts and node_modules/). */
  root: string;
  /** Where cli.js and chunks/ go; emptied first. */
  outDir: string;
  /** The version the built program reports (src/version.ts). */
  version: string;
  /** Shorter code (whitespace, syntax; names are kept for readable stacks). Default true. */
  minify?: boolean;
}

export interface BundleResult {
  /** Output files (cli.js and its chunks) with their sizes. */
  outputs: { file: string; bytes: number }[];
  ms: number;
  /** esbuild's record of which input went into which output (the module-loading test reads it). */
  metafile: Metafile;
}

/**
 * Packages that stay outside the bundle: better-sqlite3 and snappy load a native module from
 * their own directory or a platform package (a release ships them in node_modules/); esbuild
 * and vite only build, from a checkout.
 */
export const EXTERNAL = ['better-sqlite3', 'snappy', 'esbuild', 'vite'];

/**
 * Builds the JavaScript production runs: src/cli.ts and everything it imports (our code and
 * the npm packages except EXTERNAL) as ES modules for Node 20, split at every dynamic import so
 * that a command loads only its own code (`smokemesh agent` never loads the server). esbuild
 * rather than tsc: measured in BENCHMARKS.md ("Build and start-up").
 */
export async function bundle(opts: BundleOptions): Promise<BundleResult> {
  let esbuild: typeof import('esbuild');
  try {
    esbuild = await import('esbuild');
  } catch {
    throw new SmokemeshError('SMOKEMESH_E_USAGE', 'building needs the dev dependencies of a source checkout (npm install); an installed release cannot build itself');
  }
  rmSync(opts.outDir, { recursive: true, force: true });
  mkdirSync(opts.outDir, { recursive: true });
  const started = performance.now();
  const minify = opts.minify ?? true;
  const result = await esbuild.build({
    absWorkingDir: opts.root,
    // The CLI, and each module a worker thread runs (src/worker-entry.ts finds them in dist/workers/).
    entryPoints: { cli: join(opts.root, 'src/cli.ts'), ...Object.fromEntries(Object.entries(WORKER_ENTRIES).map(([name, src]) => [`workers/${name}`, join(opts.root, src)])) },
    outdir: opts.outDir,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    chunkNames: 'chunks/[name]-[hash]',
    external: EXTERNAL,
    define: { SMOKEMESH_BUILD_VERSION: JSON.stringify(opts.version) },
    minifyWhitespace: minify,
    minifySyntax: minify,
    keepNames: true,
    legalComments: 'none',
    metafile: true,
    logLevel: 'silent',
    // CommonJS packages inside an ES module bundle call require() for Node's built-ins.
    banner: { js: "import { createRequire as __smokemeshRequire } from 'node:module'; const require = __smokemeshRequire(import.meta.url);" },
  }).catch((e: Error) => {
    throw new SmokemeshError('SMOKEMESH_E_USAGE', `bundling failed: ${e.message}`);
  });
  const ms = performance.now() - started;
  const outputs = Object.entries(result.metafile.outputs).map(([file, o]) => ({ file, bytes: o.bytes }));
  return { outputs, ms, metafile: result.metafile };
}
