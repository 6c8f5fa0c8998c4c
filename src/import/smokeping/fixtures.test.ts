// Real-world-shaped SmokePing configs (fixtures/*/config, with their includes): SmokePing's
// own parser reads each one (fixtures/smokeping-tree.pl, in a namespace with nothing but
// loopback, since it looks host names up) and our reading must agree with it, variable by
// variable, inheritance included; the converted config and the report must equal the
// expected files beside it, and the converted config must pass check-config.
// SMOKEMESH_UPDATE_FIXTURES=1 rewrites the expected files (read the diff before committing).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { programProblem } from '../../alerts/notifiers/exec.ts';
import { validateConfig } from '../../server/config-sections.ts';
import { convertConfig } from './convert.ts';
import { targetNodes, readModel, value, type SmokepingModel } from './model.ts';
import { parseSmokepingConfig } from './parser.ts';
import { yamlOf } from './run.ts';
import { IsolatedNamespace, smokepingSkipReason, smokepingView, type SmokepingView } from './testkit.ts';

const HERE = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');
const FIXTURES = readdirSync(HERE, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort();
const UPDATE = process.env.SMOKEMESH_UPDATE_FIXTURES === '1';
const skip = smokepingSkipReason();
let ns: IsolatedNamespace | undefined;
const work = mkdtempSync(join(tmpdir(), 'smokemesh-sp-fixtures-'));

before(() => { if (!skip) ns = new IsolatedNamespace(); });
after(() => {
  ns?.remove();
  rmSync(work, { recursive: true, force: true });
});

/** A copy of the fixture with its secrets files made private (git keeps no modes; SmokePing insists). */
function copyOf(name: string): string {
  const dir = join(work, name);
  cpSync(join(HERE, name), dir, { recursive: true });
  for (const f of readdirSync(dir)) if (f.includes('secrets')) chmodSync(join(dir, f), 0o600);
  return dir;
}

/** Grammar defaults SmokePing fills in that a config does not say (and we do not invent). */
const TARGET_DEFAULTS: Record<string, string> = { hide: 'no', nomasterpoll: 'no' };

function compareWithSmokeping(model: SmokepingModel, view: SmokepingView): void {
  const mine = new Map([...targetNodes(model.targets)].map((n) => ['/' + n.path.join('/'), n]));
  assert.deepEqual([...mine.keys()].sort(), Object.keys(view.targets).sort(), 'the same target sections');
  for (const [path, theirs] of Object.entries(view.targets)) {
    const node = mine.get(path)!;
    const ours = Object.fromEntries([...node.vars].map(([k, v]) => [k, v.value]));
    const expected = Object.fromEntries(Object.entries(theirs).filter(([k, v]) => !(TARGET_DEFAULTS[k] === v && !(k in ours))));
    assert.deepEqual(ours, expected, `variables of ${path}`);
  }
  for (const [name, theirs] of Object.entries(view.probes)) {
    const p = model.probes.get(name);
    assert.ok(p, `probe ${name}`);
    assert.equal(p.module, (theirs._module as string | undefined) ?? name, `module of ${name}`);
    for (const [k, v] of p.vars) assert.equal(v.value, String(theirs[k]), `probe ${name}.${k}`);
  }
  assert.deepEqual([...model.probes.values()].filter((p) => !p.template).map((p) => p.name).sort(),
    Object.keys(view.probes).filter((n) => !model.probes.get(n)?.template).sort());
  const alerts = model.alerts;
  for (const [k, v] of Object.entries(view.alerts)) {
    if (typeof v === 'string') {
      if (k === 'edgetrigger' && v === 'no' && !alerts?.vars.has(k)) continue;
      assert.equal(value(alerts!.vars, k), v, `alerts ${k}`);
      continue;
    }
    const def = alerts!.list.find((a) => a.name === k);
    assert.ok(def, `alert ${k}`);
    for (const [key, val] of Object.entries(v)) {
      // edgetrigger and mailtemplate inherit from the section in SmokePing; smokemesh does the same.
      if (!def.vars.has(key) && ['edgetrigger', 'mailtemplate'].includes(key)) continue;
      assert.equal(value(def.vars, key), val, `alert ${k}.${key}`);
    }
  }
  assert.deepEqual((model.slaves?.list ?? []).map((s) => s.name).sort(), Object.keys(view.slaves).sort());
  for (const s of model.slaves?.list ?? []) {
    assert.deepEqual(Object.fromEntries([...s.vars].map(([k, v]) => [k, v.value])), Object.fromEntries(Object.entries(view.slaves[s.name]!).filter(([, v]) => typeof v === 'string')), `slave ${s.name}`);
  }
}

for (const name of FIXTURES) {
  test(`fixture ${name}: read as SmokePing reads it, converted to the expected config and report, which pass check-config`, { skip }, () => {
    const dir = copyOf(name);
    const config = join(dir, 'config');
    const model = readModel(parseSmokepingConfig(config));
    compareWithSmokeping(model, smokepingView(ns!, config, dir));

    const conv = convertConfig(model, {
      agentName: 'smokeping-master', dataDir: '/var/lib/smokemesh', secretsDir: '/etc/smokemesh/secrets', baseDir: dir,
      exists: existsSync, programProblem, readSecrets: (f) => readFileSync(f, 'utf8'),
    });
    const scrub = (s: string) => s.split(dir).join('<fixture>');
    const yaml = scrub(yamlOf(conv.config, config));
    const report = scrub(conv.report.lines(dir).join('\n') + '\n')
      + conv.series.map((s) => `series ${s.target} ${s.agent} ${s.file} ${s.probe}\n`).join('')
      + conv.secrets.map((s) => `secret ${s.agent} ${s.file} ${s.secret === undefined ? 'new' : 'from smokeping'}\n`).join('');
    const expectedYaml = join(HERE, name, 'expected.yaml');
    const expectedReport = join(HERE, name, 'expected-report.txt');
    if (UPDATE) {
      writeFileSync(expectedYaml, yaml);
      writeFileSync(expectedReport, report);
    }
    assert.equal(yaml, readFileSync(expectedYaml, 'utf8'), `${name}/expected.yaml`);
    assert.equal(report, readFileSync(expectedReport, 'utf8'), `${name}/expected-report.txt`);

    // The expected config, with its paths pointed at a scratch directory, passes check-config.
    const scratch = join(work, `${name}-check`);
    mkdirSync(join(scratch, 'secrets'), { recursive: true });
    for (const s of conv.secrets) writeFileSync(join(scratch, 'secrets', `${s.agent}.secret`), `${'x'.repeat(32)}\n`, { mode: 0o600 });
    const file = join(scratch, 'smokemesh.yaml');
    writeFileSync(file, readFileSync(expectedYaml, 'utf8').split('<fixture>').join(dir)
      .split('/etc/smokemesh/secrets').join(join(scratch, 'secrets')).split('/var/lib/smokemesh').join(join(scratch, 'data')));
    assert.deepEqual(validateConfig(file).issues, []);
  });
}
