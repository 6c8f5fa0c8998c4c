// What every UI benchmark prints around its figures: the command that re-runs it, the code it
// measured, its settings, and the load average before and after (the machine is shared).
import { spawnSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { basename, join } from 'node:path';

const ROOT = join(import.meta.dirname, '..');

function load(): string {
  return loadavg().map((x) => x.toFixed(2)).join(' ');
}

/**
 * Prints the command (with the environment settings it was given), the commit of the checkout
 * it ran in (marked "+changes" when the tree differs from it), Node's version, `config` and the
 * load average. Call first; `benchEnd` prints the load again at the end.
 */
export function benchStart(file: string, env: readonly string[], config: Record<string, unknown>): void {
  const set = env.filter((k) => process.env[k] !== undefined).map((k) => `${k}=${process.env[k]} `).join('');
  const git = (args: string[]) => spawnSync('git', ['-C', ROOT, ...args], { encoding: 'utf8' }).stdout.trim();
  const commit = git(['rev-parse', '--short', 'HEAD']) || 'unknown';
  const dirty = git(['status', '--porcelain', '--untracked-files=no']) ? ' +changes' : '';
  console.log(`command: ${set}npx tsx bench/${basename(file)}  (in ${ROOT}, commit ${commit}${dirty}, node ${process.version})`);
  console.log(`config: ${Object.entries(config).map(([k, v]) => `${k}=${String(v)}`).join(', ')}`);
  console.log(`loadavg at start ${load()}`);
}

/** Prints the load average at the end of the run. */
export function benchEnd(): void {
  console.log(`loadavg at end ${load()}`);
}
