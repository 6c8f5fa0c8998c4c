import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chooseAgents, type AgentFacts } from './select.ts';

const agents: AgentFacts[] = [
  { name: 'srv', region: 'hq', labels: {} },
  { name: 'tokyo-1', region: 'apac', labels: { isp: 'iij' } },
  { name: 'tokyo-2', region: 'apac', labels: { isp: 'kddi' } },
  { name: 'paris-1', region: 'eu', labels: { isp: 'free' } },
];
const probers = (t: string) => (t === '/Net/r' ? ['srv', 'tokyo-2'] : undefined);

test('by name, region, label, the agents probing a target, or all; filters combine', () => {
  assert.deepEqual(chooseAgents({ names: ['paris-1', 'srv', 'srv'] }, agents, probers), ['paris-1', 'srv']);
  assert.deepEqual(chooseAgents({ regions: ['apac'] }, agents, probers), ['tokyo-1', 'tokyo-2']);
  assert.deepEqual(chooseAgents({ regions: ['apac'], labels: { isp: 'iij' } }, agents, probers), ['tokyo-1']);
  assert.deepEqual(chooseAgents({ probing: '/Net/r' }, agents, probers), ['srv', 'tokyo-2']);
  assert.deepEqual(chooseAgents({ probing: '/Net/r', regions: ['apac'] }, agents, probers), ['tokyo-2']);
  assert.deepEqual(chooseAgents({ all: true }, agents, probers), ['srv', 'tokyo-1', 'tokyo-2', 'paris-1']);
});

test('refusals say what to fix', () => {
  assert.throws(() => chooseAgents({}, agents, probers), /agents: choose the agents/);
  assert.throws(() => chooseAgents({ names: ['nope', 'srv'] }, agents, probers), /agents\.names: "nope" is not known to this server/);
  assert.throws(() => chooseAgents({ probing: '/Nope' }, agents, probers), /agents\.probing: no target "\/Nope"/);
  assert.throws(() => chooseAgents({ regions: ['mars'] }, agents, probers), /agents: no agent matches \{"regions":\["mars"\]\}/);
});
