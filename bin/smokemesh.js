#!/usr/bin/env node
// Production runs the built JavaScript (dist/, from `npm run build` or shipped in a release) and
// no TypeScript compiler. A source checkout runs dist/ only while it is newer than every source
// file; otherwise (editing, tests) it runs the TypeScript through tsx's loader.
import { existsSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';

// An agent mostly waits between rounds: it runs with a small heap and no optimizing compiler
// (idle RSS ~4 MiB lower: the young generation does not grow past its first size, and the
// optimizing compiler's code and memory are never touched; under a heavy plan it spends ~40 %
// more CPU per round). SMOKEMESH_AGENT_LEAN=0 turns it off. BENCHMARKS.md, "Build and start-up".
if (process.argv[2] === 'agent' && process.env.SMOKEMESH_AGENT_LEAN !== '0') {
  for (const flag of ['--semi-space-growth-factor=1', '--optimize-for-size', '--no-opt']) setFlagsFromString(flag);
}
// A server keeps its heap close to what it holds: the young generation stays at its first
// size and the old one grows by 25 % before its next full collection (V8 lets it grow by up to
// 4× when it has room). With 1,000 targets this keeps the peak RSS under 150 MB (without it
// the saw-tooth between full collections reached 149–170 MiB) at no measurable CPU cost per
// overview request. SMOKEMESH_SERVER_LEAN=0 turns it off. BENCHMARKS.md, "Server memory: the peak".
if (process.argv[2] === 'server' && process.env.SMOKEMESH_SERVER_LEAN !== '0') {
  for (const flag of ['--semi-space-growth-factor=1', '--heap-growing-percent=25']) setFlagsFromString(flag);
}

const root = new URL('../', import.meta.url);
const built = new URL('dist/cli.js', root);
const checkout = existsSync(new URL('src/cli.ts', root));
if (checkout && !(await import('../scripts/dist-fresh.mjs')).distIsFresh(root)) {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/cli.ts');
} else if (existsSync(built)) {
  await import(built.href);
} else {
  process.stderr.write(`smokemesh: ${built.pathname} is missing: this copy was neither built (npm run build) nor installed from a release\n`);
  process.exitCode = 1;
}
