import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from '../src/config/loader.ts';
import { parseMesh } from '../src/config/mesh-schema.ts';
import { probedTargets, findNode } from '../src/config/tree.ts';
import { meshTree, type MeshMember } from '../src/plan/mesh.ts';
import { planFor } from '../src/plan/plan.ts';

const YAML = `
general: { pings: 5, step: 30 }
targets:
  children:
    Local: { host: 127.0.0.1 }
mesh:
  - name: Mesh
    probe: icmp
  - name: MeshSelf
    probe: tcp
    port: 7000
    self_region: true
    regions: [eu]
  - name: Web
    probe: http
    address: public
    port: 8080
    url_path: /health
  - type: http
    region: ext
    targets: [http://127.0.0.1:9/a/b, http://127.0.0.1:9/a/b/]
    http: { valid_status_codes: [200, 204] }
  - prober_type: icmp
    region: eu
    self_region: false
    targets: [127.0.0.9]
`;
const m = (name: string, region: string, intranet?: string, pub?: string, builtin = false): MeshMember =>
  ({ name, region, labels: {}, builtin, ...(intranet ? { intranet } : {}), ...(pub ? { public: pub } : {}) });
const members = [
  m('srv', 'eu', '10.0.0.1', undefined, true), m('eu2', 'eu', '10.0.0.2'), m('us1', 'us', '10.0.1.1', '192.0.2.1'), m('ap1', 'ap', '10.0.2.1'),
];

function load() {
  const config = parseConfig(YAML, 'mesh.yaml');
  const { mesh, issues } = parseMesh(config);
  assert.deepEqual(issues, []);
  return { config, mesh, tree: meshTree(config.targets, mesh, config, members) };
}

test('mesh groups become /<mesh>/<region>/<agent> targets probed by the other regions', () => {
  const { tree } = load();
  const node = findNode(tree, '/Mesh/us/us1')!;
  assert.equal(node.probe!.host, '10.0.1.1');
  assert.equal(node.probe!.type, 'icmp');
  assert.equal(node.probe!.params.pings, 5);
  assert.equal(node.probe!.params.step, 30);
  assert.equal(node.probe!.params.packet_size, 56, 'probe defaults filled in');
  assert.deepEqual(node.labels, { mesh: 'Mesh', region: 'us', agent: 'us1' });
  assert.deepEqual([...(node.agents as string[])].sort(), ['ap1', 'eu2']);
  assert.equal(node.server_probes, true, 'the built-in agent (region eu) probes us1');
  const eu2 = findNode(tree, '/Mesh/eu/eu2')!;
  assert.deepEqual([...(eu2.agents as string[])].sort(), ['ap1', 'us1']);
  assert.equal(eu2.server_probes, false, 'same region, no self_region: the built-in agent does not probe eu2');
  assert.ok(findNode(tree, '/Local'), 'the config targets stay');
});

test('self_region and regions: the eu-only tcp mesh probes eu agents from eu, never an agent itself', () => {
  const { tree } = load();
  const group = findNode(tree, '/MeshSelf')!;
  assert.deepEqual(group.children.map((c) => c.name), ['eu']);
  const eu2 = findNode(tree, '/MeshSelf/eu/eu2')!;
  assert.deepEqual(eu2.agents, [], 'no remote agent of eu except eu2 itself');
  assert.equal(eu2.server_probes, true);
  assert.equal(eu2.probe!.params.port, 7000);
  const srv = findNode(tree, '/MeshSelf/eu/srv')!;
  assert.deepEqual(srv.agents, ['eu2']);
  assert.equal(srv.server_probes, false, 'the built-in agent does not probe itself');
});

test('public address meshes skip agents without one and build the URL', () => {
  const { tree } = load();
  const web = findNode(tree, '/Web')!;
  assert.deepEqual(probedTargets(web).map((t) => [t.path, t.probe.host]), [['/Web/us/us1', 'http://192.0.2.1:8080/health']]);
});

test('static region targets (ProberMesh probe file form) sit under /regions/<region>/', () => {
  const { tree } = load();
  const ext = findNode(tree, '/regions/ext')!;
  assert.deepEqual(ext.children.map((c) => [c.name, c.title]), [['127.0.0.1:9_a_b', 'http://127.0.0.1:9/a/b'], ['127.0.0.1:9_a_b #2', 'http://127.0.0.1:9/a/b/']]);
  assert.deepEqual(ext.children[0]!.probe!.params.valid_status_codes, [200, 204]);
  assert.equal(ext.children[0]!.agents, 'all');
  const eu = findNode(tree, '/regions/eu/127.0.0.9')!;
  assert.deepEqual(eu.agents, { region: ['us', 'ap'] }, 'every region but the targets\' own');
  assert.equal(eu.server_probes, false, 'built-in agent is in eu, excluded by self_region: false');
});

test('plans follow membership: a joining agent appears as a target and gets the others', () => {
  const { config, mesh } = load();
  const before = meshTree(config.targets, mesh, config, members);
  const joined = [...members, m('us2', 'us', '10.0.1.2')];
  const after = meshTree(config.targets, mesh, config, joined);
  const ap = { name: 'ap1', region: 'ap', labels: {}, builtin: false };
  const p0 = planFor(before, ap, members).assignments.map((a) => a.target).filter((t) => t.startsWith('/Mesh/'));
  const p1 = planFor(after, ap, joined).assignments.map((a) => a.target).filter((t) => t.startsWith('/Mesh/'));
  assert.deepEqual(p1.filter((t) => !p0.includes(t)), ['/Mesh/us/us2']);
  const us2 = planFor(after, { name: 'us2', region: 'us', labels: {}, builtin: false }, joined).assignments.map((a) => a.target);
  assert.deepEqual(us2.filter((t) => t.startsWith('/Mesh/')), ['/Mesh/ap/ap1', '/Mesh/eu/eu2', '/Mesh/eu/srv']);
  const left = meshTree(config.targets, mesh, config, members.filter((x) => x.name !== 'us1'));
  assert.equal(findNode(left, '/Mesh/us'), undefined, 'an empty region disappears with its last agent');
});

test('mesh config errors are located and name the field', () => {
  const bad = parseConfig(`
targets:
  children:
    Taken: { host: 127.0.0.1 }
mesh:
  - name: Taken
  - name: T
    probe: tcp
  - name: X
    probe: icmp
    adress: public
  - type: icmp
    region: eu
    targets: [127.0.0.1]
    http: { method: GET }
  - name: Y
  - name: Y
`, 'bad.yaml');
  const { issues } = parseMesh(bad);
  const text = issues.map((i) => `${i.file}:${i.line}: ${i.path}: ${i.message}`);
  assert.ok(text.some((t) => /bad\.yaml:6: mesh\.0\.name: .*already a top-level target node/.test(t)), text.join('\n'));
  assert.ok(text.some((t) => /bad\.yaml:7: mesh\.1: a tcp mesh needs `port`/.test(t)), text.join('\n'));
  assert.ok(text.some((t) => /mesh\.2\.adress: unknown field/.test(t)), text.join('\n'));
  assert.ok(text.some((t) => /mesh\.3\.http: an `http` block only applies to type http/.test(t)), text.join('\n'));
  assert.ok(text.some((t) => /mesh\.5\.name: "Y" is used twice/.test(t)), text.join('\n'));
});

test('not a list: one clear error', () => {
  const { issues } = parseMesh(parseConfig('mesh: { name: x }\n', 'm.yaml'));
  assert.equal(issues.length, 1);
  assert.match(issues[0]!.message, /mesh must be a list/);
});
