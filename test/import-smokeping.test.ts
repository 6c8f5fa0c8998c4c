// Debian's real SmokePing (master and a slave reporting through its CGI) runs for a few
// rounds on loopback targets inside a network namespace that has nothing but `lo` (so it
// cannot send a packet or a DNS query off the machine), with a short step and its config in
// Debian's layout (config + config.d/*, absolute @includes). Then `smokemesh
// import-smokeping` takes the config and the RRDs, and:
// - the written config passes check-config;
// - its tree and alerts are SmokePing's (as SmokePing's own parser reads them);
// - every AVERAGE row of every RRD (master and slave), at each of its resolutions, reads back
//   from the store with the loss and median `rrdtool fetch` gives (to the µs and the ping);
// - a second import writes nothing.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { validateConfig } from '../src/server/config-sections.ts';
import { loadConfig } from '../src/config/loader.ts';
import { findNode, probedTargets } from '../src/config/tree.ts';
import { databaseSection, IsolatedNamespace, PRESENTATION_SECTION, smokepingSkipReason, smokepingView } from '../src/import/smokeping/testkit.ts';
import { openStore } from '../src/store/index.ts';
import { durationName } from '../src/store/tiers.ts';
import { waitFor } from './wait.ts';

const skip = smokepingSkipReason();
const ROOT = join(import.meta.dirname, '..');
const STEP = 5;
const PINGS = 5;
const dir = mkdtempSync(join(tmpdir(), 'smokemesh-sp-e2e-'));
const sp = join(dir, 'smokeping');
// Loopback addresses of this run: 127.0.0.1 answers; LOSSY loses ~40 % and DEAD every echo (nftables in the namespace).
const rnd = (n: number) => 2 + Math.floor(Math.random() * n);
const LOSSY = `127.${rnd(200)}.${rnd(200)}.${rnd(200)}`;
const DEAD = `127.${rnd(200)}.${rnd(200)}.${rnd(200)}`;
const PORT = 20000 + (process.pid % 20000);
let ns: IsolatedNamespace | undefined;
const procs: ChildProcess[] = [];

function writeSmokepingConfig(): void {
  for (const d of ['config.d', 'data', 'cache', 'pid', 'dyn/Loop', 'dyn/Web', 'slave']) mkdirSync(join(sp, d), { recursive: true });
  const w = (f: string, text: string) => writeFileSync(join(sp, f), text.trimStart());
  // Debian's layout: /etc/smokeping/config includes config.d/* with absolute paths.
  w('config', ['General', 'Alerts', 'Database', 'Presentation', 'Probes', 'Slaves', 'Targets'].map((s) => `@include ${sp}/config.d/${s}`).join('\n') + '\n');
  w('config.d/General', `
*** General ***

owner    = smokemesh test
contact  = nobody@localhost
cgiurl   = http://127.0.0.1:${PORT}/smokeping.cgi
syslogfacility = local0

@include ${sp}/config.d/pathnames
`);
  w('config.d/pathnames', `
imgcache = ${sp}/cache
imgurl   = ../smokeping/images
datadir  = ${sp}/data
piddir  = ${sp}/pid
smokemail = /etc/smokeping/smokemail
tmail = /etc/smokeping/tmail
dyndir = ${sp}/dyn
`);
  w('config.d/Alerts', `
*** Alerts ***
to = |/bin/true
from = smokealert@localhost

+someloss
type = loss
# in percent
pattern = >0%,*12*,>0%,*12*,>0%
comment = loss 3 times  in a row

+bigloss
type = loss
pattern = ==0%,==0%,==0%,==0%,>20%,>20%,>20%
comment = suddenly there is packet loss
edgetrigger = yes
`);
  w('config.d/Database', databaseSection({ step: STEP, pings: PINGS, rows: [720, 400, 200], steps: [3, 6] }));
  w('config.d/Presentation', PRESENTATION_SECTION);
  w('config.d/Probes', `
*** Probes ***

+ FPing

binary = /usr/bin/fping
hostinterval = 0.1

+ FPing6

binary = /usr/bin/fping
hostinterval = 0.5

+ Curl

urlformat = http://%host%:${PORT}/
`);
  w('config.d/Slaves', `
*** Slaves ***
secrets=${sp}/smokeping_secrets
+boomer
display_name=boomer
color=0000ff
`);
  w('config.d/Targets', `
*** Targets ***

probe = FPing

menu = Top
title = Network Latency Grapher
remark = Welcome to the SmokePing website of xxx Company. \\
         Here you will learn all about the latency of our network.

+ Loop

menu = 本机
title = 本机回环 Loopback
alerts = someloss

++ lo4

menu = IPv4
title = 127.0.0.1
host = 127.0.0.1
slaves = boomer
alerts = someloss,bigloss

++ lossy

host = ${LOSSY}

++ dead

host = ${DEAD}

++ lo6

probe = FPing6
host = ::1

++ both

host = /Loop/lo4 /Loop/lo4~boomer

+ Web

probe = Curl
menu = Web

++ local

host = 127.0.0.1
`);
  writeFileSync(join(sp, 'smokeping_secrets'), 'boomer:0123456789abcdef0123456789abcdef\n', { mode: 0o600 });
  writeFileSync(join(sp, 'slave', 'secret'), '0123456789abcdef0123456789abcdef\n', { mode: 0o600 });
}

