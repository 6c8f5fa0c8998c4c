import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkConfigText } from '../config/check.ts';
import { CORE_SECTIONS } from '../config/core-sections.ts';
import { formatIssue } from '../errors.ts';
import { buildPolicy, hostOfTarget, tasksSection } from './policy.ts';

const allow = (o: Partial<{ targets: boolean; networks: string[]; names: string[] }> = {}) => ({ targets: true, networks: [], names: [], ...o });

test('by default: the configured hosts (names, addresses, URL hosts) and the addresses they resolved to', () => {
  const p = buildPolicy(allow(), ['router.example', '198.51.100.7', 'https://web.example:8443/health', '[2001:db8::5]'], ['203.0.113.9']);
  for (const ok of ['router.example', 'ROUTER.example.', '198.51.100.7', 'web.example', '2001:db8::5', '2001:db8:0::5', '203.0.113.9']) assert.equal(p.refuse(ok), undefined, ok);
  for (const bad of ['other.example', '198.51.100.8', 'sub.router.example', '::1']) assert.match(p.refuse(bad)!, /is not allowed by the task policy/, bad);
  assert.match(p.refuse('10.0.0.1')!, /add it to tasks\.allow\.networks/);
  assert.match(p.refuse('db.example')!, /add it to tasks\.allow\.names/);
});

test('networks (v4 and v6, blocks and single addresses) and names (exact and *.suffix) add to it', () => {
  const p = buildPolicy(allow({ targets: false, networks: ['198.18.0.0/15', '2001:db8:100::/48', '192.0.2.44'], names: ['*.lab.example', 'db.example'] }), ['router.example'], []);
  for (const ok of ['198.18.3.1', '198.19.255.255', '2001:db8:100:5::1', '192.0.2.44', 'a.lab.example', 'x.y.lab.example', 'db.example']) assert.equal(p.refuse(ok), undefined, ok);
  for (const bad of ['198.20.0.1', '2001:db8:101::1', '192.0.2.45', 'lab.example', 'evil-lab.example', 'router.example']) assert.ok(p.refuse(bad), bad);
});

test('allow.targets false and nothing listed: everything is refused, and the message says why', () => {
  const p = buildPolicy(allow({ targets: false }), ['198.51.100.7'], []);
  assert.match(p.refuse('198.51.100.7')!, /allows nothing \(tasks\.allow\.targets is false/);
});

test('hostOfTarget: URLs give their host, literals stay', () => {
  assert.equal(hostOfTarget('http://[::1]:8888/x'), '::1');
  assert.equal(hostOfTarget('Router.Example'), 'router.example');
});

test('bad networks are config errors with file:line:column', () => {
  const check = (text: string, file: string) => checkConfigText(`targets: {}\n${text}`, file, [...CORE_SECTIONS, tasksSection]).issues.map(formatIssue);
  assert.deepEqual(check(`tasks:\n  allow:\n    networks:\n      - 198.18.0.0/15\n      - 10.0.0.0/33\n      - not-a-net\n`, 'x.yaml'), [
    'x.yaml:6:9: tasks.allow.networks.1: "10.0.0.0/33": prefix length must be 0–32',
    'x.yaml:7:9: tasks.allow.networks.2: "not-a-net" is not an address or a CIDR block (e.g. 198.51.100.0/24, 2001:db8::/32)',
  ]);
  assert.deepEqual(check('tasks:\n  per_agent:\n    concurrency: 0\n', 'y.yaml'), ['y.yaml:4:5: tasks.per_agent.concurrency: must be >= 1']);
});
