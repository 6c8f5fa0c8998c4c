import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { httpProbe } from './http.ts';
import { HttpParamsSchema, type HttpParams } from './params.ts';
import { ABORTED } from './net-round.ts';
import { HTTP_PHASES } from './round.ts';
import { paramsFor } from '../../test/fixtures/probes/params.ts';
import { httpServer, type TestServer } from '../../test/fixtures/probes/http-server.ts';
import { UNRESOLVABLE } from '../../test/fixtures/names.ts';

let srv: TestServer;
let srv6: TestServer;
before(async () => { srv = await httpServer('127.0.0.1'); srv6 = await httpServer('::1'); });
after(async () => { await srv?.close(); await srv6?.close(); });

async function run(url: string, params: Record<string, unknown> = {}, signal = new AbortController().signal, unchecked: Partial<HttpParams> = {}) {
  const p = { ...paramsFor<HttpParams>(HttpParamsSchema, params), ...unchecked };
  const [m] = await httpProbe.measure([{ path: '/t', host: url, params: p }], signal);
  return m!;
}
const at = (path: string): string => `http://127.0.0.1:${srv.port}${path}`;

test('a 200 answer: every attempt on a fresh connection, all five phases, rtt = total time', async () => {
  const before = srv.connections();
  const m = await run(at('/ok'), { pings: 3 });
  assert.equal(m.error, undefined);
  assert.equal(m.sent, 3);
  assert.equal(m.rtts.length, 3);
  assert.equal(m.status, 200);
  assert.equal(srv.connections() - before, 3);
  assert.deepEqual(Object.keys(m.phases ?? {}).sort(), [...HTTP_PHASES].sort());
  assert.equal(m.phases!.tls, 0);
  assert.ok(m.phases!.connect! > 0 && m.phases!.processing! > 0);
  // The phases are parts of the attempt, so their mean sum cannot exceed the mean RTT.
  const meanRtt = m.rtts.reduce((a, b) => a + b, 0) / m.rtts.length;
  const sum = HTTP_PHASES.reduce((a, k) => a + m.phases![k]!, 0);
  assert.ok(sum <= meanRtt + 0.01, `phases ${sum} > rtt ${meanRtt}`);
});

test('status codes: 2xx by default, valid_status_codes otherwise', async () => {
  const bad = await run(at('/status/500'));
  assert.equal(bad.rtts.length, 0);
  assert.equal(bad.status, 500);
  assert.equal(bad.error, 'status 500 not in valid_status_codes [2xx]');
  assert.equal(bad.phases, undefined);
  assert.equal((await run(at('/status/204'))).rtts.length, 3);
  assert.equal((await run(at('/status/500'), { valid_status_codes: [500, 503] })).rtts.length, 3);
  const notListed = await run(at('/status/200'), { valid_status_codes: [201] });
  assert.equal(notListed.error, 'status 200 not in valid_status_codes [201]');
});

test('redirects are followed on fresh connections, or judged as they are', async () => {
  let c0 = srv.connections();
  const followed = await run(at('/redirect/3'), { pings: 2 });
  assert.equal(followed.error, undefined);
  assert.equal(followed.status, 200);
  assert.equal(srv.connections() - c0, 8, 'four hops per attempt');

  const notFollowed = await run(at('/redirect/3'), { follow_redirects: false });
  assert.equal(notFollowed.status, 302);
  assert.equal(notFollowed.error, 'status 302 not in valid_status_codes [2xx]');
  assert.equal((await run(at('/redirect/3'), { follow_redirects: false, valid_status_codes: [302] })).rtts.length, 3);

  c0 = srv.connections();
  const loop = await run(at('/loop'), { pings: 1 });
  assert.equal(loop.status, 302);
  assert.match(loop.error ?? '', /status 302 not in valid_status_codes/);
  assert.equal(srv.connections() - c0, 11, 'the first request and 10 redirects');
});

