import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';

// The mutated configs name any host and any notifier: the server runs in a namespace that
// has only its loopback, so nothing they probe or notify can leave it.
const root = process.getuid?.() === 0;
const NS = `smcf${process.pid % 100000}`;
const SEED = Number(process.env.CONFIG_FUZZ_SEED ?? 20261202);
const COUNT = Number(process.env.CONFIG_FUZZ_COUNT ?? 3000);
const dir = mkdtempSync(join(tmpdir(), 'smokemesh-config-fuzz-'));
const ip = (...args: string[]) => execFileSync('ip', args, { stdio: ['ignore', 'pipe', 'pipe'] });

after(() => {
  if (root) {
    try {
      ip('netns', 'del', NS);
    } catch { /* not created */ }
  }
  rmSync(dir, { recursive: true, force: true });
});

interface FuzzResult {
  seed: number; count: number; agreed: number; applied: number; refused: number; warned: number; health: number;
  mismatches: unknown[]; thrown: string[]; maxReloadMs: number; maxStallMs: number; slowest: unknown;
}

test(`config fuzz: ${COUNT} mutated configs (seed ${SEED}); check-config and the real server's reload agree on every one, the server never throws and keeps answering`, { skip: root ? false : 'needs root for a network namespace', timeout: 3_600_000 }, async () => {
  ip('netns', 'add', NS);
  ip('-n', NS, 'link', 'set', 'lo', 'up');
  const child = spawn('ip', ['netns', 'exec', NS, process.execPath, '--import', 'tsx', join(import.meta.dirname, 'fixtures/config-fuzz-run.ts'), String(SEED), String(COUNT), dir], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
  const code = await new Promise<number | null>((r) => child.on('close', r));
  assert.equal(code, 0, `the fuzz runner exited ${code}:\n${err}\n${out.slice(-2000)}`);
  const r = JSON.parse(out.trim().split('\n').pop()!) as FuzzResult;
  console.log(`config fuzz seed ${r.seed}: ${r.count} configs, ${r.agreed} agreed, ${r.thrown.length} thrown, ${r.health} /health answers, ${r.refused} refused, ${r.applied} applied, ${r.warned} with warnings; longest reload ${Math.round(r.maxReloadMs)} ms, longest event-loop stall during a reload ${r.maxStallMs} ms; slowest check ${JSON.stringify(r.slowest)}`);
  assert.deepEqual(r.thrown, [], 'the reload never throws');
  assert.deepEqual(r.mismatches, [], 'check-config and reload agree');
  assert.equal(r.agreed, COUNT);
  assert.equal(r.health, COUNT, 'the server answers /health after every reload');
  assert.ok(r.refused > COUNT / 10 && r.applied > COUNT / 50, `the mutations reach both verdicts (${r.refused} refused, ${r.applied} applied)`);
});
