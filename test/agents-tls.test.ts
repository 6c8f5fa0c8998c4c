import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgentClient, AgentRequestError } from '../src/agent/client.ts';
import { verifyRequest } from '../src/auth/signing.ts';

// TLS on the agent side: a server certificate signed by a private CA (made here with openssl),
// trusted only through --ca. The HTTPS endpoint checks the signature like the real server does.
test('with --ca the agent trusts a private CA; without it the connection is refused with the reason', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sm-agents-tls-'));
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=smokemesh test CA');
  ssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'srv.key', '-out', 'srv.csr', '-subj', '/CN=127.0.0.1');
  writeFileSync(join(dir, 'ext.cnf'), 'subjectAltName=IP:127.0.0.1\n');
  ssl('x509', '-req', '-in', 'srv.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'srv.pem', '-days', '2', '-extfile', 'ext.cnf');

  const secret = 'tls-test-secret-0123456789abcdef';
  const server = createServer({ key: readFileSync(join(dir, 'srv.key')), cert: readFileSync(join(dir, 'srv.pem')) }, (req, res) => {
    const v = verifyRequest({ method: req.method!, path: req.url!, headers: req.headers, secretOf: () => secret, useNonce: () => true });
    res.writeHead(v.ok ? 200 : 401, { 'content-type': 'application/json' });
    res.end(JSON.stringify(v.ok ? { agent: v.agent } : { code: 'SMOKEMESH_E_AUTH', reason: v.reason, error: v.message }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `https://127.0.0.1:${(server.address() as { port: number }).port}`;
  try {
    const trusted = new AgentClient({ server: url, agent: 'a1', secret, caFile: join(dir, 'ca.pem') });
    const r = await trusted.call<{ agent: string }>('GET', '/api/v1/agent/plan?wait=0');
    assert.deepEqual(r.body, { agent: 'a1' });
    await trusted.close();

    const untrusted = new AgentClient({ server: url, agent: 'a1', secret });
    await assert.rejects(untrusted.call('GET', '/api/v1/agent/plan'), (e: AgentRequestError) =>
      e.status === 0 && /cannot reach https:\/\/127\.0\.0\.1:\d+: .*certificate/i.test(e.message));
    await untrusted.close();

    assert.throws(() => new AgentClient({ server: url, agent: 'a1', secret, caFile: join(dir, 'missing.pem') }), /--ca .*missing\.pem: cannot read it/);
  } finally {
    server.close();
  }
});
