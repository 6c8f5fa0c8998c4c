import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { httpProbe } from './http.ts';
import { HttpParamsSchema, type HttpParams } from './params.ts';
import { paramsFor } from '../../test/fixtures/probes/params.ts';
import { makePki, type TestCert, type TestPki } from '../../test/fixtures/probes/certs.ts';
import { httpsServer, type TestServer } from '../../test/fixtures/probes/http-server.ts';

let pki: TestPki;
let good: TestCert;
let soon: TestCert;
let expired: TestCert;
let selfSigned: TestCert;
const servers: Record<string, TestServer> = {};

before(async () => {
  pki = makePki();
  good = pki.issue('good', 30);
  soon = pki.issue('soon', 2);
  expired = pki.issue('expired', -1);
  selfSigned = pki.selfSigned('self');
  servers.good = await httpsServer(good);
  servers.good6 = await httpsServer(good, '::1');
  servers.soon = await httpsServer(soon);
  servers.expired = await httpsServer(expired);
  servers.self = await httpsServer(selfSigned);
  servers.mtls = await httpsServer(good, '127.0.0.1', Buffer.from(await import('node:fs').then((fs) => fs.readFileSync(pki.caFile))));
});
after(async () => {
  for (const s of Object.values(servers)) await s.close();
  pki?.cleanup();
});

async function run(url: string, params: Record<string, unknown> = {}) {
  const p = paramsFor<HttpParams>(HttpParamsSchema, params);
  const [m] = await httpProbe.measure([{ path: '/t', host: url, params: p }], new AbortController().signal);
  return m!;
}
const url = (name: string, path = '/ok', host = '127.0.0.1'): string => `https://${host}:${servers[name]!.port}${path}`;
const notAfter = (c: TestCert): number => Math.floor(Date.parse(new X509Certificate(c.cert).validTo) / 1000);

test('https with ca_file: verified, tls phase measured, cert_expiry = earliest notAfter of the chain', async () => {
  const m = await run(url('good'), { pings: 2, tls_config: { ca_file: pki.caFile } });
  assert.equal(m.error, undefined);
  assert.equal(m.rtts.length, 2);
  assert.ok(m.phases!.tls! > 0);
  assert.equal(m.cert_expiry, notAfter(good)); // the leaf (30 days) expires before the CA (10 years)
  assert.equal(servers.good!.connections() >= 2, true);
});

test('https by host name sends SNI; server_name overrides it and is what gets verified', async () => {
  const before = servers.good!.sni.length;
  // IPv4 so that /etc/hosts answers: an IPv6 lookup of localhost would go to the machine's DNS server.
  const m = await run(url('good', '/ok', 'localhost'), { pings: 1, preferred_ip_protocol: 'ip4', tls_config: { ca_file: pki.caFile } });
  assert.equal(m.error, undefined);
  assert.equal(servers.good!.sni[before], 'localhost');
  const other = await run(url('good'), { pings: 1, tls_config: { ca_file: pki.caFile, server_name: 'probe.test' } });
  assert.equal(servers.good!.sni.at(-1), 'probe.test');
  assert.match(other.error ?? '', /certificate is not valid for this host name/);
});

test('an untrusted CA fails; insecure_skip_verify accepts it', async () => {
  const m = await run(url('good'), { pings: 1 });
  assert.match(m.error ?? '', /^TLS handshake with 127\.0\.0\.1:\d+: certificate signed by unknown authority$/);
  const self = await run(url('self'), { pings: 1 });
  assert.match(self.error ?? '', /self-signed/);
  const skip = await run(url('self'), { pings: 2, tls_config: { insecure_skip_verify: true } });
  assert.equal(skip.error, undefined);
  assert.equal(skip.rtts.length, 2);
  assert.equal(skip.cert_expiry, notAfter(selfSigned));
});

test('a certificate expiring soon still passes and reports its expiry', async () => {
  const m = await run(url('soon'), { pings: 1, tls_config: { ca_file: pki.caFile } });
  assert.equal(m.error, undefined);
  assert.equal(m.cert_expiry, notAfter(soon));
  const left = m.cert_expiry! - Date.now() / 1000;
  assert.ok(left > 0 && left <= 2 * 86400 + 60, `expires in ${left} s`);
});

test('an expired certificate fails as "certificate expired" and still reports when it expired', async () => {
  const m = await run(url('expired'), { pings: 2, tls_config: { ca_file: pki.caFile } });
  assert.equal(m.rtts.length, 0);
  assert.match(m.error ?? '', /: certificate expired$/);
  assert.equal(m.cert_expiry, notAfter(expired));
  assert.ok(m.cert_expiry! < Date.now() / 1000);
  const skip = await run(url('expired'), { pings: 1, tls_config: { ca_file: pki.caFile, insecure_skip_verify: true } });
  assert.equal(skip.error, undefined);
  assert.equal(skip.cert_expiry, notAfter(expired));
});

test('fail_if_ssl on an https target; https over IPv6 ::1', async () => {
  const m = await run(url('good'), { pings: 1, fail_if_ssl: true, tls_config: { ca_file: pki.caFile } });
  assert.equal(m.error, 'TLS used and fail_if_ssl is set');
  assert.equal(m.status, 200);
  const v6 = await run(`https://[::1]:${servers.good6!.port}/ok`, { pings: 1, fail_if_not_ssl: true, tls_config: { ca_file: pki.caFile } });
  assert.equal(v6.error, undefined);
});

test('client certificate from cert_file/key_file', async () => {
  const client = pki.issue('client', 30);
  const n = servers.mtls!.clientAuthorized.length;
  const m = await run(url('mtls'), { pings: 1, tls_config: { ca_file: pki.caFile, cert_file: client.certFile, key_file: client.keyFile } });
  assert.equal(m.error, undefined);
  assert.deepEqual(servers.mtls!.clientAuthorized.slice(n), [true]);
  const without = await run(url('mtls'), { pings: 1, tls_config: { ca_file: pki.caFile } });
  assert.equal(without.error, undefined);
  assert.deepEqual(servers.mtls!.clientAuthorized.slice(n + 1), [false]);
});

test('tls_config files that cannot be read or used are clear errors', async () => {
  const missing = await run(url('good'), { pings: 2, tls_config: { ca_file: '/nonexistent/ca.pem' } });
  assert.equal(missing.sent, 2);
  assert.match(missing.error ?? '', /^cannot read tls_config\.ca_file "\/nonexistent\/ca\.pem": /);
  const half = await run(url('good'), { pings: 1, tls_config: { cert_file: good.certFile } });
  assert.match(half.error ?? '', /cert_file and key_file must be set together/);
  const notPem = await run(url('good'), { pings: 1, tls_config: { cert_file: pki.caFile, key_file: good.certFile } });
  assert.match(notPem.error ?? '', /^tls_config: cannot use the given PEM files/);
});

test('redirect from https to http and back is followed with phases summed', async () => {
  const m = await run(url('good', '/redirect/2'), { pings: 1, tls_config: { ca_file: pki.caFile } });
  assert.equal(m.error, undefined);
  assert.equal(m.status, 200);
  assert.deepEqual(servers.good!.paths.slice(-3), ['/redirect/2', '/redirect/1', '/ok']);
});