test('body regexps', async () => {
  const matched = await run(at('/ok'), { fail_if_body_matches_regexp: ['smoke'] });
  assert.equal(matched.rtts.length, 0);
  assert.equal(matched.error, 'body matched fail_if_body_matches_regexp smoke');
  const notMatched = await run(at('/ok'), { fail_if_body_not_matches_regexp: ['^nothing'] });
  assert.equal(notMatched.error, 'body did not match fail_if_body_not_matches_regexp ^nothing');
  const ok = await run(at('/ok'), { fail_if_body_not_matches_regexp: ['(?i)^HELLO'], fail_if_body_matches_regexp: ['error'] });
  assert.equal(ok.error, undefined);
  assert.equal(ok.rtts.length, 3);
  // The config refuses it at load (validate.test.ts); a plan that carries one anyway is a clear error.
  const bad = await run(at('/ok'), {}, undefined, { fail_if_body_matches_regexp: ['[a-'] });
  assert.match(bad.error ?? '', /invalid regexp "\[a-" in fail_if_body_matches_regexp/);
});

test('header matchers, with allow_missing', async () => {
  const m1 = await run(at('/ok'), { fail_if_header_matches: [{ header: 'X-Test', regexp: 'alp' }] });
  assert.equal(m1.error, 'header x-test matched fail_if_header_matches regexp alp');
  const m2 = await run(at('/ok'), { fail_if_header_not_matches: [{ header: 'x-test', regexp: 'beta' }] });
  assert.equal(m2.error, 'header x-test did not match fail_if_header_not_matches regexp beta');
  const m3 = await run(at('/ok'), { fail_if_header_not_matches: [{ header: 'X-None', regexp: '.' }] });
  assert.match(m3.error ?? '', /header x-none missing/);
  const m4 = await run(at('/ok'), {
    fail_if_header_not_matches: [{ header: 'X-None', regexp: '.', allow_missing: true }, { header: 'Content-Type', regexp: '^text/plain' }],
    fail_if_header_matches: [{ header: 'X-Test', regexp: 'beta' }],
  });
  assert.equal(m4.error, undefined);
  assert.equal(m4.rtts.length, 3);
});

test('method, headers, body and credentials reach the server; 303 turns POST into GET', async () => {
  const echo = async (extra: Record<string, unknown>, mustMatch: string[]) =>
    run(at('/echo'), { pings: 1, method: 'POST', body: 'ping-body', headers: { 'X-Custom': 'c1' }, ...extra, fail_if_body_not_matches_regexp: mustMatch });
  const basic = await echo({ basic_auth: { username: 'u', password: 'p' } },
    ['"method":"POST"', '"body":"ping-body"', '"x-custom":"c1"', `"authorization":"Basic ${Buffer.from('u:p').toString('base64')}"`, '"connection":"close"']);
  assert.equal(basic.error, undefined);
  const bearer = await echo({ bearer_token: 'tok' }, ['"authorization":"Bearer tok"']);
  assert.equal(bearer.error, undefined);
  const both = await echo({ bearer_token: 'tok', basic_auth: { username: 'u', password: 'p' } }, []);
  assert.match(both.error ?? '', /at most one of basic_auth and bearer_token/);
  const seeOther = await run(at('/see-other'), { pings: 1, method: 'POST', body: 'x', fail_if_body_not_matches_regexp: ['"method":"GET"', '"body":""'] });
  assert.equal(seeOther.error, undefined);
});

test('body_size_limit fails a body that is too large', async () => {
  const m = await run(at('/big'), { body_size_limit: 100 });
  assert.equal(m.rtts.length, 0);
  assert.equal(m.error, 'body exceeds body_size_limit (100 bytes)');
  assert.equal((await run(at('/big'), { body_size_limit: 10000 })).rtts.length, 3);
});

test('a slow server shows in the processing phase', async () => {
  const delay = 150;
  const m = await run(at(`/slow/${delay}`), { pings: 2 });
  assert.equal(m.error, undefined);
  assert.ok(m.phases!.processing! >= delay, `processing ${m.phases!.processing} < ${delay}`);
  assert.ok(m.rtts.every((r) => r >= delay));
});

