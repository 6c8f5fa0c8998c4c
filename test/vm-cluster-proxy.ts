/**
 * A stand-in for a VictoriaMetrics cluster's vminsert and vmselect in front of a single node
 * (Debian ships no cluster binaries), run as its own process by test/vm-cluster-kit.ts so
 * that the store's synchronous reads (Atomics.wait on the test's main thread) cannot block it.
 *
 * Argv: the single node's URL and the one tenant accepted. Three listeners on 127.0.0.1:
 * - "vminsert": POST /insert/<tenant>/prometheus/api/v1/import → /api/v1/import;
 * - "vmselect": /select/<tenant>/prometheus/api/v1/{query,query_range,export,series} →
 *   /api/v1/…, and /delete/<tenant>/prometheus/api/v1/admin/tsdb/delete_series →
 *   /api/v1/admin/tsdb/delete_series;
 * - control: GET /state (what was seen and refused), POST /partial?on=1|0.
 * Anything else on vminsert or vmselect (another path, another tenant, a single node's path)
 * is answered 400 and recorded. With partial on, the JSON reads (query, query_range, series)
 * answer as a vmselect missing vmstorage nodes does: every second series dropped and
 * `"isPartial": true`. Prints `{"insert":port,"select":port,"control":port}` once listening.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

const [vm, tenant] = process.argv.slice(2) as [string, string];
const state = {
  partial: false,
  /** Requests answered 400 (method and URL). */
  refused: [] as string[],
  /** Forwarded requests by single-node path. */
  seen: {} as Record<string, number>,
  /** Reads of vmselect that did not ask deny_partial_response=1. */
  withoutDeny: 0,
};

const SELECT = new RegExp(`^/select/${escape(tenant)}/prometheus(/api/v1/(?:query|query_range|export|series))$`);
const DELETE = `/delete/${tenant}/prometheus/api/v1/admin/tsdb/delete_series`;
const INSERT = `/insert/${tenant}/prometheus/api/v1/import`;

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function body(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function refuse(req: IncomingMessage, res: ServerResponse): void {
  state.refused.push(`${req.method} ${req.url}`);
  res.writeHead(400, { 'content-type': 'text/plain' }).end(`unsupported path requested: ${req.url}`);
}

/** Forwards to the single node's `path` (the query string kept); returns its answer. */
async function forward(req: IncomingMessage, path: string, payload: Buffer): Promise<{ status: number; type: string; text: Buffer }> {
  const q = req.url!.indexOf('?');
  const r = await fetch(`${vm}${path}${q >= 0 ? req.url!.slice(q) : ''}`, {
    method: req.method,
    ...(req.method === 'GET' || req.method === 'HEAD' ? {} : { body: new Uint8Array(payload) }),
    headers: { 'content-type': req.headers['content-type'] ?? 'application/octet-stream' },
  });
  state.seen[path] = (state.seen[path] ?? 0) + 1;
  return { status: r.status, type: r.headers.get('content-type') ?? 'application/octet-stream', text: Buffer.from(await r.arrayBuffer()) };
}

/** A vmselect answer missing half of its series, marked partial. */
function partialOf(path: string, text: Buffer): Buffer {
  const a = JSON.parse(text.toString()) as { status: string; data: unknown; isPartial?: boolean };
  if (a.status !== 'success') return text;
  const half = <T>(l: T[]) => l.filter((_, i) => i % 2 === 1);
  if (path === '/api/v1/series') a.data = half(a.data as unknown[]);
  else (a.data as { result: unknown[] }).result = half((a.data as { result: unknown[] }).result);
  a.isPartial = true;
  return Buffer.from(JSON.stringify(a));
}

function serve(handler: (req: IncomingMessage, res: ServerResponse) => Promise<void>): Promise<number> {
  const server = createServer((req, res) => {
    handler(req, res).catch((e: unknown) => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`proxy: ${String(e)}`);
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

const insert = await serve(async (req, res) => {
  const path = req.url!.split('?')[0];
  if (req.method !== 'POST' || path !== INSERT) return refuse(req, res);
  const a = await forward(req, '/api/v1/import', await body(req));
  res.writeHead(a.status, { 'content-type': a.type }).end(a.text);
});

const select = await serve(async (req, res) => {
  const path = req.url!.split('?')[0]!;
  const m = SELECT.exec(path);
  const target = m ? m[1]! : path === DELETE ? '/api/v1/admin/tsdb/delete_series' : undefined;
  if (!target) return refuse(req, res);
  const payload = await body(req);
  if (m) {
    const q = req.url!.indexOf('?');
    const args = new URLSearchParams(`${q >= 0 ? req.url!.slice(q + 1) : ''}&${payload.toString()}`);
    if (args.get('deny_partial_response') !== '1') state.withoutDeny++;
  }
  const a = await forward(req, target, payload);
  const json = target === '/api/v1/query' || target === '/api/v1/query_range' || target === '/api/v1/series';
  res.writeHead(a.status, { 'content-type': a.type }).end(state.partial && json && a.status === 200 ? partialOf(target, a.text) : a.text);
});

const control = await serve(async (req, res) => {
  const url = new URL(req.url!, 'http://control');
  if (url.pathname === '/state') return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(state));
  if (req.method === 'POST' && url.pathname === '/partial') {
    state.partial = url.searchParams.get('on') === '1';
    return void res.writeHead(204).end();
  }
  res.writeHead(404).end();
});

process.stdout.write(`${JSON.stringify({ insert, select, control })}\n`);
