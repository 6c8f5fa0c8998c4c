import { test } from 'node:test';
import assert from 'node:assert/strict';
import { quorum, type QuorumVoter } from './quorum.ts';

const v = (agent: string, region: string, matching: boolean): QuorumVoter => ({ agent, region, matching });

test('quorum: a number of agents, a percentage of those reporting, distinct regions', () => {
  const voters = [v('a', 'eu', true), v('b', 'eu', true), v('c', 'us', false)];
  assert.equal(quorum({ agents: 2 }, voters).met, true);
  assert.equal(quorum({ agents: 3 }, voters).met, false);
  assert.equal(quorum({ agents: '50%' }, voters).met, true, '50 % of 3 = 2 agents');
  assert.equal(quorum({ agents: '67%' }, voters).met, false, '67 % of 3 rounds up to 3');
  assert.equal(quorum({ regions: 2 }, voters).met, false, 'both matching agents are in eu');
  assert.equal(quorum({ agents: 1, regions: 2 }, [...voters.slice(0, 2), v('c', 'us', true)]).met, true);
  assert.deepEqual(quorum({ agents: 2, regions: 1 }, voters), { met: true, matching: ['a', 'b'], total: 3, regions: ['eu'], need: '2 of 3 agents, 1 regions' });
  assert.equal(quorum({ agents: '0%' }, [v('a', 'x', false)]).met, false, 'never met without a matching agent');
});