test('IPv6 ::1 literal URL', async () => {
  const m = await run(`http://[::1]:${srv6.port}/ok`, { pings: 2 });
  assert.equal(m.error, undefined);
  assert.equal(m.rtts.length, 2);
  const only4 = await run(`http://[::1]:${srv6.port}/ok`, { pings: 1, preferred_ip_protocol: 'ip4', ip_protocol_fallback: false });
  assert.match(only4.error ?? '', /not IPv4 and ip_protocol_fallback is off/);
});

test('host names are resolved by us (localhost → 127.0.0.1)', async () => {
  // IPv4 so that /etc/hosts answers: an IPv6 lookup of localhost would go to the machine's DNS server.
  const m = await run(`http://localhost:${srv.port}/ok`, { pings: 1, preferred_ip_protocol: 'ip4' });
  assert.equal(m.error, undefined);
  assert.ok(m.phases!.resolve! > 0);
});

test('fail_if_not_ssl and valid_http_versions', async () => {
  assert.equal((await run(at('/ok'), { fail_if_not_ssl: true })).error, 'TLS not used and fail_if_not_ssl is set');
  assert.equal((await run(at('/ok'), { valid_http_versions: ['HTTP/2.0'] })).error, 'HTTP/1.1 not in valid_http_versions [HTTP/2.0]');
  assert.equal((await run(at('/ok'), { valid_http_versions: ['HTTP/1.1'] })).error, undefined);
});

test('connection refused, unresolvable host and bad URLs are clear errors', async () => {
  const closed = createServer();
  await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
  const port = (closed.address() as { port: number }).port;
  await new Promise<void>((r) => closed.close(() => r()));
  const refused = await run(`http://127.0.0.1:${port}/`, { pings: 2 });
  assert.equal(refused.sent, 2);
  assert.equal(refused.error, `connect to 127.0.0.1:${port}: connection refused`);
  const nx = await run(`http://${UNRESOLVABLE}/`, { pings: 1 });
  assert.match(nx.error ?? '', new RegExp(`^cannot resolve "${UNRESOLVABLE}"`));
  const notUrl = await run('example host', { pings: 2 });
  assert.equal(notUrl.sent, 2);
  assert.match(notUrl.error ?? '', /is not a URL/);
  assert.match((await run('ftp://127.0.0.1/', { pings: 1 })).error ?? '', /unsupported URL scheme ftp:/);
});

test('the per-attempt timeout cuts a slow answer with a clear reason', async () => {
  const m = await run(at('/slow/30000'), { pings: 1, timeout: 300 });
  assert.equal(m.rtts.length, 0);
  assert.equal(m.error, 'timeout after 300 ms waiting for the response');
});

test('aborting the round closes the connection and returns', async () => {
  const ctl = new AbortController();
  const onReq = (): void => ctl.abort();
  srv.server.once('request', onReq);
  const m = await run(at('/slow/60000'), { pings: 3, timeout: 60000 }, ctl.signal);
  assert.equal(m.sent, 0);
  assert.equal(m.error, ABORTED);
});

test('body checks see the first 1 MiB of a larger body, and a failure says so', async () => {
  const head = await run(at('/huge'), { pings: 1, fail_if_body_not_matches_regexp: ['^head'] });
  assert.equal(head.error, undefined);
  const tail = await run(at('/huge'), { pings: 1, fail_if_body_not_matches_regexp: ['tail$'] });
  assert.equal(tail.error, `body did not match fail_if_body_not_matches_regexp tail$ (only the first ${2 ** 20} of ${1.5 * 2 ** 20} bytes were checked)`);
  const limited = await run(at('/huge'), { pings: 1, body_size_limit: 2 ** 20, fail_if_body_matches_regexp: ['head'] });
  assert.match(limited.error ?? '', /body exceeds body_size_limit/, 'body_size_limit still fails the attempt');
});

test('a regexp that backtracks without end in JavaScript is judged at once (RE2)', async () => {
  const m = await run(at('/big'), { pings: 2, fail_if_body_matches_regexp: ['^(x+)+y$'], fail_if_header_matches: [{ header: 'content-type', regexp: '^(t|te)+x+$' }] });
  assert.equal(m.error, undefined);
  assert.equal(m.rtts.length, 2);
});
