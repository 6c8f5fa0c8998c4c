import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from '../../config/loader.ts';
import type { AgentInfo } from '../context.ts';
import { agentsByTarget, searchTargets, targetDetail, treeView } from './views.ts';

const config = parseConfig(`
targets:
  children:
    G:
      labels: { isp: telecom }
      children:
        a: { host: 127.0.0.1 }
        remote-only: { host: 127.0.0.2, server_probes: false, agents: { region: jp } }
        nobody: { host: 127.0.0.3, server_probes: false, agents: none }
        listed: { host: 127.0.0.4, agents: [tokyo] }
        hidden: { host: 127.0.0.5, hide: true }
`);
const agent = (name: string, region: string, builtin = false): AgentInfo => ({ name, region, labels: {}, addresses: [], alive: true, builtin });
const agents = [agent('server', 'cn', true), agent('tokyo', 'jp'), agent('osaka', 'jp'), agent('paris', 'eu')];

test('agents of a target: the plan\'s selection (built-in unless server_probes: false) plus agents with data', () => {
  const m = agentsByTarget(config.targets, agents, [{ target: '/G/nobody', agent: 'old-agent', probe: 'icmp', first: 0, last: 1 }]);
  assert.deepEqual(m.get('/G/a'), ['osaka', 'paris', 'server', 'tokyo']);
  assert.deepEqual(m.get('/G/remote-only'), ['osaka', 'tokyo']);
  assert.deepEqual(m.get('/G/nobody'), ['old-agent']);
  assert.deepEqual(m.get('/G/listed'), ['server', 'tokyo']);
});

test('tree, detail and search views', () => {
  const m = agentsByTarget(config.targets, agents, []);
  const tree = treeView(config.targets, m);
  assert.equal(tree.children[0]!.children.find((c) => c.name === 'hidden')!.hidden, true);
  const d = targetDetail(config.targets, '/G/a', m)!;
  assert.equal(d.settings!.pings, 20);
  assert.deepEqual(d.breadcrumbs.map((b) => b.path), ['/', '/G', '/G/a']);
  assert.equal(targetDetail(config.targets, '/G/zzz', m), undefined);
  // Name matches rank before label matches; every node carries the inherited label.
  const hits = searchTargets(config.targets, 'a', m).map((r) => r.path);
  assert.equal(hits[0], '/G/a');
  assert.deepEqual(searchTargets(config.targets, 'isp=telecom', m).length, 6);
  assert.deepEqual(searchTargets(config.targets, '   ', m), []);
});
