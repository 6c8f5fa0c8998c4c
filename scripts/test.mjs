// Runs every *.test.ts under src/ and test/ with node's own test runner (tsx as the loader).
// Node 20's runner takes no globs, so the files are listed here. Extra args filter by substring.
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { startNetGuard } from './net-guard.mjs';

function find(dir) {
  let out = [];
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules') continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out = out.concat(find(p));
    else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}
const filters = process.argv.slice(2);
const files = ['src', 'test'].flatMap((d) => find(d)).sort()
  .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)));
if (files.length === 0) { console.error('no test files found'); process.exit(1); }
const stopGuard = startNetGuard();
// A second reporter (TAP, to a file) gives the totals for the closing line printed below.
const tapDir = mkdtempSync(join(tmpdir(), 'smokemesh-tap-'));
const tapFile = join(tapDir, 'run.tap');
const r = spawnSync(process.execPath,
  ['--import', 'tsx', '--test', '--test-concurrency=2',
    '--test-reporter=spec', '--test-reporter-destination=stdout',
    '--test-reporter=tap', `--test-reporter-destination=${tapFile}`, ...files],
  { stdio: 'inherit' });
const guard = stopGuard?.();
if (guard) {
  console.log(guard.flows === 0
    ? `net guard: no new outbound flows on ${guard.devs.join(', ')} during the tests`
    : `net guard: WARNING: ${guard.flows} new outbound packet flows on ${guard.devs.join(', ')} during the tests; `
      + 'tests must talk only to loopback and their own namespaces (kernel log prefix "smokemesh-net-guard:")');
}
let tap = '';
try { tap = readFileSync(tapFile, 'utf8'); } catch { /* the runner died before writing it */ }
rmSync(tapDir, { recursive: true, force: true });
const total = (name) => Number(new RegExp(`^# ${name} (\\d+)$`, 'm').exec(tap)?.[1] ?? 0);
console.log(`tests: ${total('pass')} passed, ${total('fail') + total('cancelled')} failed, ${total('skipped')} skipped`);
process.exit(r.status ?? 1);
