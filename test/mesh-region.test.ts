import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeRound, type Round } from '../src/probes/round.ts';
import { aggregateRegions } from '../src/plan/region.ts';

const NOW = 1_700_000_000_000;
function round(agent: string, target: string, rtts: number[], sent = 10, extra: Partial<Round> = {}): Round {
  return { ...makeRound({ target, agent, probe: 'icmp', time: NOW - 20_000, step: 60 }, { sent, rtts }), ...extra };
}
const regionOf = (t: string) => t.split('/')[2];

test('one agent with a broken uplink does not make its region red, and does not skew its figures', () => {
  const agents = new Map([['a1', 'eu'], ['a2', 'eu'], ['a3', 'eu']]);
  const rounds = [
    round('a1', '/M/us/u1', [10, 11, 12, 13, 14, 15, 16, 17, 18, 19]),
    round('a2', '/M/us/u1', [20, 21, 22, 23, 24, 25, 26, 27, 28]), // 1 lost
    round('a3', '/M/us/u1', []), // broken uplink: 100 % loss
  ];
  const s = aggregateRegions({ rounds, agents, targetRegion: regionOf, now: NOW });
  const c = s.targets.find((x) => x.target === '/M/us/u1')!;
  assert.equal(c.status, 'ok');
  assert.equal(c.agents_total, 3);
  assert.equal(c.agents_ok, 2);
  assert.equal(c.loss_pct, 5, 'pooled over the two healthy agents: 1 of 20');
  assert.equal(c.loss_pct_all, 100 * 11 / 30, 'pooled over everyone, for comparison');
  assert.equal(c.median, 24, 'SmokePing (upper) median of the agent medians 15 and 24');
  assert.equal(c.failed, 1);
  assert.equal(c.min, 10);
  assert.equal(c.max, 28);
  assert.deepEqual(c.agents.map((a) => [a.agent, a.ok]), [['a1', true], ['a2', true], ['a3', false]]);
});

test('a majority of bad agents marks the target down; a tie is degraded', () => {
  const agents = new Map([['a1', 'eu'], ['a2', 'eu'], ['a3', 'eu'], ['b1', 'us'], ['b2', 'us']]);
  const rounds = [
    round('a1', '/M/ap/x', [5, 5, 5, 5, 5, 5, 5, 5, 5, 5]),
    round('a2', '/M/ap/x', [5]),
    round('a3', '/M/ap/x', []),
    round('b1', '/M/ap/x', [7, 7, 7, 7, 7, 7, 7, 7, 7, 7]),
    round('b2', '/M/ap/x', [7, 7]),
  ];
  const s = aggregateRegions({ rounds, agents, targetRegion: regionOf, now: NOW });
  const eu = s.targets.find((x) => x.source_region === 'eu')!;
  assert.equal(eu.status, 'down');
  assert.equal(eu.loss_pct, 100 * 19 / 20, 'figures of the bad majority');
  const us = s.targets.find((x) => x.source_region === 'us')!;
  assert.equal(us.status, 'degraded');
  assert.equal(us.loss_pct, 100 * 8 / 20, 'a tie reports everyone');
});

test('region pairs pool each agent over every target of the target region', () => {
  const agents = new Map([['a1', 'eu'], ['a2', 'eu'], ['b1', 'us']]);
  const rounds = [
    round('a1', '/M/us/u1', [10, 10, 10, 10, 10, 10, 10, 10, 10, 10]),
    round('a1', '/M/us/u2', [30, 30, 30, 30, 30, 30, 30, 30, 30, 30]),
    round('a2', '/M/us/u1', [12, 12, 12, 12, 12, 12, 12, 12, 12]),
    round('a2', '/M/us/u2', [14, 14, 14, 14, 14, 14, 14, 14, 14, 14]),
    round('b1', '/M/eu/e1', [40, 40, 40, 40, 40, 40, 40, 40, 40, 40]),
  ];
  const s = aggregateRegions({ rounds, agents, targetRegion: regionOf, now: NOW });
  const p = s.pairs.find((x) => x.source_region === 'eu' && x.target_region === 'us')!;
  assert.equal(p.agents_total, 2);
  assert.equal(p.agents_ok, 2);
  assert.equal(p.loss_pct, 100 * 1 / 40);
  assert.equal(p.median, 30, 'agent medians: a1 → 30 (upper of 10, 30), a2 → 14; median of those → 30');
  assert.deepEqual(p.agents.find((a) => a.agent === 'a1')!.targets, ['/M/us/u1', '/M/us/u2']);
  assert.equal(s.pairs.length, 2);
  assert.ok(s.pairs.some((x) => x.source_region === 'us' && x.target_region === 'eu' && x.median === 40));
});

test('dead agents, unknown agents and stale rounds are left out', () => {
  const agents = new Map([['a1', 'eu']]);
  const rounds = [
    round('a1', '/M/us/u1', [10]),
    round('gone', '/M/us/u1', []),
    { ...round('a1', '/M/us/u2', []), time: NOW - 4 * 60_000 },
  ];
  const s = aggregateRegions({ rounds, agents, targetRegion: regionOf, now: NOW });
  assert.deepEqual(s.targets.map((c) => [c.target, c.agents_total]), [['/M/us/u1', 1]]);
});

test('http cells: phases averaged over successful rounds, failures counted by reason, earliest cert', () => {
  const agents = new Map([['a1', 'eu'], ['a2', 'eu'], ['a3', 'eu']]);
  const http = (agent: string, ok: boolean, extra: Partial<Round>) => ({ ...round(agent, '/W/x/site', ok ? [100] : [], 1), probe: 'http' as const, ...extra });
  const rounds = [
    http('a1', true, { phases: { connect: 10, processing: 50 }, status: 200, cert_expiry: 2000 }),
    http('a2', true, { phases: { connect: 20, processing: 70 }, status: 200, cert_expiry: 1000 }),
    http('a3', false, { status: 503, error: 'status 503 not valid' }),
  ];
  const c = aggregateRegions({ rounds, agents, targetRegion: () => 'x', now: NOW }).targets[0]!;
  assert.equal(c.probe, 'http');
  assert.deepEqual(c.phases, { connect: 15, processing: 60 });
  assert.equal(c.status_code, 200);
  assert.equal(c.cert_expiry, 1000);
  assert.deepEqual(c.errors, { 'status 503 not valid': 1 });
  assert.equal(c.status, 'ok');
});
