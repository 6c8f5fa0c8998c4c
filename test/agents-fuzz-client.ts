// Child process of agents-fuzz.test.ts: sends mutated agent payloads (validly signed requests
// with mutated bodies) to a real server and prints one JSON line per answer. Its own process, so
// that generating, compressing and signing payloads does not count in the server's event loop.
// argv: base URL, agent name, secret, count, seed, first round time (ms)
import { gzipSync } from 'node:zlib';
import { Agent, request } from 'undici';
import { signRequest } from '../src/auth/signing.ts';
import { makeRound, type Round } from '../src/probes/round.ts';
import { prng } from './fixtures/prng.ts';

const [base, agent, secret, countArg, seedArg, t0Arg] = process.argv.slice(2) as [string, string, string, string, string, string];
const COUNT = Number(countArg);
const T0 = Number(t0Arg);
/** Reproducible from the printed seed. */
const rand = prng(Number(seedArg));
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
const int = (n: number) => Math.floor(rand() * n);

const TARGETS = ['/f/t1', '/f/t2'];
const FIELDS = ['target', 'agent', 'probe', 'time', 'step', 'sent', 'rtts', 'loss', 'median', 'mean', 'stddev', 'min', 'max', 'phases', 'status', 'error', 'cert_expiry'];
const deep = (n: number, leaf: unknown = 1): unknown => { let v = leaf; for (let i = 0; i < n; i++) v = rand() < 0.5 ? [v] : { a: v }; return v; };
const WEIRD: Array<() => unknown> = [
  () => null, () => true, () => 'NaN', () => 'Infinity', () => '-Infinity', () => '1e999', () => '0x10', () => '1_000',
  () => 1e308, () => -1e308, () => 1e15, () => 2 ** 53 + 2, () => -1, () => 1.5, () => -0, () => 0, () => '',
  () => 'x'.repeat(pick([513, 5000, 100_000, 1_000_000])), () => [], () => ({}), () => deep(int(30) + 1),
  () => JSON.parse('{"__proto__":{"polluted":1},"constructor":{"prototype":{"p":1}}}'),
  () => '\ud800\u0000\uffff', () => Array.from({ length: 2000 }, () => rand() * 100), () => ({ toString: 'x', valueOf: 1 }),
];

let serial = 0;
/** A valid round of this agent's plan, with a time no other request uses. */
function validRound(): Round {
  const i = serial++;
  const n = 1 + int(20);
  const r = makeRound({ target: pick(TARGETS), agent, probe: pick(['tcp', 'http', 'icmp', 'dns'] as const), time: T0 + i * 7, step: 1 + int(86_400) },
    { sent: n + int(3), rtts: Array.from({ length: n }, () => rand() * 1000) });
  if (rand() < 0.3) Object.assign(r, { phases: { connect: rand() * 10, tls: rand() * 5 }, status: int(600), error: 'e'.repeat(int(600)) });
  if (r.error && r.error.length > 512) r.error = r.error.slice(0, 512);
  return r;
}

/** One mutation of a round (or a valid one). */
function mutateRound(): unknown {
  const r = validRound() as unknown as Record<string, unknown>;
  switch (int(9)) {
    case 0: return r; // control: valid
    case 1: r[pick(FIELDS)] = pick(WEIRD)(); return r;
    case 2: delete r[pick(FIELDS)]; return r;
    case 3: { // sizes
      const which = int(5);
      if (which === 0) { const n = pick([1001, 5000, 100_000]); r.rtts = Array.from({ length: n }, (_, k) => k / 10); r.sent = n; r.loss = 0; }
      else if (which === 1) r.error = 'x'.repeat(pick([513, 100_000, 1_000_000]));
      else if (which === 2) r.phases = Object.fromEntries(Array.from({ length: pick([17, 10_000]) }, (_, k) => [`p${k}`, 1]));
      else if (which === 3) r.phases = { ['n'.repeat(pick([33, 5000]))]: 1 };
      else r.target = '/' + 'a'.repeat(pick([1024, 100_000]));
      return r;
    }
    case 4: r[pick(['sent', 'step', 'time', 'status', 'cert_expiry', 'loss'])] = pick([1e15, 1e300, -1, 1.5, Number.MAX_SAFE_INTEGER + 2]); return r;
    case 5: r.rtts = [...(r.rtts as number[])].reverse().concat([pick([-1, 3_600_001, 0.5])]); return r;
    case 6: r.time = pick([T0 - 30 * 86_400_000, Date.now() + 3_600_000, 0, -5]); return r;
    case 7: r.agent = pick(['other', '', agent + 'x']); return r;
    default: r.target = pick(['/f/not-in-plan', 'f/t1', '/f/t1\u0000', '/']); return r;
  }
}