/** Every host SmokePing will probe is a loopback address (it runs where nothing else is reachable anyway). */
function assertOnlyLoopback(): void {
  const hosts = [...readFileSync(join(sp, 'config.d', 'Targets'), 'utf8').matchAll(/^host = (\S+)/gm)].map((m) => m[1]!).filter((h) => !h.startsWith('/'));
  for (const h of hosts) assert.ok(/^127\.\d+\.\d+\.\d+$/.test(h) || h === '::1', `${h} is not loopback`);
}

function start(cmd: string, args: string[], log: string): ChildProcess {
  const [c, a] = ns!.wrap(cmd, args);
  const p = spawn(c, a, { stdio: ['ignore', 'pipe', 'pipe'], cwd: sp });
  const out: Buffer[] = [];
  p.stdout!.on('data', (b: Buffer) => out.push(b));
  p.stderr!.on('data', (b: Buffer) => out.push(b));
  p.on('close', () => writeFileSync(join(sp, log), Buffer.concat(out)));
  procs.push(p);
  return p;
}

async function stop(p: ChildProcess): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return;
  const closed = new Promise((r) => p.once('close', r));
  p.kill('SIGTERM');
  await Promise.race([closed, new Promise((r) => setTimeout(r, 5000))]);
  if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
}

/** `rrdtool fetch FILE AVERAGE -r R`: rows (end time → loss, median) over the span of that archive. */
function fetchRows(file: string, resolution: number, rows: number): Map<number, { loss: number; median: number }> {
  const last = Number(execFileSync('rrdtool', ['last', file], { encoding: 'utf8' }).trim());
  const end = last - (last % resolution);
  const text = execFileSync('rrdtool', ['fetch', file, 'AVERAGE', '-r', String(resolution), '-s', String(end - (rows - 1) * resolution), '-e', String(end)], { encoding: 'utf8' });
  const [header, , ...lines] = text.split('\n');
  const names = header!.trim().split(/\s+/);
  const out = new Map<number, { loss: number; median: number }>();
  let prev: number | undefined;
  for (const line of lines) {
    const m = /^(\d+):\s+(.*)$/.exec(line);
    if (!m) continue;
    const t = Number(m[1]);
    // The archive rrdtool chose has the resolution asked for.
    if (prev !== undefined) assert.equal(t - prev, resolution, `${file}: fetch -r ${resolution} gave rows ${t - prev} s apart`);
    prev = t;
    const v = m[2]!.trim().split(/\s+/).map(Number);
    out.set(t, { loss: v[names.indexOf('loss')]!, median: v[names.indexOf('median')]! });
  }
  return out;
}

function digest(file: string): string {
  const db = new Database(file, { readonly: true });
  try {
    const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as Array<{ name: string }>).map((r) => r.name);
    const h = createHash('sha256');
    for (const t of tables) for (const row of db.prepare(`SELECT * FROM "${t}" ORDER BY 1, 2`).raw().iterate()) h.update(JSON.stringify(row, (_k, v: unknown) => (Buffer.isBuffer(v) ? v.toString('hex') : v)));
    return h.digest('hex');
  } finally {
    db.close();
  }
}

