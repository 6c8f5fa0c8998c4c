import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Test helpers for running Debian's real SmokePing without it reaching anything: a network
 * namespace of its own with only a loopback interface (its config parser looks host names
 * up, and its probes send packets; inside, a name resolves only through /etc/hosts and no
 * packet can leave the machine).
 */

/** Why these tests cannot run here, or false. */
export function smokepingSkipReason(): string | false {
  if (process.getuid?.() !== 0) return 'needs root to create a network namespace';
  for (const [cmd, args, pkg] of [['ip', ['-V'], 'iproute2'], ['rrdtool', ['--version'], 'rrdtool'], ['perl', ['-MSmokeping', '-e', '1'], 'smokeping']] as const) {
    try {
      execFileSync(cmd, [...args], { stdio: 'ignore' });
    } catch {
      return `${cmd} does not run (apt-get install ${pkg})`;
    }
  }
  return false;
}

/** A namespace with only `lo` (up); names carry the pid and random bytes so that parallel runs never collide. */
export class IsolatedNamespace {
  readonly name = `smk-imp-${process.pid % 100000}-${randomBytes(2).toString('hex')}`;

  constructor() {
    execFileSync('ip', ['netns', 'add', this.name], { stdio: ['ignore', 'ignore', 'pipe'] });
    execFileSync('ip', ['-n', this.name, 'link', 'set', 'lo', 'up'], { stdio: ['ignore', 'ignore', 'pipe'] });
  }

  /** `ip netns exec NAME cmd args…` as an argument array. */
  wrap(cmd: string, args: readonly string[]): [string, string[]] {
    return ['ip', ['netns', 'exec', this.name, cmd, ...args]];
  }

  /** Runs a command inside; returns its stdout. */
  run(cmd: string, args: readonly string[], opts: { cwd?: string; input?: string } = {}): string {
    const [c, a] = this.wrap(cmd, args);
    return execFileSync(c, a, { cwd: opts.cwd, input: opts.input, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'], maxBuffer: 64 * 1024 * 1024 });
  }

  /** Deletes it (processes still inside are the caller's to stop first). */
  remove(): void {
    try {
      execFileSync('ip', ['netns', 'del', this.name], { stdio: 'ignore' });
    } catch { /* already gone */ }
  }
}

/** What SmokePing's own parser makes of a config (fixtures/smokeping-tree.pl). */
export interface SmokepingView {
  targets: Record<string, Record<string, string>>;
  probes: Record<string, Record<string, string | number>>;
  alerts: Record<string, string | Record<string, string>>;
  slaves: Record<string, Record<string, string>>;
}

const TREE_SCRIPT = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'smokeping-tree.pl');

/** Runs SmokePing's parser on `config` inside the namespace, in `cwd` (SmokePing's relative paths are from there). */
export function smokepingView(ns: IsolatedNamespace, config: string, cwd: string): SmokepingView {
  return JSON.parse(ns.run('perl', [TREE_SCRIPT, config], { cwd })) as SmokepingView;
}
