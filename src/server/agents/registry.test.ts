import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { parseConfig } from '../../config/loader.ts';
import { AgentRegistry } from './registry.ts';

function registry(clustered: boolean): { r: AgentRegistry; events: string[]; done: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'sm-registry-'));
  const secret = join(dir, 'a.secret');
  writeFileSync(secret, 'x'.repeat(32));
  chmodSync(secret, 0o600);
  const config = parseConfig(`general: { agent_name: srv }\nagents:\n  - { name: a, secret_file: ${secret}, heartbeat: 1 }\ntargets: { children: {} }\n`);
  const r = new AgentRegistry(config, 'srv', pino({ level: 'silent' }), { targets: () => config.targets, peers: () => [] });
  const events: string[] = [];
  r.onAgentEvent = (a, e) => events.push(`${a.name} ${e}`);
  r.clustered = clustered;
  return { r, events, done: () => { r.close(); rmSync(dir, { recursive: true, force: true }); } };
}

test('alone, the registry tells agent-down and agent-up; in a cluster it keeps its own state and tells nothing (the cluster does)', () => {
  for (const clustered of [false, true]) {
    const { r, events, done } = registry(clustered);
    const t0 = Date.now();
    r.seen('a', '127.0.0.1', t0);
    r.checkLiveness(t0 + 10_000);
    assert.equal(r.list()[0]!.alive, false, 'not heard from here for 3 heartbeats');
    r.seen('a', '127.0.0.1', t0 + 11_000);
    assert.equal(r.list()[0]!.alive, true);
    assert.deepEqual(events, clustered ? [] : ['a down', 'a up']);
    done();
  }
});
