import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError } from '../errors.ts';
import { parseConfig } from './loader.ts';
import { findNode, probedTargets } from './tree.ts';

function issuesOf(text: string) {
  try {
    parseConfig(text, 'x.yaml');
  } catch (e) {
    assert.ok(e instanceof ConfigError, String(e));
    return e.issues;
  }
  assert.fail('expected a ConfigError');
}

test('defaults fill general and every probed target gets resolved params', () => {
  const c = parseConfig('targets:\n  children:\n    a: { host: 127.0.0.1 }\n');
  assert.equal(c.general.step, 60);
  assert.equal(c.general.pings, 20);
  assert.equal(c.general.listen, '0.0.0.0:8888');
  const [t] = probedTargets(c.targets);
  assert.equal(t!.path, '/a');
  assert.equal(t!.probe.type, 'icmp');
  assert.equal(t!.probe.params.pings, 20);
  assert.equal(t!.probe.params.packet_size, 56);
});

test("SmokePing inheritance: probe, alerts, params inherit; menu and title do not; labels merge; alerts: [] clears", () => {
  const c = parseConfig(`
probes:
  web: { type: tcp, port: 80 }
targets:
  probe: web
  alerts: [bigloss]
  labels: { isp: ct }
  children:
    G:
      menu: Group G
      title: The G group
      pings: 7
      labels: { province: 广东 }
      children:
        h1: { host: 127.0.0.1 }
        h2: { host: 127.0.0.2, alerts: [], port: 443, labels: { isp: cu } }
        h3: { host: 127.0.0.3, probe: icmp }
`);
  const h1 = findNode(c.targets, '/G/h1')!;
  assert.equal(h1.probe!.type, 'tcp');
  assert.equal(h1.probe!.params.pings, 7);
  assert.equal(h1.probe!.params.port, 80);
  assert.deepEqual(h1.alerts, ['bigloss']);
  assert.deepEqual(h1.labels, { isp: 'ct', province: '广东' });
  assert.equal(h1.menu, 'h1', 'menu does not inherit: defaults to the node name');
  assert.equal(h1.title, '127.0.0.1', 'title does not inherit: defaults to the host');
  const h2 = findNode(c.targets, '/G/h2')!;
  assert.deepEqual(h2.alerts, []);
  assert.equal(h2.probe!.params.port, 443);
  assert.equal(h2.labels.isp, 'cu');
  // An inherited tcp parameter does not leak into an icmp target.
  const h3 = findNode(c.targets, '/G/h3')!;
  assert.equal(h3.probe!.type, 'icmp');
  assert.equal(h3.probe!.params.port, undefined);
  assert.equal(h3.probe!.params.pings, 7);
});

test('UTF-8 names and quotes survive as data', () => {
  const c = parseConfig(`targets:\n  children:\n    华南电信:\n      menu: '"<script>"'\n      children:\n        广州: { host: 127.0.0.1 }\n`);
  const n = findNode(c.targets, '/华南电信/广州')!;
  assert.equal(n.path, '/华南电信/广州');
  assert.equal(findNode(c.targets, '/华南电信')!.menu, '"<script>"');
});

test('errors name file, line, column and field, and say what is allowed', () => {
  const issues = issuesOf(`general:
  step: 0
targets:
  children:
    a:
      host: 127.0.0.1
      pigns: 3
    b:
      probe: nosuch
      host: 127.0.0.1
    c:
      probe: tcp
      host: 127.0.0.1
`);
  const byPath = Object.fromEntries(issues.map((i) => [i.path, i]));
  assert.equal(byPath['general.step']!.line, 2);
  assert.match(byPath['general.step']!.message, />= 1/);
  const pigns = byPath['targets.children.a.pigns']!;
  assert.equal(pigns.line, 7);
  assert.equal(pigns.file, 'x.yaml');
  assert.match(pigns.message, /unknown field "pigns".*pings/);
  assert.match(byPath['targets.children.b.probe']!.message, /unknown probe "nosuch"/);
  assert.equal(byPath['targets.children.b.probe']!.line, 9);
});

test('a tcp target without port is an error at that target', () => {
  const issues = issuesOf('targets:\n  children:\n    c: { probe: tcp, host: 127.0.0.1 }\n');
  assert.equal(issues.length, 1);
  assert.match(issues[0]!.message, /port/);
  assert.equal(issues[0]!.line, 3);
});

test('YAML syntax errors and duplicate keys are located', () => {
  const issues = issuesOf('general:\n  step: 60\n  step: 30\n');
  assert.equal(issues[0]!.line, 3);
  assert.match(issues[0]!.message, /duplicate key "step" \(first on line 2\)/);
  assert.ok(issuesOf('targets: [\n')[0]!.line >= 1);
});

test('unknown preset parameters are refused; other sections are kept unchecked by the core loader', () => {
  const issues = issuesOf('probes:\n  p: { type: icmp, port: 3 }\n');
  assert.ok(issues.some((i) => i.path === 'probes.p.port' && /unknown parameter "port"/.test(i.message)));
  assert.deepEqual(parseConfig('genral: {}\n').raw.genral, {}, 'validateConfig (every section) refuses it: src/server/config-sections.test.ts');
});

test('a node without host or children is an error', () => {
  const issues = issuesOf('targets:\n  children:\n    empty: { menu: x }\n');
  assert.match(issues[0]!.message, /needs a host/);
});

