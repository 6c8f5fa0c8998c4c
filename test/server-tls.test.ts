import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { generalSection, startServerIn } from './server-kit.ts';
import { waitFor } from './wait.ts';

const dir = mkdtempSync(join(tmpdir(), 'smokemesh-tls-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });

test('the server serves HTTPS with general.tls; a real agent with --ca delivers its rounds over it', async () => {
  ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=smokemesh test CA');
  ssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'srv.key', '-out', 'srv.csr', '-subj', '/CN=127.0.0.1');
  writeFileSync(join(dir, 'ext.cnf'), 'subjectAltName=IP:127.0.0.1\n');
  ssl('x509', '-req', '-in', 'srv.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'srv.pem', '-days', '2', '-extfile', 'ext.cnf');
  chmodSync(join(dir, 'srv.key'), 0o600);
  const secret = join(dir, 'a1.secret');
  writeFileSync(secret, 'tls-end-to-end-secret-0123456789\n', { mode: 0o600 });
  const server = await startServerIn(dir, `${generalSection(dir, { more: `  tls: { cert_file: ${join(dir, 'srv.pem')}, key_file: ${join(dir, 'srv.key')} }` })}agents:
  - name: a1
    secret_file: ${secret}
targets:
  children:
    lo: { host: 127.0.0.1, interval: 20, timeout: 500 }
`);
  const agent = spawn(process.execPath, ['bin/smokemesh.js', 'agent', '--server', server.url, '--name', 'a1',
    '--secret-file', secret, '--ca', join(dir, 'ca.pem'), '--spool', join(dir, 'spool')], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  agent.stdout.on('data', (d) => (out += d));
  agent.stderr.on('data', (d) => (out += d));
  try {
    assert.match(server.url, /^https:\/\//);
    // Plain HTTP to the TLS port is not answered as HTTP.
    await assert.rejects(fetch(server.url.replace('https:', 'http:') + '/health'));
    const round = await waitFor('a round from agent a1 over HTTPS', () => server.ctx.store.latest().find((r) => r.agent === 'a1'), 30000)
      .catch((e: Error) => { throw new Error(`${e.message}\nagent output:\n${out.slice(-2000)}`); });
    assert.equal(round.target, '/lo');
    assert.equal(round.loss, 0);
  } finally {
    agent.kill('SIGKILL');
    await server.close();
  }
});

test('a TLS key file readable by others is refused at start, naming the file', async () => {
  const key = join(dir, 'open.key');
  writeFileSync(key, 'x', { mode: 0o644 });
  chmodSync(key, 0o644);
  await assert.rejects(startServerIn(dir, `general:\n  data_dir: ${join(dir, 'data2')}\n  tls: { cert_file: ${join(dir, 'srv.pem')}, key_file: ${key} }\n`, { file: 'open.yaml' }),
    new RegExp(`general\\.tls\\.key_file: ${key} is readable by group or others .*chmod 600`));
});
