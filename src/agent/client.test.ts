import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { AgentClient, AgentRequestError, movesToNextServer, parseServerList } from './client.ts';

test('--server takes one URL or a comma-separated list; a bad entry is named', () => {
  assert.deepEqual(parseServerList('http://127.0.0.1:1').map(String), ['http://127.0.0.1:1/']);
  assert.deepEqual(parseServerList('http://127.0.0.1:1, https://127.0.0.2:2').map((u) => u.origin), ['http://127.0.0.1:1', 'https://127.0.0.2:2']);
  assert.throws(() => parseServerList('http://127.0.0.1:1,nope'), /--server "nope" is not a URL/);
  assert.throws(() => parseServerList('http://127.0.0.1:1,,http://127.0.0.1:2'), /an empty entry/);
  assert.throws(() => parseServerList('ftp://127.0.0.1'), /only http: and https:/);
  assert.throws(() => parseServerList('http://127.0.0.1:1,http://127.0.0.1:1'), /listed twice/);
});

test('unreachable, timed-out and 5xx move to the next server; a 4xx does not', () => {
  assert.equal(movesToNextServer(new AgentRequestError(0, 'ECONNREFUSED', 'x')), true);
  assert.equal(movesToNextServer(new AgentRequestError(0, 'UND_ERR_HEADERS_TIMEOUT', 'x')), true);
  assert.equal(movesToNextServer(new AgentRequestError(500, 'HTTP_500', 'x')), true);
  assert.equal(movesToNextServer(new AgentRequestError(503, 'SMOKEMESH_E_UNAVAILABLE', 'x')), true);
  assert.equal(movesToNextServer(new AgentRequestError(401, 'SMOKEMESH_E_AUTH', 'x')), false);
  assert.equal(movesToNextServer(new AgentRequestError(413, 'HTTP_413', 'x')), false);
  assert.equal(movesToNextServer(new Error('x')), false);
});

/** A real HTTP server on loopback answering every request with `status` (or never, with 0). */
async function serve(status: number, hits: string[], name: string): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    hits.push(name);
    if (status === 0) return; // hangs: the client's timeout ends it
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(status < 400 ? { ok: name } : { code: `E${status}`, error: `${name} says ${status}` }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, server };
}

test('a request moves past a refusing, a failing and a hanging server, then stays on the one that answered', async () => {
  const hits: string[] = [];
  const closed = await serve(200, hits, 'closed');
  await new Promise((r) => closed.server.close(r)); // its port now refuses connections
  const failing = await serve(502, hits, 'failing');
  const hanging = await serve(0, hits, 'hanging');
  const good = await serve(200, hits, 'good');
  const switches: string[] = [];
  const client = new AgentClient({
    server: [closed.url, failing.url, hanging.url, good.url].join(','), agent: 'a', secret: 's'.repeat(32),
    onSwitch: (from, to) => switches.push(`${from}→${to}`),
  });
  try {
    const r = await client.call<{ ok: string }>('GET', '/x', { timeoutMs: 300 });
    assert.deepEqual(r.body, { ok: 'good' });
    assert.deepEqual(hits, ['failing', 'hanging', 'good']);
    assert.equal(client.server, good.url);
    assert.deepEqual(switches, [`${closed.url}→${good.url}`]);
    await client.call('GET', '/y', { timeoutMs: 300 });
    assert.deepEqual(hits, ['failing', 'hanging', 'good', 'good'], 'the next request goes straight to the server that answered');
  } finally {
    await client.close();
    for (const s of [failing, hanging, good]) {
      s.server.closeAllConnections();
      await new Promise((r) => s.server.close(r));
    }
  }
});

test('a 4xx answer is returned as is, without trying the other servers; when every server fails, the last failure is thrown', async () => {
  const hits: string[] = [];
  const refusing = await serve(401, hits, 'refusing');
  const other = await serve(200, hits, 'other');
  const client = new AgentClient({ server: `${refusing.url},${other.url}`, agent: 'a', secret: 's'.repeat(32) });
  const down1 = await serve(503, hits, 'down1');
  const down2 = await serve(500, hits, 'down2');
  const allDown = new AgentClient({ server: `${down1.url},${down2.url}`, agent: 'a', secret: 's'.repeat(32) });
  try {
    await assert.rejects(client.call('GET', '/x'), (e: AgentRequestError) => e.status === 401);
    assert.deepEqual(hits, ['refusing']);
    await assert.rejects(allDown.call('POST', '/x', { json: { a: 1 } }), (e: AgentRequestError) => e.status === 500 && /down2 says 500/.test(e.message));
    assert.deepEqual(hits, ['refusing', 'down1', 'down2']);
  } finally {
    await client.close();
    await allDown.close();
    for (const s of [refusing, other, down1, down2]) await new Promise((r) => s.server.close(r));
  }
});

test('prefer(): moves to a listed server a cluster names, never to one not listed, nor back to one that just failed', async () => {
  const hits: string[] = [];
  const a = await serve(200, hits, 'a');
  const b = await serve(200, hits, 'b');
  const c = await serve(502, hits, 'c');
  const client = new AgentClient({ server: `${a.url},${b.url}/,${c.url}`, agent: 'a', secret: 's'.repeat(32) });
  try {
    assert.equal(client.prefer('http://127.0.0.9:1'), false, 'not in the list');
    assert.equal(client.prefer('not a url'), false);
    assert.equal(client.prefer(a.url), false, 'already there');
    assert.equal(client.prefer(b.url), true, 'listed with a trailing slash, named without');
    await client.call('GET', '/x');
    assert.deepEqual(hits, ['b']);
    assert.equal(client.prefer(`${c.url}/`), true);
    await client.call('GET', '/y');
    assert.deepEqual(hits, ['b', 'c', 'a'], 'c fails: the request moves on to a');
    assert.equal(client.server, a.url);
    assert.equal(client.prefer(c.url), false, 'c failed a moment ago');
    assert.equal(client.prefer(b.url), true);
  } finally {
    await client.close();
    for (const s of [a, b, c]) {
      s.server.closeAllConnections();
      await new Promise((r) => s.server.close(r));
    }
  }
});
