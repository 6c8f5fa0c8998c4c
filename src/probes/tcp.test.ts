import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { connectOnce, tcpProbe } from './tcp.ts';
import { TcpParamsSchema, type TcpParams } from './params.ts';
import { ABORTED } from './net-round.ts';
import { paramsFor } from '../../test/fixtures/probes/params.ts';
import { UNRESOLVABLE } from '../../test/fixtures/names.ts';

async function listen(host: string): Promise<{ server: Server; port: number; accepted: () => number }> {
  let n = 0;
  const server = createServer((s) => { n++; s.destroy(); });
  await new Promise<void>((r) => server.listen(0, host, r));
  return { server, port: (server.address() as { port: number }).port, accepted: () => n };
}

async function closedPort(): Promise<number> {
  const { server, port } = await listen('127.0.0.1');
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

async function run(host: string, params: Record<string, unknown>, signal = new AbortController().signal) {
  const p = paramsFor<TcpParams>(TcpParamsSchema, params);
  const [m] = await tcpProbe.measure([{ path: '/t', host, params: p }], signal);
  return m!;
}

test('tcp connects to a local listener once per ping and times each connect', async () => {
  const l = await listen('127.0.0.1');
  try {
    const m = await run('127.0.0.1', { port: l.port, pings: 5 });
    assert.equal(m.error, undefined);
    assert.equal(m.sent, 5);
    assert.equal(m.rtts.length, 5);
    assert.ok(m.rtts.every((r) => r > 0));
    // The server saw every connection (wait for the last accept event, bounded).
    const deadline = Date.now() + 5000;
    while (l.accepted() < 5 && Date.now() < deadline) await new Promise((r) => setImmediate(r));
    assert.equal(l.accepted(), 5);
  } finally { l.server.close(); }
});

test('tcp over IPv6 ::1, via a host name, and the ip6/ip4 fallback rules', async () => {
  const l6 = await listen('::1');
  const l4 = await listen('127.0.0.1');
  try {
    const m6 = await run('::1', { port: l6.port });
    assert.equal(m6.rtts.length, 3, m6.error);
    // By name: asked for IPv4 so that /etc/hosts answers it. An IPv6 lookup of a name that
    // /etc/hosts maps to IPv4 only would go out to the machine's DNS server, which tests must not
    // reach. The ip6 → ip4 fallback itself is checked with literals below.
    const byName = await run('localhost', { port: l4.port, preferred_ip_protocol: 'ip4' });
    assert.equal(byName.rtts.length, 3, byName.error);
    const noFallback = await run('127.0.0.1', { port: l4.port, preferred_ip_protocol: 'ip6', ip_protocol_fallback: false });
    assert.equal(noFallback.rtts.length, 0);
    assert.match(noFallback.error ?? '', /not IPv6 and ip_protocol_fallback is off/);
  } finally { l6.server.close(); l4.server.close(); }
});

test('a closed port is "connection refused" and every ping is lost', async () => {
  const port = await closedPort();
  const m = await run('127.0.0.1', { port, pings: 3 });
  assert.equal(m.sent, 3);
  assert.equal(m.rtts.length, 0);
  assert.equal(m.error, `connect to 127.0.0.1:${port}: connection refused`);
});

test('an unresolvable host is a clear error with every ping lost', async () => {
  const m = await run(UNRESOLVABLE, { port: 80, pings: 4 });
  assert.equal(m.sent, 4);
  assert.equal(m.rtts.length, 0);
  assert.match(m.error ?? '', new RegExp(`^cannot resolve "${UNRESOLVABLE}": `));
});

test('a connect that never completes times out with a clear reason', async () => {
  // A listener that never accepts, with a backlog of 0: once its accept queue is full the
  // kernel drops further SYNs, so the probe's connect hangs until its timeout.
  const py = spawn('python3', ['-c', [
    'import socket,sys',
    's=socket.socket(); s.bind(("127.0.0.1",0)); s.listen(0)',
    'print(s.getsockname()[1], flush=True)',
    'sys.stdin.read()',
  ].join('\n')], { stdio: ['pipe', 'pipe', 'inherit'], shell: false });
  const fillers: Socket[] = [];
  try {
    const port = Number(await new Promise<string>((r) => py.stdout!.once('data', (d: Buffer) => r(d.toString()))));
    // Fill the accept queue: connect until a connect does not complete within 500 ms.
    for (let i = 0; i < 8; i++) {
      const s = connect({ host: '127.0.0.1', port });
      s.on('error', () => {});
      fillers.push(s);
      const ok = await new Promise<boolean>((r) => { s.once('connect', () => r(true)); setTimeout(() => r(false), 500); });
      if (!ok) break;
    }
    const m = await run('127.0.0.1', { port, pings: 2, timeout: 300 });
    assert.equal(m.sent, 2);
    assert.equal(m.rtts.length, 0);
    assert.equal(m.error, `connect to 127.0.0.1:${port}: timeout after 300 ms`);
  } finally {
    for (const s of fillers) s.destroy();
    py.stdin!.end();
  }
});

test('aborting the round ends it promptly', async () => {
  const l = await listen('127.0.0.1');
  const ctl = new AbortController();
  l.server.once('connection', () => ctl.abort());
  try {
    const m = await run('127.0.0.1', { port: l.port, pings: 10, interval: 60000 }, ctl.signal);
    // Without the abort this round would last 9 minutes (interval 60 s).
    assert.equal(m.error, ABORTED);
    assert.ok(m.sent <= 1, `sent ${m.sent}`);
  } finally { l.server.close(); }
});

test('50 connects at once on one round signal: no MaxListenersExceededWarning (every attempt listens on it, and stops when done)', async () => {
  const warnings: string[] = [];
  const onWarning = (w: Error): void => { warnings.push(w.name); };
  process.on('warning', onWarning);
  const { server, port } = await listen('127.0.0.1');
  try {
    const round = new AbortController();
    const out = await Promise.all(Array.from({ length: 50 }, () => connectOnce('127.0.0.1', 4, port, 5000, round.signal)));
    assert.equal(out.filter((o) => o.ok).length, 50);
    // Warnings are emitted on the next tick.
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(warnings, []);
  } finally {
    process.off('warning', onWarning);
    server.close();
  }
});