function runImport(): string {
  return execFileSync(process.execPath, [join(ROOT, 'bin', 'smokemesh.js'), 'import-smokeping', '--config', join(sp, 'config'),
    '--out', join(dir, 'mesh', 'smokemesh.yaml'), '--data-dir', join(dir, 'mesh', 'data'), '--agent-name', 'master'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

before(async () => {
  if (skip) return;
  writeSmokepingConfig();
  assertOnlyLoopback();
  ns = new IsolatedNamespace();
  ns.run('nft', ['-f', '-'], { input: `table inet smkimp {
  chain out {
    type filter hook output priority 0;
    ip daddr ${LOSSY} icmp type echo-request numgen random mod 10 < 4 drop
    ip daddr ${DEAD} icmp type echo-request drop
  }
}
` });
  start(process.execPath, [join(ROOT, 'test', 'fixtures', 'smokeping-cgi.mjs'), String(PORT), join(sp, 'config')], 'cgi.log');
  start('smokeping', [`--config=${join(sp, 'config')}`, '--nodaemon', `--logfile=${join(sp, 'master.log')}`], 'master.out');
  start('smokeping', [`--master-url=http://127.0.0.1:${PORT}/smokeping.cgi`, `--cache-dir=${join(sp, 'slave')}`, `--shared-secret=${join(sp, 'slave', 'secret')}`,
    '--slave-name=boomer', `--pid-dir=${join(sp, 'slave')}`, '--nodaemon', `--logfile=${join(sp, 'slave.log')}`], 'slave.out');
  // A few rounds: at least three rows of the coarsest archive (6 steps) in every RRD, the slave's included.
  const rrds = ['Loop/lo4', 'Loop/lossy', 'Loop/dead', 'Loop/lo6', 'Web/local', 'Loop/lo4~boomer'].map((f) => join(sp, 'data', `${f}.rrd`));
  await waitFor('three 30 s rows with data in every RRD', () => rrds.every((f) => existsSync(f) && fetchRows(f, STEP * 6, 30).size > 0
    && [...fetchRows(f, STEP * 6, 30).values()].filter((r) => !Number.isNaN(r.loss)).length >= 3), 240_000, 2000);
  for (const p of [...procs].reverse()) await stop(p);
});

after(async () => {
  for (const p of procs) await stop(p);
  ns?.remove();
  rmSync(dir, { recursive: true, force: true });
});

test('import of a real SmokePing: config passes check-config, tree and alerts match, every RRD row reads back, a second import writes nothing', { skip, timeout: 600_000 }, (t) => {
  const out = runImport();
  const file = join(dir, 'mesh', 'smokemesh.yaml');
  assert.match(out, /smokemesh\.yaml: written \(passes check-config\)/);
  assert.match(out, /history: 6 RRD\(s\) read, 0 missing, 0 failed/);
  assert.match(out, /\/Loop\/both is a multi-host graph/);
  assert.deepEqual(validateConfig(file).issues, []);
  execFileSync(process.execPath, [join(ROOT, 'bin', 'smokemesh.js'), 'check-config', file], { stdio: 'ignore' });
  assert.equal(statSync(join(dir, 'mesh', 'secrets', 'boomer.secret')).mode & 0o777, 0o600);
  assert.equal(readFileSync(join(dir, 'mesh', 'secrets', 'boomer.secret'), 'utf8'), '0123456789abcdef0123456789abcdef\n');

  // The tree and the alerts, against SmokePing's own reading of its config.
  const config = loadConfig(file);
  const view = smokepingView(ns!, join(sp, 'config'), sp);
  const probed = new Set(probedTargets(config.targets).map((t) => t.path));
  for (const [path, v] of Object.entries(view.targets)) {
    if (!v.host || v.host.startsWith('/')) continue;
    const node = findNode(config.targets, path);
    assert.ok(node?.probe && probed.has(path), `${path} is a target`);
    assert.equal(node.probe.host, v.probe === 'Curl' ? `http://${v.host}:${PORT}/` : v.host, `${path} host`);
    assert.equal(node.probe.type, v.probe === 'Curl' ? 'http' : 'icmp');
    assert.equal(node.probe.preset, v.probe);
    assert.deepEqual(node.alerts, (v.alerts ?? '').split(',').filter(Boolean), `${path} alerts`);
    assert.deepEqual(node.agents, v.slaves ? v.slaves.split(/\s+/) : 'none', `${path} agents`);
    if (v.menu) assert.equal(node.menu, v.menu);
    if (v.title) assert.equal(node.title, v.title);
    assert.equal(node.probe.params.pings, PINGS);
    assert.equal(node.probe.params.step, STEP);
  }
  assert.equal(probed.size, 5);
  assert.equal(findNode(config.targets, '/Loop')!.menu, '本机');
  const alerts = config.raw.alerts as Record<string, Record<string, unknown>>;
  for (const name of ['someloss', 'bigloss']) {
    const theirs = view.alerts[name] as Record<string, string>;
    assert.equal(alerts[name]!.pattern, theirs.pattern);
    assert.equal(alerts[name]!.type, theirs.type);
    assert.equal(alerts[name]!.comment, theirs.comment);
  }
  assert.equal(alerts.bigloss!.edgetrigger, true);
  assert.deepEqual((config.raw.agents as Array<{ name: string }>).map((a) => a.name), ['boomer']);

  // Every row of every AVERAGE archive, from the store, against rrdtool fetch.
  const store = openStore(config.general.data_dir, config.store, undefined, { timers: false });
  let compared = 0;
  let partialLoss = 0;
  let fullLoss = 0;
  try {
    for (const [rrd, target, agent] of [['Loop/lo4', '/Loop/lo4', 'master'], ['Loop/lo4~boomer', '/Loop/lo4', 'boomer'], ['Loop/lossy', '/Loop/lossy', 'master'],
      ['Loop/dead', '/Loop/dead', 'master'], ['Loop/lo6', '/Loop/lo6', 'master'], ['Web/local', '/Web/local', 'master']] as const) {
      for (const [pdp, rows] of [[1, 720], [3, 400], [6, 200]] as const) {
        const res = STEP * pdp;
        const fetched = [...fetchRows(join(sp, 'data', `${rrd}.rrd`), res, rows)].filter(([, r]) => !Number.isNaN(r.loss));
        assert.ok(fetched.length >= 3, `${rrd}: ${fetched.length} rows of ${res} s`);
        const from = (fetched[0]![0] - res) * 1000;
        const to = (fetched[fetched.length - 1]![0] - res) * 1000;
        // Asking for one point per row picks the tier of that size (raw for the step).
        const s = store.series({ target, agent, from, to, points: Math.round((to - from) / (res * 1000)) + 1 });
        assert.equal(s.tier, pdp === 1 ? 'raw' : durationName(res), `${rrd} at ${res} s`);
        const byTime = new Map(s.points.map((p) => [p.time, p]));
        for (const [t, r] of fetched) {
          const p = byTime.get((t - res) * 1000);
          assert.ok(p, `${rrd} ${res} s row ${t}: stored`);
          // Whole pings: the bucket's lost count is the row's mean loss × its rounds, rounded, but a
          // row with a median received at least one ping (rrdtool averages a row's loss over time,
          // so a 5 s row can say 4.6 of 5 lost and still have a median).
          const lostMean = r.loss * p.rounds;
          const expectLost = Number.isNaN(r.median) || r.loss >= PINGS ? lostMean : Math.min(lostMean, PINGS * pdp - 1);
          assert.ok(Math.abs(p.lost - expectLost) <= 0.5 + 1e-9, `${rrd} ${res} s ${t}: lost ${p.lost} of ${p.sent}, rrdtool ${r.loss} per round`);
          assert.equal(p.sent, PINGS * pdp);
          if (Number.isNaN(r.median)) assert.equal(p.median, null, `${rrd} ${res} s ${t}: no median`);
          else assert.ok(Math.abs(p.median! - r.median * 1000) <= 0.0005 + 1e-9, `${rrd} ${res} s ${t}: median ${p.median} ms, rrdtool ${r.median * 1000} ms`);
          compared++;
          if (r.loss > 0 && r.loss < PINGS) partialLoss++;
          if (r.loss === PINGS) fullLoss++;
        }
      }
    }
  } finally {
    store.close();
  }
  t.diagnostic(`${compared} RRD rows compared (${partialLoss} with some loss, ${fullLoss} with all lost)`);
  assert.ok(compared > 50, `${compared} rows compared`);
  // The lossy and dead targets exercised both loss paths (lost pings among the ranks, no reply at all).
  assert.ok(partialLoss > 0 && fullLoss > 0, `${partialLoss} rows with some loss, ${fullLoss} with all lost`);

  // Again: the config, the secrets and every row of the store stay as they are.
  const yaml = readFileSync(file);
  const before = digest(join(config.general.data_dir, 'smokemesh.db'));
  const again = runImport();
  assert.match(again, /smokemesh\.yaml: unchanged/);
  const written = /history: .*?; (\d+) raw rounds and buckets \(([^)]*)\) written/.exec(again);
  assert.ok(written, again);
  assert.equal(written[1], '0');
  for (const part of written[2]!.split(', ')) assert.match(part, / 0$/, part);
  assert.match(again, /6 series already complete/);
  assert.deepEqual(readFileSync(file), yaml);
  assert.equal(digest(join(config.general.data_dir, 'smokemesh.db')), before);
  assert.ok(!readdirSync(join(dir, 'mesh')).includes('smokemesh.yaml.bak'));
});