test('store: backend victoriametrics needs a url; a bad url or backend is an error at its field', () => {
  const t = 'targets:\n  children:\n    a: { host: 127.0.0.1 }\n';
  const ok = parseConfig(`store:\n  backend: victoriametrics\n  url: http://127.0.0.1:8428\n${t}`);
  assert.equal(ok.store.backend, 'victoriametrics');
  assert.equal(ok.store.timeout_ms, 10000);
  assert.equal(parseConfig(t).store.backend, 'sqlite');
  const errorsOf = (text: string) => issuesOf(text).map((i) => `${i.file}:${i.line}:${i.column} ${i.path}: ${i.message}`).join('\n');
  const msg = errorsOf(`store:\n  backend: victoriametrics\n${t}`);
  assert.match(msg, /x\.yaml:2:\d+ .*store\.backend.*needs store\.url/);
  assert.match(errorsOf(`store:\n  backend: influx\n${t}`), /x\.yaml:2:\d+ .*store\.backend/);
  assert.match(errorsOf(`store:\n  backend: victoriametrics\n  url: ftp://x\n${t}`), /x\.yaml:3:\d+ .*store\.url/);
});

test('store: the VictoriaMetrics cluster form (insert_url + select_url, tenant) or url alone; a mix, a half or a bad tenant is an error at its field and line', () => {
  const t = 'targets:\n  children:\n    a: { host: 127.0.0.1 }\n';
  const vm = (lines: string) => `store:\n  backend: victoriametrics\n${lines}${t}`;
  const ok = parseConfig(vm('  insert_url: http://vminsert:8480\n  select_url: http://vmselect:8481/\n  tenant: "7:3"\n'));
  assert.equal(ok.store.insert_url, 'http://vminsert:8480');
  assert.equal(ok.store.tenant, '7:3');
  assert.equal(parseConfig(vm('  insert_url: http://i:8480\n  select_url: http://s:8481\n')).store.tenant, undefined, 'the default tenant "0" is applied where the URLs are derived');
  assert.equal(parseConfig(vm('  insert_url: http://i:8480\n  select_url: http://s:8481\n  tenant: 42\n')).store.tenant, 42);
  assert.equal(parseConfig(vm(`  insert_url: http://i:8480\n  select_url: http://s:8481\n  tenant: "${2 ** 32 - 1}:0"\n`)).store.tenant, `${2 ** 32 - 1}:0`);
  const errorsOf = (text: string) => issuesOf(text).map((i) => `${i.file}:${i.line}:${i.column} ${i.path}: ${i.message}`).join('\n');
  const cases: Array<[string, RegExp]> = [
    // Neither form.
    ['', /x\.yaml:2:\d+ store\.backend: .*needs store\.url .*or store\.insert_url and store\.select_url/],
    // A mix of both forms.
    ['  url: http://vm:8428\n  insert_url: http://i:8480\n  select_url: http://s:8481\n', /x\.yaml:4:\d+ store\.insert_url: store\.url \(single node\) and store\.insert_url \(cluster\) are two forms/],
    ['  url: http://vm:8428\n  select_url: http://s:8481\n', /x\.yaml:4:\d+ store\.select_url: store\.url \(single node\) and store\.select_url/],
    // Half of the cluster form.
    ['  insert_url: http://i:8480\n', /x\.yaml:3:\d+ store\.insert_url: the cluster needs store\.select_url/],
    ['  select_url: http://s:8481\n', /x\.yaml:3:\d+ store\.select_url: the cluster needs store\.insert_url/],
    // A tenant without the cluster.
    ['  url: http://vm:8428\n  tenant: 3\n', /x\.yaml:4:\d+ store\.tenant: a tenant is for the VictoriaMetrics cluster/],
    // Bad tenants.
    ['  insert_url: http://i:8480\n  select_url: http://s:8481\n  tenant: "7:"\n', /x\.yaml:5:\d+ store\.tenant: "7:" is not a tenant/],
    ['  insert_url: http://i:8480\n  select_url: http://s:8481\n  tenant: "a:b"\n', /x\.yaml:5:\d+ store\.tenant: "a:b" is not a tenant/],
    ['  insert_url: http://i:8480\n  select_url: http://s:8481\n  tenant: 4294967296\n', /x\.yaml:5:\d+ store\.tenant: "4294967296" is not a tenant/],
    ['  insert_url: http://i:8480\n  select_url: http://s:8481\n  tenant: "1:4294967296"\n', /x\.yaml:5:\d+ store\.tenant: "1:4294967296" is not a tenant/],
    ['  insert_url: http://i:8480\n  select_url: http://s:8481\n  tenant: -1\n', /x\.yaml:5:\d+ store\.tenant/],
    // Bad URLs: not http(s), a query, a cluster path already in it.
    ['  insert_url: ftp://i\n  select_url: http://s:8481\n', /x\.yaml:3:\d+ store\.insert_url/],
    ['  insert_url: http://i:8480\n  select_url: http://s:8481?x=1\n', /x\.yaml:4:\d+ store\.select_url: .*has a query or fragment/],
    ['  insert_url: http://i:8480/insert/0/prometheus\n  select_url: http://s:8481\n', /x\.yaml:3:\d+ store\.insert_url: .*already holds a cluster path; .*store\.tenant/],
  ];
  for (const [lines, re] of cases) assert.match(errorsOf(vm(lines)), re, lines);
  // The fields are judged whatever the backend says (data copy reads them with backend sqlite).
  assert.match(errorsOf(`store:\n  insert_url: http://i:8480\n${t}`), /x\.yaml:2:\d+ store\.insert_url: the cluster needs store\.select_url/);
  assert.match(errorsOf(`store:\n  tenant: "1"\n${t}`), /x\.yaml:2:\d+ store\.tenant: a tenant needs store\.insert_url/);
});
