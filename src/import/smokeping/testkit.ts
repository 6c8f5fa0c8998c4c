import { execFileSync, spawn } from 'node:child_process';
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

/** One synthetic round for makeSmokepingRrd: received RTTs in ms (any order) out of `pings`. */
export type SyntheticRound = (time: number) => number[];

/**
 * SmokePing's rrdupdate string for one round (Smokeping::probes::base): loss, median, then
 * the sorted RTTs in seconds with the lost pings as U, half before and half after them.
 */
export function smokepingUpdate(rttsMs: number[], pings: number): string {
  const rtts = [...rttsMs].sort((a, b) => a - b).map((v) => v / 1000);
  const lost = pings - rtts.length;
  const median = rtts.length ? rtts[Math.floor(rtts.length / 2)]!.toExponential(10) : 'U';
  const before = Math.floor(lost / 2);
  return `U:${lost}:${median}:${[...Array(before).fill('U'), ...rtts.map((v) => v.toExponential(10)), ...Array(lost - before).fill('U')].join(':')}`;
}

/**
 * Creates an RRD as SmokePing does (DS uptime, loss, median, ping1..pingN; the RRAs of its
 * default Database section) and fills it with `rrdtool update` through `rrdtool -`, one round
 * per step ending `offset` (default 17) seconds into it, from `end - days` to `end` (unix seconds).
 */
export async function makeSmokepingRrd(file: string, o: { end: number; days: number; step?: number; pings?: number; offset?: number; round: SyntheticRound }): Promise<void> {
  const step = o.step ?? 300;
  const pings = o.pings ?? 20;
  const ds = ['uptime', 'loss', 'median', ...Array.from({ length: pings }, (_, i) => `ping${i + 1}`)]
    .map((n) => `DS:${n}:GAUGE:${2 * step}:0:${n === 'loss' ? pings : 'U'}`);
  const start = o.end - o.days * 86400;
  execFileSync('rrdtool', ['create', file, '--start', String(start - 1), '--step', String(step), ...ds,
    'RRA:AVERAGE:0.5:1:1008', 'RRA:AVERAGE:0.5:12:4320', 'RRA:MIN:0.5:12:4320', 'RRA:MAX:0.5:12:4320',
    'RRA:AVERAGE:0.5:144:720', 'RRA:MAX:0.5:144:720', 'RRA:MIN:0.5:144:720']);
  const p = spawn('rrdtool', ['-'], { stdio: ['pipe', 'ignore', 'inherit'] });
  const done = new Promise<void>((resolve, reject) => p.on('close', (c) => (c === 0 ? resolve() : reject(new Error(`rrdtool - exited ${c}`)))));
  let batch: string[] = [];
  // Rounds end `offset` s after a step boundary (offset 0: one round per row exactly).
  for (let t = (Math.floor(start / step) + 1) * step + (o.offset ?? 17); t < o.end; t += step) {
    batch.push(`${t}:${smokepingUpdate(o.round(t), pings)}`);
    if (batch.length === 500) {
      if (!p.stdin.write(`update ${file} ${batch.join(' ')}\n`)) await new Promise((r) => p.stdin.once('drain', r));
      batch = [];
    }
  }
  if (batch.length) p.stdin.write(`update ${file} ${batch.join(' ')}\n`);
  p.stdin.end();
  await done;
}

/** A `*** Database ***` section with SmokePing's documented RRA layout (1 step; AVERAGE/MIN/MAX of `steps[0]`; AVERAGE/MAX/MIN of `steps[1]`). */
export function databaseSection(o: { step?: number; pings?: number; rows?: [number, number, number]; steps?: [number, number] } = {}): string {
  const [r1, r2, r3] = o.rows ?? [1008, 4320, 720];
  const [s2, s3] = o.steps ?? [12, 144];
  return `*** Database ***

step     = ${o.step ?? 300}
pings    = ${o.pings ?? 20}

# consfn mrhb steps total

AVERAGE  0.5   1  ${r1}
AVERAGE  0.5  ${s2}  ${r2}
    MIN  0.5  ${s2}  ${r2}
    MAX  0.5  ${s2}  ${r2}
AVERAGE  0.5 ${s3}  ${r3}
    MAX  0.5 ${s3}  ${r3}
    MIN  0.5 ${s3}  ${r3}
`;
}

/** Debian's `*** Presentation ***` section (overview and the four detail ranges). */
export const PRESENTATION_SECTION = `*** Presentation ***

template = /etc/smokeping/basepage.html
charset = utf-8

+ overview

width = 600
height = 50
range = 10h

+ detail

width = 600
height = 200
unison_tolerance = 2

"Last 3 Hours"    3h
"Last 30 Hours"   30h
"Last 10 Days"    10d
"Last 360 Days"   360d
`;

/** A one-file SmokePing config with its directories under `dir` (datadir `dir/data`), FPing, and the given Targets body. */
export function smokepingConfig(o: { dir: string; targets: string; step?: number; pings?: number }): string {
  return `*** General ***
owner = smokemesh test
contact = nobody@localhost
cgiurl = http://127.0.0.1/smokeping.cgi
imgcache = ${o.dir}/cache
imgurl = cache
datadir = ${o.dir}/data
piddir = ${o.dir}/pid
smokemail = /etc/smokeping/smokemail
tmail = /etc/smokeping/tmail

${databaseSection({ step: o.step ?? 300, pings: o.pings ?? 20 })}
${PRESENTATION_SECTION}
*** Probes ***
+ FPing
binary = /usr/bin/fping

*** Targets ***
probe = FPing
${o.targets}`;
}
