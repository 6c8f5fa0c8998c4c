import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HEADER, signRequest, verifyBody, verifyHeaders, verifyRequest, type VerifyInput } from './signing.ts';
import { NonceCache } from './nonce-cache.ts';
import { readSecretFile } from './secret.ts';

const SECRET = 'a-very-long-shared-secret-0123456789';
const body = Buffer.from('{"rounds":[]}');

function check(headers: Record<string, string>, over: Partial<VerifyInput> = {}) {
  const nonces = new NonceCache();
  return verifyRequest({
    method: 'POST', path: '/api/v1/agent/rounds', headers, body,
    secretOf: (n) => (n === 'tokyo' ? SECRET : undefined),
    useNonce: (a, n, ts) => nonces.use(a, n, ts),
    ...over,
  });
}

test('a signed request verifies; every altered part is refused with its reason', () => {
  const h = signRequest({ agent: 'tokyo', secret: SECRET, method: 'POST', path: '/api/v1/agent/rounds', body });
  assert.deepEqual(check(h), { ok: true, agent: 'tokyo' });
  const reason = (r: ReturnType<typeof check>) => (r.ok ? 'ok' : r.reason);
  assert.equal(reason(check(h, { body: Buffer.from('{"rounds":[1]}') })), 'bad_digest');
  assert.equal(reason(check(h, { path: '/api/v1/agent/heartbeat' })), 'bad_signature');
  assert.equal(reason(check(h, { method: 'GET' })), 'bad_signature');
  assert.equal(reason(check({ ...h, [HEADER.timestamp]: String(Number(h[HEADER.timestamp]) + 1) })), 'bad_signature');
  assert.equal(reason(check({ ...h, [HEADER.agent]: 'osaka' })), 'unknown_agent');
  const { [HEADER.nonce]: _n, ...noNonce } = h;
  const missing = check(noNonce);
  assert.equal(reason(missing), 'missing_header');
  assert.match(missing.ok ? '' : missing.message, /x-smokemesh-nonce/);
  const wrong = signRequest({ agent: 'tokyo', secret: 'another-secret-of-enough-length', method: 'POST', path: '/api/v1/agent/rounds', body });
  const r = check(wrong);
  assert.equal(reason(r), 'bad_signature');
  assert.match(r.ok ? '' : r.message, /agent "tokyo".*secret/);
});

test('timestamps more than 5 minutes off are refused, with the offset in the message', () => {
  const now = Date.now();
  const old = signRequest({ agent: 'tokyo', secret: SECRET, method: 'POST', path: '/p', body, now: now - 5 * 60_000 - 1000 });
  const r = check(old, { path: '/p', now });
  assert.equal(r.ok ? 'ok' : r.reason, 'stale_timestamp');
  assert.match(r.ok ? '' : r.message, /off by -301 s/);
  const ahead = signRequest({ agent: 'tokyo', secret: SECRET, method: 'POST', path: '/p', body, now: now + 4 * 60_000 });
  assert.equal(check(ahead, { path: '/p', now }).ok, true);
});

test('a replayed request is refused; a forged one does not burn the nonce', () => {
  const nonces = new NonceCache();
  const v = (headers: Record<string, string>, secretOf = (_: string) => SECRET as string | undefined) =>
    verifyRequest({ method: 'GET', path: '/plan', headers, secretOf, useNonce: (a, n, ts) => nonces.use(a, n, ts) });
  const h = signRequest({ agent: 'tokyo', secret: SECRET, method: 'GET', path: '/plan', nonce: 'n1' });
  const forged = { ...h, [HEADER.signature]: 'f'.repeat(64) };
  assert.equal((v(forged) as { reason: string }).reason, 'bad_signature');
  assert.equal(v(h).ok, true);
  const again = v(h);
  assert.equal(again.ok ? 'ok' : again.reason, 'replayed_nonce');
});

test('the headers are checked alone, before the body; a valid header set is good once, whatever its body', () => {
  const nonces = new NonceCache();
  const deps = { method: 'POST', path: '/api/v1/agent/rounds', secretOf: (n: string) => (n === 'tokyo' ? SECRET : undefined), useNonce: (a: string, n: string, ts: number) => nonces.use(a, n, ts) };
  const h = signRequest({ agent: 'tokyo', secret: SECRET, method: 'POST', path: '/api/v1/agent/rounds', body });
  // Headers verify without the body; the body is checked against the signed digest afterwards.
  assert.deepEqual(verifyHeaders({ ...deps, headers: h }), { ok: true, agent: 'tokyo' });
  const tampered = verifyBody('tokyo', h, Buffer.from('{"rounds":[1]}'));
  assert.equal(tampered.ok ? 'ok' : tampered.reason, 'bad_digest');
  assert.equal(verifyBody('tokyo', h, body).ok, true);
  // The header set was used: sending it again, even with the right body, is a replay refused before any body is read.
  const again = verifyHeaders({ ...deps, headers: h });
  assert.equal(again.ok ? 'ok' : again.reason, 'replayed_nonce');
  // A forged signature does not consume the nonce of the header set it copies.
  const h2 = signRequest({ agent: 'tokyo', secret: SECRET, method: 'POST', path: '/api/v1/agent/rounds', body });
  const forged = verifyHeaders({ ...deps, headers: { ...h2, [HEADER.signature]: '0'.repeat(64) } });
  assert.equal(forged.ok ? 'ok' : forged.reason, 'bad_signature');
  assert.equal(verifyHeaders({ ...deps, headers: h2 }).ok, true);
  // A digest header changed after signing breaks the signature (the digest is signed).
  const h3 = signRequest({ agent: 'tokyo', secret: SECRET, method: 'POST', path: '/api/v1/agent/rounds', body });
  const swapped = verifyHeaders({ ...deps, headers: { ...h3, [HEADER.digest]: 'a'.repeat(64) } });
  assert.equal(swapped.ok ? 'ok' : swapped.reason, 'bad_signature');
});

test('nonce cache: bounded, and forgetting raises a floor instead of allowing replays', () => {
  const c = new NonceCache(3, 300_000);
  const now = 1_000_000;
  for (let i = 0; i < 5; i++) assert.equal(c.use('a', `n${i}`, now + i, now + i), true);
  assert.equal(c.size, 3);
  // n0 and n1 were forgotten; replaying them is still refused because of the floor.
  assert.equal(c.use('a', 'n0', now, now + 5), false);
  assert.equal(c.use('a', 'n1', now + 1, now + 5), false);
  assert.equal(c.use('a', 'n5', now + 5, now + 5), true);
  // Entries leave once out of the window.
  assert.equal(c.use('a', 'late', now + 400_000, now + 400_000), true);
  assert.equal(c.size, 1);
});

test('secret files readable by group or others are refused with the chmod to run', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sm-secret-'));
  const f = join(dir, 's');
  writeFileSync(f, SECRET + '\n');
  chmodSync(f, 0o644);
  assert.throws(() => readSecretFile(f), (e: Error & { code?: string }) => e.code === 'SMOKEMESH_E_AUTH' && e.message.includes(`chmod 600 ${f}`) && e.message.includes('644'));
  chmodSync(f, 0o600);
  assert.equal(readSecretFile(f), SECRET);
  writeFileSync(f, 'short\n');
  assert.throws(() => readSecretFile(f), /at least 16/);
  assert.throws(() => readSecretFile(join(dir, 'nope')), /cannot read it/);
});
