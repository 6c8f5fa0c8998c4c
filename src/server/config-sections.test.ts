import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import Type from 'typebox';
import { checkConfigText } from '../config/check.ts';
import type { ConfigSection } from '../config/section.ts';
import type { ConfigIssue } from '../errors.ts';
import { BROKEN_CONFIGS, writeCaseFiles, type Expected } from '../../test/fixtures/broken-configs.ts';
import { ConfigSchema, SECTIONS, validateConfig, validateConfigText } from './config-sections.ts';
import { alertHistoryDays } from '../alerts/config.ts';

const dir = mkdtempSync(join(tmpdir(), 'smokemesh-sections-'));
writeCaseFiles(dir);
after(() => rmSync(dir, { recursive: true, force: true }));

/** Every expected problem is there, located, and nothing else is. */
export function assertIssues(got: ConfigIssue[], want: Expected[], what: string): void {
  const show = got.map((i) => `${i.line}:${i.column} ${i.path}: ${i.message}`).join('\n');
  assert.equal(got.length, want.length, `${what}: expected ${want.length}, got\n${show}`);
  for (const w of want) {
    assert.ok(got.some((i) => i.line === w.line && i.path === w.path && w.message.test(i.message) && i.column >= 1), `${what}: no ${w.line} ${w.path} ${w.message} in\n${show}`);
  }
}

for (const c of BROKEN_CONFIGS) {
  test(`check-config: ${c.name}`, () => {
    const file = join(dir, 'case.yaml');
    writeFileSync(file, c.yaml(dir));
    const v = validateConfig(file);
    assertIssues(v.issues, c.errors, 'errors');
    assertIssues(v.warnings, c.warnings ?? [], 'warnings');
    assert.equal(v.config === undefined, c.errors.length > 0, 'a config comes back exactly when there is no error');
    for (const i of v.issues) assert.equal(i.file, file);
  });
}

test('the file schema is derived from the list of sections: one entry per top-level key', () => {
  const keys = SECTIONS.map((s) => s.key);
  assert.equal(new Set(keys).size, keys.length, 'no section is listed twice');
  assert.deepEqual(Object.keys((ConfigSchema as unknown as { properties: object }).properties), keys);
  for (const k of ['general', 'store', 'probes', 'targets', 'alerts', 'notifiers', 'agents', 'mesh', 'export']) assert.ok(keys.includes(k), k);
});

test('adding a section is one entry: its schema is enforced and its check runs with the others', () => {
  const extra: ConfigSection = {
    key: 'colours',
    schema: Type.Optional(Type.Object({ theme: Type.Enum(['dark', 'light']) }, { additionalProperties: false })),
    check: (c) => {
      if ((c.config.raw.colours as { theme?: string } | undefined)?.theme === 'dark') c.warn(['colours', 'theme'], 'dark is experimental');
    },
  };
  const list = [...SECTIONS, extra];
  const yaml = 'colours: { theme: dark }\ntargets: { children: { a: { host: 127.0.0.1 } } }\n';
  assert.match(validateConfigText(yaml, 'x.yaml').issues[0]!.message, /unknown field "colours"/, 'not in the list: refused');
  const v = checkConfigText(yaml, 'x.yaml', list);
  assert.deepEqual(v.issues, []);
  assert.deepEqual(v.warnings.map((w) => [w.line, w.path, w.message]), [[1, 'colours.theme', 'dark is experimental']]);
  const bad = checkConfigText('colours: { theme: blue }\ntargets: {}\n', 'x.yaml', list);
  assert.equal(bad.issues[0]!.path, 'colours.theme');
});

test('every problem of every section comes at once, in file order', () => {
  const yaml = `general:\n  listen: "nope"\nstore:\n  tiers: []\nalerts:\n  a: { type: loss, pattern: ">5" }\nmesh: { name: x }\nexport: { remote_write: [ { url: "ftp://x" } ] }\nagents:\n  - { name: "bad name", secret_file: /x }\ntargets:\n  children:\n    "x/y": { host: 127.0.0.1 }\n`;
  const v = validateConfigText(yaml, 'all.yaml');
  const paths = v.issues.map((i) => i.path);
  for (const p of ['general.listen', 'store.tiers', 'alerts.a.pattern', 'mesh', 'export.remote_write.0.url', 'agents.0.name', 'targets.children.x/y']) assert.ok(paths.includes(p), `${p} in ${paths.join(', ')}`);
  const lines = v.issues.map((i) => i.line);
  assert.deepEqual(lines, [...lines].sort((a, b) => a - b));
});

test('an error set on a group or a preset is reported once, where it was written', () => {
  const children = Array.from({ length: 50 }, (_, i) => `        t${i}: { host: 127.0.0.${i + 1} }`).join('\n');
  const v = validateConfigText(`probes:\n  p: { type: icmp, pings: 0 }\ntargets:\n  children:\n    G:\n      packet_size: -1\n      children:\n${children}\n`, 'g.yaml');
  assert.deepEqual(v.issues.map((i) => [i.line, i.path]), [[2, 'probes.p.pings'], [6, 'targets.children.G.packet_size']]);
});

test('the shipped config is valid and quiet', () => {
  const v = validateConfig(join(import.meta.dirname, '../../smokemesh.yaml'));
  assert.deepEqual(v.issues, []);
  assert.deepEqual(v.warnings, []);
});

test('route actions and CloudWatch export are judged with their places (check-config and the server alike)', () => {
  const yaml = `notifiers:
  dx:
    type: aws_route
    region: cn-north-1
    route_tables: [rtb-0123456789abcdef0]
    destination_cidr: 10.20.0.0/16
    primary: vgw-0123456789abcdef0
    backup: nat-0123456789abcdef0
  vpn:
    type: http_route
    url: http://127.0.0.1:9/route
    primary: a
    backup: a
alerts:
  dxloss: { type: loss, pattern: ">50%", to: vpn }
export:
  cloudwatch:
    - { region: cn-north-1, storage_resolution: 5 }
targets: {}
`;
  const v = validateConfigText(yaml, 'aws.yaml');
  assert.deepEqual(v.issues.map((i) => [i.line, i.path]), [
    [8, 'notifiers.dx.backup'],
    [13, 'notifiers.vpn.backup'],
    [15, 'alerts.dxloss.to'],
    [18, 'export.cloudwatch.0.storage_resolution'],
  ]);
  assert.match(v.issues[2]!.message, /"vpn" is a route action: the alert must be edge-triggered/);
});

test('alerts.history_days is judged with its place (check-config and the server alike), and its default is a year', () => {
  const bad = validateConfigText('alerts:\n  history_days: 0\n  lossy: { type: loss, pattern: ">50%" }\ntargets: {}\n', 'h.yaml');
  assert.deepEqual(bad.issues.map((i) => [i.line, i.path, i.message]), [[2, 'alerts.history_days', 'must be > 0']]);
  const tooLong = validateConfigText('alerts:\n  history_days: 40000\ntargets: {}\n', 'h.yaml');
  assert.deepEqual(tooLong.issues.map((i) => [i.line, i.path]), [[2, 'alerts.history_days']]);
  const good = validateConfigText('alerts:\n  history_days: 30\n  lossy: { type: loss, pattern: ">50%" }\ntargets: {}\n', 'h.yaml');
  assert.deepEqual(good.issues, []);
  assert.equal(alertHistoryDays(good.config!), 30);
  assert.equal(alertHistoryDays(validateConfigText('targets: {}\n', 'd.yaml').config!), 365);
});