/** `encode`: the client gzips `body`; `gzipHeader`: the request says content-encoding: gzip. */
const bombs = new Map<number, Buffer>();
/** gzip of `mib` MiB of spaces (about 1/1000 of it), made once. */
function bomb(mib: number): Buffer {
  if (!bombs.has(mib)) bombs.set(mib, gzipSync(Buffer.alloc(mib * 1024 * 1024, 0x20)));
  return bombs.get(mib)!;
}

interface Payload { kind: string; path: string; body: Buffer; encode: boolean; gzipHeader: boolean }

function payload(i: number): Payload {
  const path = '/api/v1/agent/rounds';
  const json = (v: unknown) => Buffer.from(JSON.stringify(v));
  const roll = int(100);
  if (roll < 55) {
    const rounds = Array.from({ length: 1 + int(8) }, mutateRound);
    return { kind: 'rounds', path, body: json({ rounds }), encode: true, gzipHeader: true };
  }
  if (roll < 62) { // byte-level damage of a valid body
    const text = Buffer.from(JSON.stringify({ rounds: [validRound(), validRound()] }));
    for (let k = 0; k < 1 + int(4); k++) {
      const at = int(text.length);
      const op = int(3);
      if (op === 0) text[at] = int(256);
      else if (op === 1) text[at] = pick([0x5b, 0x7b, 0x22, 0x2c, 0x3a, 0x5c]);
      else text[at] = 0x20;
    }
    return { kind: 'bytes', path, body: rand() < 0.3 ? text.subarray(0, int(text.length)) : text, encode: true, gzipHeader: true };
  }
  if (roll < 72) {
    const shapes: Array<() => unknown> = [
      () => [], () => null, () => 'rounds', () => ({ rounds: {} }), () => ({ rounds: 'x' }), () => ({}), () => ({ rounds: [], extra: deep(20) }),
      () => ({ rounds: Array.from({ length: 20_001 }, () => 1) }), () => ({ rounds: deep(40) }), () => deep(1000),
      () => ({ rounds: Array.from({ length: 50 }, () => pick(WEIRD)()) }),
    ];
    const plain = rand() < 0.2;
    return { kind: 'shape', path, body: json(pick(shapes)()), encode: !plain, gzipHeader: !plain };
  }
  if (roll < 78) { // compression-level damage
    const good = gzipSync(JSON.stringify({ rounds: [validRound()] }));
    const variants = [
      { body: good.subarray(0, int(good.length)), gzipHeader: true },
      { body: Buffer.from(JSON.stringify({ rounds: [validRound()] })), gzipHeader: true },
      { body: bomb(pick([9, 64])), gzipHeader: true },
      { body: Buffer.alloc(0), gzipHeader: int(2) === 0 },
    ];
    const v = pick(variants);
    return { kind: 'compression', path, body: v.body, encode: false, gzipHeader: v.gzipHeader };
  }
  if (roll < 88) { // heartbeat mutations
    const hb: Record<string, unknown> = { version: 'fuzz', labels: {}, addresses: {}, spool: { backlog: 0, bytes: 0, dropped: 0 }, started_at: 1 };
    const k = pick(['version', 'labels', 'addresses', 'spool', 'started_at', 'region', 'plan_version', 'extra']);
    hb[k] = pick(WEIRD)();
    if (rand() < 0.3) hb.labels = Object.fromEntries(Array.from({ length: 3000 }, (_, n) => [`k${n}`, 'v']));
    return { kind: 'heartbeat', path: '/api/v1/agent/heartbeat', body: json(hb), encode: true, gzipHeader: true };
  }
  // A batch of valid rounds with a few bad ones mixed in.
  const rounds = Array.from({ length: 20 + int(200) }, () => (rand() < 0.9 ? validRound() : mutateRound()));
  return { kind: 'mixed', path, body: json({ rounds }), encode: true, gzipHeader: true };
}

