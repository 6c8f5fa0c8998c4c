import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { findProgram, runFailure, runProgram } from './program.ts';

const never = new AbortController().signal;

test('arguments go to the program as they are: no shell reads them', async () => {
  const marker = `/tmp/smokemesh-no-shell-${process.pid}`;
  const run = await runProgram((await findProgram('echo'))!, [`a; touch ${marker}`, '$(id)', '`id`'], { timeoutMs: 5000, maxBytes: 1000, signal: never });
  assert.equal(run.stdout, `a; touch ${marker} $(id) \`id\`\n`);
  assert.equal(existsSync(marker), false);
  assert.equal(runFailure('echo', run, { timeoutMs: 5000, maxBytes: 1000 }), undefined);
});

test('a program that runs too long is killed at its timeout', async () => {
  const o = { timeoutMs: 200, maxBytes: 1000 };
  const run = await runProgram((await findProgram('sleep'))!, ['30'], { ...o, signal: never });
  assert.equal(run.killed, 'timeout');
  assert.equal(runFailure('sleep', run, o), 'sleep did not finish within 0.2 s (killed)');
});

test('a flood of output is cut: the program is killed past maxBytes', async () => {
  const o = { timeoutMs: 10_000, maxBytes: 64 * 1024 };
  const run = await runProgram((await findProgram('yes'))!, [], { ...o, signal: never });
  assert.equal(run.killed, 'output');
  assert.ok(run.stdout.length <= o.maxBytes);
  assert.match(runFailure('yes', run, o)!, /printed more than 65536 bytes \(killed; tasks\.max_output_bytes\)/);
});

test('abort stops it; a missing program and empty output are failures with reasons', async () => {
  const ac = new AbortController();
  const p = runProgram((await findProgram('sleep'))!, ['30'], { timeoutMs: 60_000, maxBytes: 1000, signal: ac.signal });
  ac.abort();
  assert.equal((await p).killed, 'aborted');
  const missing = await runProgram('/nonexistent/mtr', [], { timeoutMs: 1000, maxBytes: 1000, signal: never });
  assert.match(runFailure('mtr', missing, { timeoutMs: 1000, maxBytes: 1000 })!, /cannot run \/nonexistent\/mtr: spawn \/nonexistent\/mtr ENOENT/);
  assert.equal(await findProgram('no-such-program-here'), undefined);
  const empty = { stdout: '', stderr: 'mtr: Failed to resolve host: name.invalid: Name or service not known\n', exitCode: 0 };
  assert.equal(runFailure('mtr', empty, { timeoutMs: 1, maxBytes: 1 }), 'mtr printed nothing: mtr: Failed to resolve host: name.invalid: Name or service not known');
});