const dispatcher = new Agent({ connections: 4, bodyTimeout: 60_000, headersTimeout: 60_000 });

async function send(path: string, raw: Buffer, encode: boolean, gzipHeader = encode): Promise<{ status: number; text: string }> {
  const body = encode ? gzipSync(raw) : raw;
  const headers: Record<string, string> = { ...signRequest({ agent, secret, method: 'POST', path, body }), 'content-type': 'application/json' };
  if (gzipHeader) headers['content-encoding'] = 'gzip';
  const res = await request(base + path, { method: 'POST', headers, body, dispatcher });
  return { status: res.statusCode, text: await res.body.text() };
}

// The server must know the agent first (428 otherwise).
const hello = await send('/api/v1/agent/heartbeat', Buffer.from(JSON.stringify({ version: 'fuzz', labels: {}, addresses: {}, spool: { backlog: 0, bytes: 0, dropped: 0 }, started_at: 1 })), true);
if (hello.status !== 200) throw new Error(`heartbeat: ${hello.status} ${hello.text}`);

let next = 0;
async function worker(): Promise<void> {
  while (next < COUNT) {
    const i = next++;
    const p = payload(i);
    let status: number;
    let text: string;
    try {
      ({ status, text } = await send(p.path, p.body, p.encode, p.gzipHeader));
    } catch (e) {
      status = -1;
      text = String(e);
    }
    // What was sent, as far as the server could read it, to know which rounds an answer acknowledged.
    let sent: { target?: unknown; time?: unknown }[] | undefined;
    if (p.path.endsWith('/rounds')) {
      try {
        const parsed = JSON.parse(p.body.toString('utf8')) as { rounds?: unknown };
        if (Array.isArray(parsed?.rounds)) sent = (parsed.rounds as ({ target?: unknown; time?: unknown } | null)[]).map((r) => ({ target: r?.target, time: r?.time }));
      } catch { /* not JSON: nothing can have been stored */ }
    }
    let answer: { code?: string; error?: string; accepted?: number; rejected?: { index: number; error: string }[] } | undefined;
    try {
      answer = JSON.parse(text) as typeof answer;
    } catch {
      answer = undefined; // reported as not JSON
    }
    const reply = answer && {
      ...(answer.code ? { code: answer.code } : {}),
      ...(answer.error !== undefined ? { error: String(answer.error).slice(0, 300) } : {}),
      ...(answer.accepted !== undefined ? { accepted: answer.accepted } : {}),
      ...(answer.rejected ? { rejected: answer.rejected.map((x) => ({ index: x.index, error: String(x.error).slice(0, 300) })) } : {}),
    };
    process.stdout.write(JSON.stringify({ i, kind: p.kind, path: p.path, status, reply, raw: answer ? undefined : text.slice(0, 300), sent: sent?.map((r) => (typeof r.target === 'string' && r.target.length < 100 ? [r.target, r.time] : null)) }) + '\n');
  }
}
await Promise.all([worker(), worker(), worker(), worker()]);
await dispatcher.close();
